// Package taggedjson reads and writes the JSON that Flask keeps in its
// session cookie, byte for byte: the text of
// flask.json.tag.TaggedJSONSerializer.dumps inside an app context, which is
// what Flask's SecureCookieSessionInterface signs (Flask 2.2 and 3.1 write
// identical bytes). Signing, compression and base64 are not done here.
//
// # Type mapping
//
// Values are represented by a small set of Go types, the model. Unmarshal
// returns only these types, and Marshal writes them without reflection.
//
//	Python                      Go model                 JSON (as Flask writes it)
//	--------------------------  -----------------------  -------------------------------------
//	None                        nil                      null
//	bool                        bool                     true, false
//	int                         int64; *big.Int when     7, -3, 18446744073709551617
//	                            outside int64
//	float                       float64                  1.0, 0.1, 1e+16, 1e-05, NaN,
//	                                                     Infinity, -Infinity
//	str                         string                   "caf\u00e9 \ud83d\ude00"
//	list                        []any                    [1,2]
//	dict (str keys)             map[string]any           {"a":1,"b":2}
//	tuple                       Tuple                    {" t":[1,"a"]}
//	bytes                       []byte                   {" b":"AP8Qw6k="}
//	markupsafe.Markup           Markup                   {" m":"<b>x</b>"}
//	uuid.UUID                   UUID                     {" u":"12345678123456781234567812345678"}
//	datetime.datetime           time.Time (UTC, whole    {" d":"Tue, 02 Jan 2024 03:04:05 GMT"}
//	                            seconds)
//	dict whose only key is a    map[string]any           {" di":{" t__":[1,2]}}
//	tag key (here " t")
//
// Marshal and AppendMarshal also take other Go values and convert them with
// Normalize first (integer and float kinds, slices, arrays, maps with string
// or integer keys, pointers, structs through encoding/json, ...). Convert goes
// the other way, from the model into typed Go variables; ConvertTo returns
// the typed value instead, without allocating for the common conversions.
//
// # Writing
//
// Marshal reproduces Python's json.dumps(tag(value), separators=(",", ":"),
// sort_keys=True, ensure_ascii=True, allow_nan=True):
//
//   - No whitespace. Object keys sorted by code point, at every level.
//   - Only ASCII: printable ASCII as is; \" \\ \n \r \t \b \f; every other
//     code point (controls, DEL, U+2028, all non-ASCII) as lower-case \uXXXX,
//     astral ones as a surrogate pair. "/" is not escaped.
//   - Floats exactly as Python's repr (shortest round-trip digits, fixed
//     notation for decimal exponents in (-4, 16], always a ".0" or exponent,
//     two-digit exponents); NaN and the infinities as the bare tokens NaN,
//     Infinity, -Infinity, which are not standard JSON but are what Flask
//     writes and reads. Integers of any size exactly.
//   - Tags in Flask's order: a dict with exactly one key that equals a tag key
//     (" di", " t", " b", " m", " u", " d") is escaped as
//     {" di":{key+"__": value}}; dicts with two or more keys are never
//     escaped, whatever their keys; then tuple, bytes (standard base64 with
//     "+/" and padding), Markup, UUID (32 lower-case hex digits, no dashes),
//     datetime.
//   - Datetimes are converted to UTC and written as an HTTP date (Werkzeug's
//     http_date): a naive Python datetime is taken as UTC, which is what a Go
//     time in time.UTC is; fractions of a second are dropped, not rounded;
//     the year is zero-padded to four digits.
//
// # Reading
//
// Unmarshal is Python's json.loads followed by Flask's untagging, bottom-up:
//
//   - JSON as Python reads it: NaN, Infinity, -Infinity accepted; whitespace
//     is only space, tab, CR, LF; integers exact (more than 4300 digits is an
//     error, as in Python 3.11+); a number with a fraction or exponent is a
//     float64 even when integral, ±Inf when it overflows ("1E400"); duplicate
//     keys: the last value wins; control characters in strings, invalid
//     UTF-8, a byte order mark, trailing commas or data are errors. A \uXXXX
//     escape of a lone surrogate is kept (as 3 bytes of WTF-8) so that
//     Marshal writes it back.
//   - An object with exactly one key that is a tag key is replaced by the
//     tagged value; unknown tags (" x") and tag keys in objects with more
//     keys stay plain maps.
//   - Tags are undone with Python's semantics for whatever value they hold,
//     because that is what decides whether a cookie loads: " t" makes a
//     tuple of a list, of the characters of a string, of the keys of an
//     object (in document order) or of the values of bytes; " b" is
//     base64.b64decode without validation (characters outside the standard
//     alphabet are skipped, "-" and "_" included; missing padding fails); " u"
//     is uuid.UUID(s) (dashes, braces and "urn:uuid:" allowed, upper case
//     too); " m" is Markup(str(v)) for scalars ({" m":5} is Markup("5")); " d"
//     is Werkzeug's parse_date (below), null when the date does not parse;
//     " di" takes the first key of its object and drops the key's last two
//     characters.
//   - Where Flask's loader raises (for example {" t":5}, {" b":"AP8Qw6k"},
//     {" u":"zz"}, {" di":{}}), Unmarshal fails with ErrInvalidTag: Flask
//     answers such a validly signed cookie with HTTP 500.
//   - " d" accepts what email.utils.parsedate_to_datetime accepts, which
//     includes Flask's own form "Tue, 02 Jan 2024 03:04:05 GMT", any or no day
//     name, RFC 850 ("Tuesday, 02-Jan-24 03:04:05 GMT") and asctime ("Tue Jan
//     2 03:04:05 2024") layouts, two-digit years (69-99 → 19xx, otherwise
//     20xx), times without seconds or with "." separators, the zones UT, UTC,
//     GMT, Z, EST/EDT, CST/CDT, MST/MDT, PST/PDT, AST/ADT and ±HHMM offsets
//     (converted to UTC). ISO 8601 is not accepted. Dates Python's datetime
//     rejects (February 30, second 60, offsets of 24 h or more) load as nil;
//     fields too large for a C int fail with ErrInvalidTag (Python raises
//     OverflowError, which Werkzeug does not catch).
//
// UnmarshalObject is the session variant: the payload must make a dict the
// way Flask builds the session, dict(data) or an empty one for None.
//
// # Limits
//
// Arrays and objects may nest DefaultMaxDepth (128) levels, counted in the
// JSON text; deeper input fails with ErrTooDeep and Marshal refuses to write
// deeper output, so the decoder cannot be driven into a stack overflow and
// anything Marshal writes can be read back. Errors carry the offset of the
// problem and never quote more than a few bytes of the input.
//
// # Differences from Flask
//
// They are deliberate and limited to inputs Flask never writes, or to values
// Go and Python represent differently:
//
//   - Nesting: Flask (Python's recursion limit) allows about 1000 levels;
//     this package 128.
//   - {" m": <list, tuple or dict>}: Flask stores Python's repr of the
//     container as the Markup text; Unmarshal fails with ErrInvalidTag,
//     because reproducing repr (quoting rules, Unicode printability, dict
//     order) is not worth it for a payload no Flask application writes.
//   - UnmarshalObject rejects a payload that is a non-empty list of key/value
//     pairs ([["a",1]]), which Python's dict() would accept.
//   - A datetime read with an offset keeps its instant but not its offset:
//     the model holds UTC. Flask writes the same bytes either way.
//   - Maps with integer keys are written with the keys as decimal strings
//     sorted as strings; Python sorts the integers before converting them
//     ({10: "a", 9: "b"} gives {"9":"b","10":"a"} in Flask, {"10":"a","9":"b"}
//     here). Once read back, Flask's keys are strings too and the orders agree.
//   - Go values without a Python counterpart: nil maps and slices are written
//     as {} and [], strings that are not valid UTF-8 (or WTF-8 surrogates)
//     and times outside years 1 to 9999 fail with ErrUnsupportedValue. There
//     is no date-only type (Flask writes datetime.date as a plain HTTP-date
//     string) and no set (Flask fails on sets too).
//   - A high and a low surrogate stored as two separate WTF-8 sequences are
//     written as a surrogate pair and so read back as one astral character,
//     exactly as Python does with such a string; Unmarshal never produces
//     them.
//   - Flask writes a datetime before year 100 with a four-digit year ("0099")
//     and reads it back as a two-digit year (2099); so do we.
package taggedjson
