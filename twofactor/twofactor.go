package twofactor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/seshat-go/seshat/login"
)

// Defaults.
const (
	// DefaultPendingTTL is how long a password-verified login waits for its
	// second factor (SECURITY-CHECKLIST MF-02 asks for at most 5 minutes).
	DefaultPendingTTL = 5 * time.Minute
	// DefaultMaxFailures is how many wrong codes in a row lock the user.
	DefaultMaxFailures = 5
	// DefaultLockout is how long a locked user's codes are all refused.
	DefaultLockout = 15 * time.Minute
	// DefaultRecoveryCodes is how many recovery codes enrolment issues.
	DefaultRecoveryCodes = 10
	// Period is the TOTP time step (RFC 6238's X), what every authenticator
	// app uses.
	Period = 30
)

// Errors, for errors.Is.
var (
	// ErrConfig wraps configuration errors from New.
	ErrConfig = errors.New("twofactor: invalid configuration")
	// ErrNotEnrolled: the user has no second factor (or, for
	// ConfirmEnrolment, no enrolment in progress).
	ErrNotEnrolled = errors.New("twofactor: user is not enrolled")
	// ErrInvalidCode: the code is neither the current TOTP code (±1 step)
	// nor an unused recovery code. It counts as a failure.
	ErrInvalidCode = errors.New("twofactor: invalid code")
	// ErrReplayed: the TOTP code is right but its time step (or a later
	// one) was already accepted for this user. It does not count as a
	// failure: only someone who saw a valid code can send it.
	ErrReplayed = errors.New("twofactor: code already used")
	// ErrLocked: too many failures; every code is refused until the
	// lockout ends, and the pending login is abandoned.
	ErrLocked = errors.New("twofactor: too many failed attempts, try again later")
	// ErrNotPending: the session holds no pending login (never begun,
	// completed, cancelled, or abandoned after a lockout).
	ErrNotPending = errors.New("twofactor: no login is waiting for a second factor")
	// ErrExpired: the pending login is older than Config.PendingTTL; it
	// has been cleared and the password must be entered again.
	ErrExpired = errors.New("twofactor: the login attempt expired")
	// ErrDecrypt: a stored TOTP secret is encrypted but no key of
	// Config.SecretKeys opens it (a key was dropped too early, or the row
	// was copied from another user or tampered with).
	ErrDecrypt = errors.New("twofactor: stored TOTP secret cannot be decrypted with Config.SecretKeys")
)

// Config configures a [Manager]. Issuer, Store, Login and LoadUser are
// required.
type Config struct {
	// Issuer names the service in authenticator apps ("Example Inc").
	// It must not contain a colon (the otpauth URI's label separator).
	Issuer string
	// Store keeps each user's second-factor state: the application's
	// database, or NewMemoryStore for tests and demos.
	Store Store
	// Login logs the user in once the second factor is verified.
	Login *login.Manager
	// LoadUser returns the user with the given id, as login.Config.LoadUser
	// does (nil, nil for an unknown id): Complete needs the login.User to
	// hand to login.LoginUser.
	LoadUser func(ctx context.Context, id string) (login.User, error)
	// PendingTTL bounds the time between the password and the second
	// factor; default 5 minutes.
	PendingTTL time.Duration
	// MaxFailures wrong codes in a row lock the user for Lockout;
	// defaults 5 and 15 minutes.
	MaxFailures int
	Lockout     time.Duration
	// RecoveryCodes is how many one-time recovery codes enrolment and
	// NewRecoveryCodes issue; default 10.
	RecoveryCodes int
	// SecretKeys, when set, encrypt the TOTP secrets in the Store with
	// AES-256-GCM (bound to the user id), so a leaked table or backup
	// does not hand out second factors. The last key encrypts, all
	// decrypt; each needs at least 32 bytes. Secrets stored in clear
	// before keys were configured keep working and are encrypted the next
	// time they are used; so are those under an older key. Without keys
	// the Store holds secrets in clear.
	SecretKeys [][]byte
	// Now is the clock; default time.Now. TOTP uses it, so it must be the
	// server's real clock in production (ASVS 5 6.5.8).
	Now func() time.Time
}

// Manager enrols users, verifies their codes and carries the
// half-logged-in state between the password and the second factor. Create
// it with [New]. It is safe for concurrent use.
type Manager struct {
	cfg  Config
	seal *sealer
}

// New validates cfg, fills in its defaults and returns a Manager.
func New(cfg Config) (*Manager, error) {
	switch {
	case cfg.Issuer == "" || strings.Contains(cfg.Issuer, ":"):
		return nil, fmt.Errorf("%w: Issuer is required and must not contain ':'", ErrConfig)
	case cfg.Store == nil:
		return nil, fmt.Errorf("%w: Store is required", ErrConfig)
	case cfg.Login == nil:
		return nil, fmt.Errorf("%w: Login is required", ErrConfig)
	case cfg.LoadUser == nil:
		return nil, fmt.Errorf("%w: LoadUser is required", ErrConfig)
	case cfg.PendingTTL < 0 || cfg.MaxFailures < 0 || cfg.Lockout < 0 || cfg.RecoveryCodes < 0:
		return nil, fmt.Errorf("%w: negative PendingTTL, MaxFailures, Lockout or RecoveryCodes", ErrConfig)
	}
	if cfg.PendingTTL == 0 {
		cfg.PendingTTL = DefaultPendingTTL
	}
	if cfg.MaxFailures == 0 {
		cfg.MaxFailures = DefaultMaxFailures
	}
	if cfg.Lockout == 0 {
		cfg.Lockout = DefaultLockout
	}
	if cfg.RecoveryCodes == 0 {
		cfg.RecoveryCodes = DefaultRecoveryCodes
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	seal, err := newSealer(cfg.SecretKeys)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	return &Manager{cfg: cfg, seal: seal}, nil
}
