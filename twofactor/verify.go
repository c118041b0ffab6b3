package twofactor

import (
	"context"
	"crypto/subtle"
	"errors"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
)

// Method names the second factor a code was checked as. The values are
// Flask-Security-Too's names.
type Method string

const (
	// MethodTOTP is a code from an authenticator app (Flask-Security-Too's
	// "authenticator" primary method).
	MethodTOTP Method = "authenticator"
	// MethodRecovery is a one-time recovery code (Flask-Security-Too's
	// "recovery_code" rescue option).
	MethodRecovery Method = "recovery_code"
)

// maxCodeLen bounds what Verify looks at; longer input is simply wrong.
const maxCodeLen = 64

// Verify checks code for userID: a 6-digit TOTP code of the current time
// step or its neighbours (±30 s), or, for anything else, one of the user's
// unused recovery codes (dashes, spaces and case do not matter). A
// recovery code is used up; a TOTP code's step is remembered so that it,
// and any earlier code, is refused from then on (ErrReplayed).
//
// A wrong code counts a failure; Config.MaxFailures in a row lock the user
// for Config.Lockout (ErrLocked), during which every code is refused
// without being checked. A success resets the count. All of it happens in
// one Store.Update, so concurrent requests cannot use a code twice or lose
// a failure.
//
// Complete calls Verify; call it directly to ask a logged-in user for a
// code again (before disabling two-factor, say).
func (m *Manager) Verify(ctx context.Context, userID, code string) (Method, error) {
	now := m.cfg.Now()
	var method Method
	var refused error // returned after the failure count is saved
	err := m.cfg.Store.Update(ctx, userID, func(st *State) error {
		method, refused = "", nil
		if !st.Enrolled() {
			return ErrNotEnrolled
		}
		if now.Before(st.LockedUntil) {
			return ErrLocked
		}
		secret, reseal, err := m.seal.open(userID, st.Secret)
		if err != nil {
			return err
		}
		if reseal {
			st.Secret = m.seal.seal(userID, secret)
		}
		c := normalize(code)
		switch {
		case isTOTP(c):
			method = MethodTOTP
			step, ok, replay := matchStep(secret, c, now, st.LastStep)
			if replay {
				refused = ErrReplayed
				return nil
			}
			if ok {
				st.LastStep = step
			} else {
				refused = ErrInvalidCode
			}
		default:
			method = MethodRecovery
			if i := findRecovery(st.Recovery, userID, c); i >= 0 {
				st.Recovery = append(st.Recovery[:i], st.Recovery[i+1:]...)
			} else {
				refused = ErrInvalidCode
			}
		}
		if refused == nil {
			st.Failures, st.LockedUntil = 0, time.Time{}
			return nil
		}
		st.Failures++
		if st.Failures >= m.cfg.MaxFailures {
			st.Failures, st.LockedUntil = 0, now.Add(m.cfg.Lockout)
			refused = ErrLocked
		}
		return nil
	})
	if err != nil {
		return "", wrapStore("verify", err)
	}
	if refused != nil {
		return method, refused
	}
	return method, nil
}

// normalize drops what people type around a code: spaces and dashes, and
// case. Crockford's look-alikes (o for 0, i and l for 1) map to the digits
// recovery codes use.
func normalize(code string) string {
	if len(code) > maxCodeLen {
		return ""
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '\t':
			return -1
		case 'o', 'O':
			return '0'
		case 'i', 'I', 'l', 'L':
			return '1'
		}
		if 'A' <= r && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, code)
}

func isTOTP(c string) bool {
	if len(c) != 6 {
		return false
	}
	for i := 0; i < len(c); i++ {
		if c[i] < '0' || c[i] > '9' {
			return false
		}
	}
	return true
}

// step is the RFC 6238 time step of t.
func step(t time.Time) int64 { return t.Unix() / Period }

// matchStep finds the time step within ±1 of now whose code is c and which
// comes after last. replay reports that c matched only steps at or before
// last.
func matchStep(secret, c string, now time.Time, last int64) (matched int64, ok, replay bool) {
	cur := step(now)
	for s := cur + 1; s >= cur-1; s-- {
		want, err := codeAt(secret, s)
		if err != nil {
			return 0, false, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(c)) == 1 {
			if s > last {
				return s, true, false
			}
			replay = true
		}
	}
	return 0, false, replay
}

// codeAt is the 6-digit SHA-1 code of time step s, what authenticator apps
// show for an otpauth URI without parameters.
func codeAt(secret string, s int64) (string, error) {
	if s < 0 {
		return "", errors.New("twofactor: time before 1970")
	}
	return hotp.GenerateCodeCustom(secret, uint64(s), hotp.ValidateOpts{
		Digits:    otp.DigitsSix,
		Algorithm: otp.AlgorithmSHA1,
	})
}
