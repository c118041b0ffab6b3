package signing

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

type user struct {
	ID    int      `json:"user_id"`
	Name  string   `json:"name"`
	Roles []string `json:"roles"`
}

func TestSerializerOptionErrors(t *testing.T) {
	keys := [][]byte{testKey}
	bad := []SerializerOptions{
		{Compression: 5},
		{MaxDecompressedSize: -1},
		{Options: Options{Sep: 'x'}},
		{Options: Options{Digest: 3}},
	}
	for _, o := range bad {
		if _, err := NewSerializer(keys, o); err == nil && o.Compression == 0 {
			t.Errorf("NewSerializer(%+v) accepted", o)
		}
		if _, err := NewURLSafeSerializer(keys, o); err == nil {
			t.Errorf("NewURLSafeSerializer(%+v) accepted", o)
		}
		if _, err := NewURLSafeTimedSerializer(keys, o); err == nil {
			t.Errorf("NewURLSafeTimedSerializer(%+v) accepted", o)
		}
	}
	for _, keys := range [][][]byte{nil, {{}}} {
		if _, err := NewURLSafeTimedSerializer(keys, SerializerOptions{}); err == nil {
			t.Errorf("keys %q accepted", keys)
		}
	}
}

func TestSerializerDefaultSalt(t *testing.T) {
	s, _ := NewURLSafeSerializer([][]byte{testKey}, SerializerOptions{})
	explicit, _ := NewURLSafeSerializer([][]byte{testKey}, SerializerOptions{Options: Options{Salt: []byte("itsdangerous")}})
	a, _ := s.Dumps(1)
	b, _ := explicit.Dumps(1)
	// Python: URLSafeSerializer("s3cr3t-key").dumps(1)
	if a != b || a != "MQ.Q0WVBoDQofwjM2pbCJion29br6I" {
		t.Errorf("default salt: %q, %q", a, b)
	}
}

func TestSerializerRoundTrip(t *testing.T) {
	now := t0
	o := SerializerOptions{Options: Options{Now: func() time.Time { return now }}}
	keys := [][]byte{oldKey, testKey}
	plain, _ := NewSerializer(keys, o)
	urlsafe, _ := NewURLSafeSerializer(keys, o)
	timed, _ := NewURLSafeTimedSerializer(keys, o)
	in := user{ID: 7, Name: "Zoë <admin>", Roles: []string{"a", "b"}}
	type pair struct {
		dumps func(any) (string, error)
		loads func(string, any) error
	}
	for name, p := range map[string]pair{"plain": {plain.Dumps, plain.Loads}, "urlsafe": {urlsafe.Dumps, urlsafe.Loads}, "timed": {timed.Dumps, timed.Loads}} {
		tok, err := p.dumps(in)
		if err != nil {
			t.Fatal(err)
		}
		if name != "plain" && strings.ContainsAny(tok, "+/= <>\"") {
			t.Errorf("%s token %q is not URL-safe", name, tok)
		}
		var out user
		if err := p.loads(tok, &out); err != nil || out.Name != in.Name || out.ID != 7 || len(out.Roles) != 2 {
			t.Errorf("%s: %+v, %v", name, out, err)
		}
		if _, err := p.dumps(math.Inf(1)); err == nil || errors.Is(err, ErrBadData) {
			t.Errorf("%s: marshal error %v", name, err)
		}
	}
	tok, _ := plain.Dumps(in)
	if want := `{"user_id": 7, "name": "Zo\u00eb <admin>", "roles": ["a", "b"]}.`; !strings.HasPrefix(tok, want) {
		t.Errorf("plain token %q, want Python's json.dumps form %q", tok, want)
	}
}

