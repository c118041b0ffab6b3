package flasksession

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/taggedjson"
)

// DefaultOwnerKey is the session-dict key under which Codec keeps a
// record's owner (seshat.Record.UserID).
const DefaultOwnerKey = "_seshat_user"

// Codec converts between seshat records and Flask-Session's records: a
// pickled dict of the session's keys and values. Both stores of this
// package and module flasksessionredis use it; the zero value writes
// protocol 4 with the default owner key and limits.
//
// Values cross over through taggedjson: each dict value is written as
// Flask's tagged JSON for seshat and read back from it, so a tuple stays a
// tuple and bytes stay bytes. "_permanent" is an ordinary key, as in both
// Flask-Session and seshat.
//
// Flask-Session's layout has no owner field. Codec keeps Record.UserID in
// the dict under OwnerKey (a str), where a Flask app sees it as one more
// session key and keeps it when it rewrites the session; a dict without the
// key (or with a non-str value under it) has no owner. The key is reserved:
// a record's owner replaces a value stored under it.
type Codec struct {
	// Protocol is the pickle protocol written: ProtocolRedis (4, the
	// default) or ProtocolFile (5).
	Protocol int
	// OwnerKey is the dict key that holds the owner; "" means
	// DefaultOwnerKey.
	OwnerKey string
	// Limits bound the decoding of stored pickles.
	Limits Limits
}

func (c *Codec) protocol() int {
	if c.Protocol == 0 {
		return ProtocolRedis
	}
	return c.Protocol
}

func (c *Codec) ownerKey() string {
	if c.OwnerKey == "" {
		return DefaultOwnerKey
	}
	return c.OwnerKey
}

// ErrNotDict is returned (wrapped) for a stored pickle whose value is not a
// dict.
var ErrNotDict = errors.New("flasksession: stored session is not a dict")

// decodeDict decodes a stored pickle into its ordered dict.
//
// A record that is no pickle of a dict at all (ErrMalformed, ErrNotDict) is
// corrupt: the error wraps seshat.ErrCorruptRecord, and the Manager starts a
// fresh session, as Flask-Session does when pickle.loads fails. A valid
// pickle that holds what the model cannot (ErrUnsupportedOpcode for a
// datetime or any object, ErrUnsupportedValue, ErrLimit) is not: Flask reads
// it fine, so the error is left as it is and the Manager answers 503
// rather than replace the Flask app's session with an empty one.
func (c *Codec) decodeDict(pickled []byte) (OrderedDict, error) {
	v, err := Decoder{Limits: c.Limits, KeepOrder: true}.Decode(pickled)
	if errors.Is(err, ErrMalformed) {
		return nil, fmt.Errorf("flasksession: %w: %w", seshat.ErrCorruptRecord, err)
	}
	if err != nil {
		return nil, err
	}
	d, ok := v.(OrderedDict)
	if !ok {
		return nil, fmt.Errorf("flasksession: %w: %w (a %s)", seshat.ErrCorruptRecord, ErrNotDict, modelType(v))
	}
	return d, nil
}

// Decode reads a stored pickle: the session's values as tagged JSON and the
// owner.
func (c *Codec) Decode(pickled []byte) (values map[string][]byte, userID string, err error) {
	d, err := c.decodeDict(pickled)
	if err != nil {
		return nil, "", err
	}
	owner := c.ownerKey()
	values = make(map[string][]byte, len(d))
	for _, it := range d {
		if it.Key == owner {
			if s, ok := it.Value.(string); ok {
				userID = s
				continue
			}
		}
		b, err := taggedjson.Marshal(Unordered(it.Value))
		if err != nil {
			return nil, "", fmt.Errorf("flasksession: session value %s: %w", strconv.Quote(it.Key), err)
		}
		values[it.Key] = b
	}
	return values, userID, nil
}

