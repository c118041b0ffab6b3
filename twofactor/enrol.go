package twofactor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// QRSize is the width and height of Enrolment.PNG in pixels.
const QRSize = 256

// Enrolment is what a user needs to add the account to an authenticator
// app. Show it once, on the enrolment page; it holds the secret.
type Enrolment struct {
	// Secret is the base32 TOTP secret, for typing in by hand.
	Secret string
	// URI is the otpauth://totp/… key URI the QR code encodes.
	URI string
	// PNG is the QR code of URI, QRSize×QRSize pixels.
	PNG []byte
}

// Enroll starts (or restarts) enrolment for userID: it draws a new 160-bit
// secret and keeps it in the store as pending; the user's current second
// factor, if any, stays in force until ConfirmEnrolment sees a code from
// the new one. accountName labels the entry in the app (an email or user
// name; no colon).
func (m *Manager) Enroll(ctx context.Context, userID, accountName string) (*Enrolment, error) {
	if accountName == "" || strings.Contains(accountName, ":") {
		return nil, fmt.Errorf("twofactor: enroll: account name must be non-empty and without ':'")
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      m.cfg.Issuer,
		AccountName: accountName,
		Period:      Period,
		Digits:      otp.DigitsSix,
		Algorithm:   otp.AlgorithmSHA1,
	})
	if err != nil {
		return nil, fmt.Errorf("twofactor: enroll: %w", err)
	}
	img, err := key.Image(QRSize, QRSize)
	if err != nil {
		return nil, fmt.Errorf("twofactor: enroll: QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("twofactor: enroll: QR code: %w", err)
	}
	err = m.cfg.Store.Update(ctx, userID, func(st *State) error {
		st.PendingSecret = m.seal.seal(userID, key.Secret())
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("twofactor: enroll: %w", err)
	}
	return &Enrolment{Secret: key.Secret(), URI: key.URL(), PNG: buf.Bytes()}, nil
}

// ConfirmEnrolment finishes enrolment with the first code from the app
// (±1 step): the pending secret becomes the user's second factor, the
// code's step counts as used, and Config.RecoveryCodes new recovery codes
// replace any old ones. It returns those codes, in clear, for the user to
// write down: only their hashes are kept. Without an enrolment in progress
// it returns ErrNotEnrolled; a wrong code gives ErrInvalidCode and keeps
// the enrolment pending.
func (m *Manager) ConfirmEnrolment(ctx context.Context, userID, code string) ([]string, error) {
	now := m.cfg.Now()
	codes, hashes := newRecoveryCodes(userID, m.cfg.RecoveryCodes)
	err := m.cfg.Store.Update(ctx, userID, func(st *State) error {
		if st.PendingSecret == "" {
			return ErrNotEnrolled
		}
		secret, _, err := m.seal.open(userID, st.PendingSecret)
		if err != nil {
			return err
		}
		s, ok, _ := matchStep(secret, normalize(code), now, 0)
		if !ok {
			return ErrInvalidCode
		}
		st.Secret, st.PendingSecret = m.seal.seal(userID, secret), ""
		st.LastStep = max(st.LastStep, s)
		st.Recovery = hashes
		st.Failures, st.LockedUntil = 0, time.Time{}
		return nil
	})
	if err != nil {
		return nil, wrapStore("confirm enrolment", err)
	}
	return codes, nil
}

// NewRecoveryCodes replaces userID's recovery codes with
// Config.RecoveryCodes new ones and returns them in clear; the old ones
// stop working. It returns ErrNotEnrolled for a user without a second
// factor.
func (m *Manager) NewRecoveryCodes(ctx context.Context, userID string) ([]string, error) {
	codes, hashes := newRecoveryCodes(userID, m.cfg.RecoveryCodes)
	err := m.cfg.Store.Update(ctx, userID, func(st *State) error {
		if !st.Enrolled() {
			return ErrNotEnrolled
		}
		st.Recovery = hashes
		return nil
	})
	if err != nil {
		return nil, wrapStore("new recovery codes", err)
	}
	return codes, nil
}

// Disable removes userID's second factor, pending enrolment and recovery
// codes. The last accepted step and any lockout stay, so disabling and
// re-enrolling neither replays a code nor lifts a lockout. Ask for the
// password or a code (Verify) before calling it.
func (m *Manager) Disable(ctx context.Context, userID string) error {
	err := m.cfg.Store.Update(ctx, userID, func(st *State) error {
		*st = State{LastStep: st.LastStep, LockedUntil: st.LockedUntil}
		return nil
	})
	return wrapStore("disable", err)
}

// Status is a summary of a user's second factor, for a settings page.
type Status struct {
	// Enrolled reports a confirmed second factor.
	Enrolled bool
	// RecoveryCodesLeft counts the unused recovery codes.
	RecoveryCodesLeft int
	// LockedUntil is the end of a lockout in force, or the zero time.
	LockedUntil time.Time
}

// Status returns userID's Status.
func (m *Manager) Status(ctx context.Context, userID string) (Status, error) {
	st, err := m.cfg.Store.Get(ctx, userID)
	if err != nil {
		return Status{}, fmt.Errorf("twofactor: status: %w", err)
	}
	out := Status{Enrolled: st.Enrolled(), RecoveryCodesLeft: len(st.Recovery)}
	if m.cfg.Now().Before(st.LockedUntil) {
		out.LockedUntil = st.LockedUntil
	}
	return out, nil
}

// wrapStore names op in a store error and passes the package's sentinels
// through unchanged.
func wrapStore(op string, err error) error {
	if err == nil || errors.Is(err, ErrNotEnrolled) || errors.Is(err, ErrInvalidCode) || errors.Is(err, ErrLocked) {
		return err
	}
	return fmt.Errorf("twofactor: %s: %w", op, err)
}
