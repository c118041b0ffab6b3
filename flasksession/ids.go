package flasksession

import (
	"crypto/rand"
	"errors"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/signing"
)

// SignerSalt is the salt Flask-Session signs session ids with.
const SignerSalt = "flask-session"

// IDOptions configure an IDScheme.
type IDOptions struct {
	// Keys is Flask's SECRET_KEY, for SESSION_USE_SIGNER=True. Like
	// seshat.Config.Keys, the last key signs and every key verifies, so a
	// key can be rotated; Flask-Session itself knows only one key.
	Keys [][]byte
	// Unsigned selects SESSION_USE_SIGNER=False: the cookie holds the bare
	// session id. Use it only to share sessions with a Flask app that
	// cannot be switched to signed ids. Flask-Session then adopts any id a
	// client sends (session fixation): an attacker can plant a cookie with
	// an id of his choice in a victim's browser and later use the session
	// the victim logged into. seshat never adopts an id that has no record
	// (it mints a new one), but the Flask app sharing the store does.
	// Unsigned and Keys are mutually exclusive.
	Unsigned bool
}

// IDScheme is Flask-Session 0.3.2's way of naming sessions, as a
// seshat.IDScheme: an id is str(uuid.uuid4()); the cookie holds the id, or
// with signing "id.SIGNATURE" from itsdangerous's
// Signer(SECRET_KEY, salt="flask-session", key_derivation="hmac",
// digest_method=sha1); the store key is the id itself (the stores add
// SESSION_KEY_PREFIX).
//
// Decode accepts only ids in the canonical form Flask-Session generates
// (36 characters, lower-case hex and dashes), signed or not as configured;
// anything else never reaches a store. The cookie carries no "permanent"
// flag, so Decode always reports false: a request that never touches its
// session does not slide the record's expiry (Flask-Session rewrites the
// record on every request; seshat refreshes it on every request that reads
// the session).
type IDScheme struct {
	signer *signing.Signer // nil when unsigned
}

var _ seshat.IDScheme = (*IDScheme)(nil)

// NewIDScheme returns the scheme for opts. It fails when neither Keys nor
// Unsigned is given, when both are, or when a key is empty.
func NewIDScheme(opts IDOptions) (*IDScheme, error) {
	if opts.Unsigned {
		if len(opts.Keys) != 0 {
			return nil, errors.New("flasksession: IDOptions: Keys and Unsigned are mutually exclusive")
		}
		return &IDScheme{}, nil
	}
	if len(opts.Keys) == 0 {
		return nil, errors.New("flasksession: IDOptions: Keys (SECRET_KEY) are required unless Unsigned is set")
	}
	s, err := signing.NewSigner(opts.Keys, signing.Options{
		Salt:          []byte(SignerSalt),
		KeyDerivation: signing.HMAC,
		Digest:        signing.SHA1,
	})
	if err != nil {
		return nil, err
	}
	return &IDScheme{signer: s}, nil
}

// Signed reports whether the scheme signs ids.
func (s *IDScheme) Signed() bool { return s.signer != nil }

// New returns str(uuid.uuid4()): 122 random bits from crypto/rand.
func (s *IDScheme) New() string {
	var u [16]byte
	rand.Read(u[:]) // never fails (Go 1.24+ crashes instead)
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	const hex = "0123456789abcdef"
	b := make([]byte, 0, 36)
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hex[c>>4], hex[c&15])
	}
	return string(b)
}

// Encode returns the cookie value for id; permanent is not recorded.
func (s *IDScheme) Encode(id string, permanent bool) string {
	if s.signer == nil {
		return id
	}
	return string(s.signer.Sign([]byte(id)))
}

// Decode verifies a cookie value and returns the id it names.
func (s *IDScheme) Decode(value string) (string, bool, error) {
	id := value
	if s.signer != nil {
		v, err := s.signer.Unsign([]byte(value))
		if err != nil {
			return "", false, err
		}
		id = string(v)
	}
	if !ValidID(id) {
		return "", false, ErrMalformedID
	}
	return id, false, nil
}

// Key returns id: Flask-Session's stores use the id as the key, after
// SESSION_KEY_PREFIX.
func (s *IDScheme) Key(id string) string { return id }

// ErrMalformedID is what IDScheme.Decode returns for a (correctly signed)
// value that is not a canonical uuid string.
var ErrMalformedID = errors.New("flasksession: session id is not a canonical lower-case uuid")

// ValidID reports whether id has the form of str(uuid.UUID):
// xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx in lower-case hex. The version is not
// checked.
func ValidID(id string) bool {
	if len(id) != 36 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
	}
	return true
}
