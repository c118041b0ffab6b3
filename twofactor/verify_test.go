package twofactor_test

import (
	"context"
	"encoding/hex"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/seshat-go/seshat/twofactor"
)

var ctx = context.Background()

// TestEnrolment: the URI, QR code and secret agree, nothing is in force
// before confirmation, and the store keeps only hashes of recovery codes.
func TestEnrolment(t *testing.T) {
	f := newFixture(t, "/login")
	e, err := f.tf.Enroll(ctx, "alice", "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	key, err := otp.NewKeyFromURL(e.URI)
	if err != nil {
		t.Fatal(err)
	}
	if key.Type() != "totp" || key.Issuer() != "Seshat Test" || key.AccountName() != "alice@example.com" ||
		key.Secret() != e.Secret || key.Period() != 30 || key.Digits() != otp.DigitsSix || key.Algorithm() != otp.AlgorithmSHA1 {
		t.Fatalf("URI %s does not match the enrolment", e.URI)
	}
	if len(e.Secret) != 32 { // 160 bits of base32
		t.Errorf("secret length %d, want 32", len(e.Secret))
	}
	if !strings.HasPrefix(string(e.PNG), "\x89PNG\r\n\x1a\n") {
		t.Errorf("PNG does not start with the PNG signature")
	}
	// Before confirmation the user has no second factor.
	if _, err := f.tf.Verify(ctx, "alice", f.code(t, e.Secret)); !errors.Is(err, twofactor.ErrNotEnrolled) {
		t.Fatalf("unconfirmed enrolment verifies: %v", err)
	}
	if _, err := f.tf.ConfirmEnrolment(ctx, "alice", wrongCode(t, f, e.Secret)); !errors.Is(err, twofactor.ErrInvalidCode) {
		t.Fatalf("wrong confirmation code: %v", err)
	}
	if _, err := f.tf.ConfirmEnrolment(ctx, "bob", f.code(t, e.Secret)); !errors.Is(err, twofactor.ErrNotEnrolled) {
		t.Fatalf("bob confirms alice's enrolment: %v", err)
	}
	codes, err := f.tf.ConfirmEnrolment(ctx, "alice", f.code(t, e.Secret))
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != twofactor.DefaultRecoveryCodes {
		t.Fatalf("%d recovery codes", len(codes))
	}
	format := regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){3}$`)
	seen := map[string]bool{}
	for _, c := range codes {
		if !format.MatchString(c) || seen[c] {
			t.Fatalf("recovery code %q badly formed or repeated", c)
		}
		seen[c] = true
	}
	st, _ := f.store.Get(ctx, "alice")
	if st.Secret != e.Secret || st.PendingSecret != "" || len(st.Recovery) != len(codes) {
		t.Fatalf("stored state %+v", st)
	}
	for _, h := range st.Recovery {
		if b, err := hex.DecodeString(h); err != nil || len(b) != 32 {
			t.Fatalf("stored recovery entry %q is not a SHA-256", h)
		}
		for _, c := range codes {
			if strings.Contains(h, strings.ReplaceAll(c, "-", "")) {
				t.Fatal("a recovery code is stored in clear")
			}
		}
	}
	// The confirmation code's step is used up.
	if _, err := f.tf.Verify(ctx, "alice", f.code(t, e.Secret)); !errors.Is(err, twofactor.ErrReplayed) {
		t.Fatalf("confirmation code reused: %v", err)
	}
	s, _ := f.tf.Status(ctx, "alice")
	if !s.Enrolled || s.RecoveryCodesLeft != 10 || !s.LockedUntil.IsZero() {
		t.Fatalf("status %+v", s)
	}
}

// TestWindow (MF-04): codes of the previous, current and next step pass;
// two steps away (±60 s) they fail. The time is the Manager's clock.
func TestWindow(t *testing.T) {
	f := newFixture(t, "/login")
	secret, _ := f.enrol(t, "alice")
	f.clock.Add(time.Minute) // the enrolment's step is out of the window
	now := f.clock.Now()
	at := func(d time.Duration) string { return totpAt(t, secret, now.Add(d)) }
	cur := at(0)
	for _, d := range []time.Duration{-60 * time.Second, 60 * time.Second, -90 * time.Second, 90 * time.Second} {
		if c := at(d); c != cur && c != at(-30*time.Second) && c != at(30*time.Second) {
			if _, err := f.tf.Verify(ctx, "alice", c); !errors.Is(err, twofactor.ErrInvalidCode) {
				t.Fatalf("code at %v: %v, want ErrInvalidCode", d, err)
			}
		}
	}
	// Ascending, so that none is a replay of the one before.
	for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
		m, err := f.tf.Verify(ctx, "alice", at(d))
		if err != nil || m != twofactor.MethodTOTP {
			t.Fatalf("code at %v: %v, %v", d, m, err)
		}
	}
	if _, err := f.tf.Verify(ctx, "alice", "12345"); !errors.Is(err, twofactor.ErrInvalidCode) {
		t.Fatalf("5 digits: %v", err)
	}
}

// TestReplayRefused (MF-03): a code is accepted once; an older step after a
// newer one is refused; replays do not count as failures.
func TestReplayRefused(t *testing.T) {
	f := newFixture(t, "/login")
	secret, _ := f.enrol(t, "alice")
	code := f.code(t, secret)
	if _, err := f.tf.Verify(ctx, "alice", code); err != nil {
		t.Fatal(err)
	}
	for range 2 * twofactor.DefaultMaxFailures {
		if _, err := f.tf.Verify(ctx, "alice", code); !errors.Is(err, twofactor.ErrReplayed) {
			t.Fatalf("replay: %v", err)
		}
	}
	if _, err := f.tf.Verify(ctx, "alice", totpAt(t, secret, f.clock.Now().Add(-30*time.Second))); !errors.Is(err, twofactor.ErrReplayed) {
		t.Fatalf("older step after a newer one: %v", err)
	}
	if s, _ := f.tf.Status(ctx, "alice"); !s.LockedUntil.IsZero() {
		t.Fatal("replays locked the user")
	}
	// The "same" digits typed with spaces are the same code.
	f.clock.Add(30 * time.Second)
	code = f.code(t, secret)
	if _, err := f.tf.Verify(ctx, "alice", code[:3]+" "+code[3:]); err != nil {
		t.Fatal(err)
	}
}

// TestRecoveryCodeOnce: each recovery code works once, typed any way, for
// its own user only; new codes replace old ones.
func TestRecoveryCodeOnce(t *testing.T) {
	f := newFixture(t, "/login")
	_, codes := f.enrol(t, "alice")
	_, bobCodes := f.enrol(t, "bob")
	if _, err := f.tf.Verify(ctx, "alice", bobCodes[0]); !errors.Is(err, twofactor.ErrInvalidCode) {
		t.Fatalf("bob's code for alice: %v", err)
	}
	m, err := f.tf.Verify(ctx, "alice", codes[0])
	if err != nil || m != twofactor.MethodRecovery {
		t.Fatalf("recovery code: %v %v", m, err)
	}
	if _, err := f.tf.Verify(ctx, "alice", codes[0]); !errors.Is(err, twofactor.ErrInvalidCode) {
		t.Fatalf("recovery code reused: %v", err)
	}
	// Upper case, no dashes.
	if _, err := f.tf.Verify(ctx, "alice", strings.ToUpper(strings.ReplaceAll(codes[1], "-", ""))); err != nil {
		t.Fatalf("recovery code retyped: %v", err)
	}
	if s, _ := f.tf.Status(ctx, "alice"); s.RecoveryCodesLeft != len(codes)-2 {
		t.Fatalf("%d codes left", s.RecoveryCodesLeft)
	}
	fresh, err := f.tf.NewRecoveryCodes(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.tf.Verify(ctx, "alice", codes[2]); !errors.Is(err, twofactor.ErrInvalidCode) {
		t.Fatalf("old code after NewRecoveryCodes: %v", err)
	}
	if _, err := f.tf.Verify(ctx, "alice", fresh[0]); err != nil {
		t.Fatal(err)
	}
}

// TestLockout (MF-02): MaxFailures wrong codes in a row lock the user;
// while locked the right code is refused too; the lock ends after
// Lockout; a success resets the count.
func TestLockout(t *testing.T) {
	f := newFixture(t, "/login")
	secret, codes := f.enrol(t, "alice")
	wrong := wrongCode(t, f, secret)
	for i := range twofactor.DefaultMaxFailures - 1 {
		if _, err := f.tf.Verify(ctx, "alice", wrong); !errors.Is(err, twofactor.ErrInvalidCode) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	// A success resets the count...
	if _, err := f.tf.Verify(ctx, "alice", f.code(t, secret)); err != nil {
		t.Fatal(err)
	}
	for range twofactor.DefaultMaxFailures - 1 {
		if _, err := f.tf.Verify(ctx, "alice", wrong); !errors.Is(err, twofactor.ErrInvalidCode) {
			t.Fatalf("after a reset: %v", err)
		}
	}
	// ... and the fifth in a row locks.
	if _, err := f.tf.Verify(ctx, "alice", wrong); !errors.Is(err, twofactor.ErrLocked) {
		t.Fatalf("fifth failure: %v", err)
	}
	f.clock.Add(30 * time.Second)
	if _, err := f.tf.Verify(ctx, "alice", f.code(t, secret)); !errors.Is(err, twofactor.ErrLocked) {
		t.Fatalf("right code while locked: %v", err)
	}
	if _, err := f.tf.Verify(ctx, "alice", codes[0]); !errors.Is(err, twofactor.ErrLocked) {
		t.Fatalf("recovery code while locked: %v", err)
	}
	if s, _ := f.tf.Status(ctx, "alice"); s.LockedUntil.IsZero() {
		t.Fatal("Status does not show the lock")
	}
	f.clock.Add(twofactor.DefaultLockout)
	if _, err := f.tf.Verify(ctx, "alice", f.code(t, secret)); err != nil {
		t.Fatalf("after the lockout: %v", err)
	}
	// Bob was never affected.
	if s, _ := f.tf.Status(ctx, "bob"); s.Enrolled || !s.LockedUntil.IsZero() {
		t.Fatalf("bob %+v", s)
	}
}

// wrongCode returns 6 digits that are not a valid code in the window.
func wrongCode(t *testing.T, f *fixture, secret string) string {
	now := f.clock.Now()
	valid := map[string]bool{}
	for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
		valid[totpAt(t, secret, now.Add(d))] = true
	}
	for _, c := range []string{"000000", "111111", "222222", "333333"} {
		if !valid[c] {
			return c
		}
	}
	t.Fatal("no wrong code")
	return ""
}

// TestDisable: a disabled user has no second factor; the replay mark and a
// lockout survive, so re-enrolling does not undo them.
func TestDisable(t *testing.T) {
	f := newFixture(t, "/login")
	f.enrol(t, "alice")
	if err := f.tf.Disable(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	st, _ := f.store.Get(ctx, "alice")
	if st.Enrolled() || len(st.Recovery) != 0 || st.LastStep == 0 {
		t.Fatalf("after Disable: %+v", st)
	}
	if _, err := f.tf.NewRecoveryCodes(ctx, "alice"); !errors.Is(err, twofactor.ErrNotEnrolled) {
		t.Fatalf("NewRecoveryCodes after Disable: %v", err)
	}
}

func TestConfig(t *testing.T) {
	f := newFixture(t, "/login")
	base := twofactor.Config{Issuer: "X", Store: twofactor.NewMemoryStore(), Login: f.lm, LoadUser: loadUser}
	for name, mut := range map[string]func(*twofactor.Config){
		"no issuer":    func(c *twofactor.Config) { c.Issuer = "" },
		"colon issuer": func(c *twofactor.Config) { c.Issuer = "a:b" },
		"no store":     func(c *twofactor.Config) { c.Store = nil },
		"no login":     func(c *twofactor.Config) { c.Login = nil },
		"no loader":    func(c *twofactor.Config) { c.LoadUser = nil },
		"negative ttl": func(c *twofactor.Config) { c.PendingTTL = -1 },
	} {
		c := base
		mut(&c)
		if _, err := twofactor.New(c); !errors.Is(err, twofactor.ErrConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := twofactor.New(base); err != nil {
		t.Fatal(err)
	}
	if _, err := f.tf.Enroll(ctx, "alice", "a:b"); err == nil {
		t.Error("account name with a colon accepted")
	}
}