func TestURLSafeTimedSerializer(t *testing.T) {
	now := t0
	clock := func() time.Time { return now }
	s, _ := NewURLSafeTimedSerializer([][]byte{testKey}, SerializerOptions{Options: Options{Now: clock}})
	tok, _ := s.Dumps(map[string]any{"a": 1})
	tokAt, _ := s.DumpsAt(map[string]any{"a": 1}, t0)
	// Python: URLSafeTimedSerializer("s3cr3t-key").dumps({"a": 1}) at t0
	if tok != tokAt || tok != "eyJhIjoxfQ.ZVPxAA.CtbLNjFJZmpYBNWpnyyn7yfupfI" {
		t.Errorf("Dumps %q, DumpsAt %q", tok, tokAt)
	}
	var v map[string]any
	now = t0.Add(time.Hour)
	if at, err := s.LoadsMaxAge(tok, &v, time.Hour); err != nil || !at.Equal(t0) || v["a"] != 1.0 {
		t.Errorf("LoadsMaxAge: %v, %v, %v", v, at, err)
	}
	now = t0.Add(time.Hour + time.Second)
	if _, err := s.LoadsMaxAge(tok, &v, time.Hour); !errors.Is(err, ErrSignatureExpired) {
		t.Errorf("expired: %v", err)
	}
	if err := s.Loads(tok, &v); err != nil {
		t.Errorf("Loads checks the age: %v", err)
	}
	// An expired token is reported as expired without decoding its payload.
	signer := mustTimestampSigner(t, [][]byte{testKey}, Options{Salt: []byte(DefaultSerializerSalt)})
	garbage := string(signer.SignAt([]byte("!not base64!"), t0))
	if _, err := s.LoadsMaxAge(garbage, &v, time.Second); !errors.Is(err, ErrSignatureExpired) {
		t.Errorf("expired garbage: %v", err)
	}
	if _, err := s.LoadsMaxAge(garbage, &v, 2*time.Hour); !errors.Is(err, ErrBadPayload) {
		t.Errorf("garbage: %v", err)
	}
}

func TestSerializerCompressionOptions(t *testing.T) {
	big := map[string]any{"data": strings.Repeat("abcdefgh", 40)}
	auto, _ := NewURLSafeSerializer([][]byte{testKey}, SerializerOptions{})
	never, _ := NewURLSafeSerializer([][]byte{testKey}, SerializerOptions{Compression: CompressNever})
	small, _ := NewURLSafeSerializer([][]byte{testKey}, SerializerOptions{MaxDecompressedSize: 100})
	a, _ := auto.Dumps(big)
	n, _ := never.Dumps(big)
	if !strings.HasPrefix(a, ".") || strings.HasPrefix(n, ".") || len(n) <= len(a) {
		t.Errorf("auto %q, never %q", a, n)
	}
	var v any
	for _, tok := range []string{a, n} {
		if err := never.Loads(tok, &v); err != nil {
			t.Errorf("CompressNever cannot read %q: %v", tok, err)
		}
	}
	if err := small.Loads(a, &v); !errors.Is(err, ErrBadPayload) || err.(*Error).Message != msgZlib {
		t.Errorf("MaxDecompressedSize not applied: %v", err)
	}
}

// upperCodec is a custom Codec: the payload is the upper-cased string.
type upperCodec struct{}

func (upperCodec) Marshal(v any) ([]byte, error) { return []byte(strings.ToUpper(v.(string))), nil }
func (upperCodec) Unmarshal(b []byte, v any) error {
	if strings.ToUpper(string(b)) != string(b) {
		return errors.New("not upper case")
	}
	*v.(*string) = string(b)
	return nil
}

func TestSerializerCustomCodec(t *testing.T) {
	s, _ := NewSerializer([][]byte{testKey}, SerializerOptions{Codec: upperCodec{}})
	tok, _ := s.Dumps("hello")
	var out string
	if err := s.Loads(tok, &out); err != nil || out != "HELLO" || !strings.HasPrefix(tok, "HELLO.") {
		t.Errorf("%q %q %v", tok, out, err)
	}
	bad := string(mustSigner(t, [][]byte{testKey}, Options{Salt: []byte(DefaultSerializerSalt)}).Sign([]byte("lower")))
	err := s.Loads(bad, &out)
	var e *Error
	if !errors.As(err, &e) || e.Kind != ErrBadPayload || e.Message != msgUnmarshal || e.Err == nil || e.Err.Error() != "not upper case" {
		t.Errorf("%#v", err)
	}
}

func TestSerializerInvalidUTF8(t *testing.T) {
	signer := mustSigner(t, [][]byte{testKey}, Options{Salt: []byte(DefaultSerializerSalt)})
	s, _ := NewSerializer([][]byte{testKey}, SerializerOptions{})
	var v any
	if err := s.Loads(string(signer.Sign([]byte("\"\xff\""))), &v); !errors.Is(err, ErrBadPayload) {
		t.Errorf("invalid UTF-8 accepted: %v", err)
	}
}
