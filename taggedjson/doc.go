// Package taggedjson reads and writes Flask's session serialization format
// (flask.json.tag.TaggedJSONSerializer, as used inside an app context)
// byte for byte.
package taggedjson