// Encode returns the pickle of a record with values (tagged JSON) and owner
// userID ("" for none). Keys are written in sorted order.
func (c *Codec) Encode(values map[string][]byte, userID string) ([]byte, error) {
	keys := make([]string, 0, len(values)+1)
	for k := range values {
		keys = append(keys, k)
	}
	owner := c.ownerKey()
	if userID != "" {
		if _, ok := values[owner]; !ok {
			keys = append(keys, owner)
		}
	}
	slices.Sort(keys)
	d := make(OrderedDict, 0, len(keys))
	for _, k := range keys {
		if k == owner && userID != "" {
			d = append(d, Item{Key: k, Value: userID})
			continue
		}
		v, err := unmarshalValue(k, values[k])
		if err != nil {
			return nil, err
		}
		d = append(d, Item{Key: k, Value: v})
	}
	return EncodePickle(d, c.protocol())
}

// Merge applies ch to the stored pickle old (nil for a record that does not
// exist yet) and returns the new pickle. Keys keep their place in the dict,
// as in Python; new keys go last, in sorted order. Values the change does
// not touch are written back exactly as they were decoded (no round trip
// through JSON). Whether old may be nil (ch.Create) is the caller's
// decision.
func (c *Codec) Merge(old []byte, ch *seshat.Change) ([]byte, error) {
	var d OrderedDict
	if old != nil {
		var err error
		if d, err = c.decodeDict(old); err != nil {
			return nil, err
		}
	}
	set := make(map[string]any, len(ch.Set)+1)
	for k, raw := range ch.Set {
		v, err := unmarshalValue(k, raw)
		if err != nil {
			return nil, err
		}
		set[k] = v
	}
	del := make(map[string]bool, len(ch.Delete)+1)
	for _, k := range ch.Delete {
		del[k] = true
	}
	if ch.SetUser {
		owner := c.ownerKey()
		if ch.UserID == "" {
			delete(set, owner)
			del[owner] = true
		} else {
			set[owner] = ch.UserID
			delete(del, owner)
		}
	}
	out := make(OrderedDict, 0, len(d)+len(set))
	for _, it := range d {
		if v, ok := set[it.Key]; ok {
			out = append(out, Item{Key: it.Key, Value: v})
			delete(set, it.Key)
			continue
		}
		if del[it.Key] {
			continue
		}
		out = append(out, it)
	}
	rest := make([]string, 0, len(set))
	for k := range set {
		rest = append(rest, k)
	}
	slices.Sort(rest)
	for _, k := range rest {
		out = append(out, Item{Key: k, Value: set[k]})
	}
	return EncodePickle(out, c.protocol())
}

// Owner returns the owner recorded in a stored pickle ("" for none), for
// listing sessions.
func (c *Codec) Owner(pickled []byte) (string, error) {
	d, err := c.decodeDict(pickled)
	if err != nil {
		return "", err
	}
	owner := c.ownerKey()
	for _, it := range d {
		if it.Key == owner {
			s, _ := it.Value.(string)
			return s, nil
		}
	}
	return "", nil
}

func unmarshalValue(k string, raw []byte) (any, error) {
	v, err := taggedjson.Unmarshal(raw)
	if err != nil {
		return nil, fmt.Errorf("flasksession: session value %s: %w", strconv.Quote(k), err)
	}
	return v, nil
}

// modelType names the Python type of a model value, for errors.
func modelType(v any) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case string:
		return "str"
	case []byte:
		return "bytes"
	case []any:
		return "list"
	case taggedjson.Tuple:
		return "tuple"
	case OrderedDict, map[string]any:
		return "dict"
	case float64:
		return "float"
	}
	return "int"
}

// ErrInvalidKey is returned (wrapped) for a store key that the stores of
// this package and flasksessionredis refuse (see CheckKey).
var ErrInvalidKey = errors.New("flasksession: invalid store key")

// MaxKeyLen is the longest store key CheckKey accepts.
const MaxKeyLen = 256

// CheckKey validates a store key (the session id, before the prefix): 1 to
// MaxKeyLen bytes of UTF-8 without control characters. Flask-Session's own
// ids (uuid strings) and seshat's default keys (hex SHA-256) pass. Keys
// never become paths directly (the filesystem store names files by MD5),
// so the check is about keeping odd bytes out of logs and Redis.
func CheckKey(key string) error {
	if key == "" || len(key) > MaxKeyLen || !utf8.ValidString(key) {
		return fmt.Errorf("%w: empty, longer than %d bytes or not UTF-8", ErrInvalidKey, MaxKeyLen)
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return fmt.Errorf("%w: control character", ErrInvalidKey)
		}
	}
	return nil
}
