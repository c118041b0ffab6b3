package main

import (
	"sync"
	"time"
)

// throttle limits failed password logins, in memory: at most pairLimit
// failures per (email, address) pair and ipLimit per address in one window.
// Keying on the pair, not the email alone, keeps a stranger from locking
// the owner out of their own account; the per-address limit slows one
// machine guessing across many accounts. Two-factor codes have their own
// per-user lockout (package twofactor).
type throttle struct {
	mu    sync.Mutex
	fails map[string]*failures
	now   func() time.Time
}

type failures struct {
	n     int
	start time.Time
}

const (
	throttleWindow = 15 * time.Minute
	pairLimit      = 5
	ipLimit        = 50
	// throttleMax bounds the map: past it, expired entries are dropped
	// before a new one is added.
	throttleMax = 10000
)

// allowed reports whether a login for email from ip may be tried.
func (t *throttle) allowed(email, ip string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.count("p\x00"+email+"\x00"+ip) < pairLimit && t.count("i\x00"+ip) < ipLimit
}

// failed records a wrong password for email from ip.
func (t *throttle) failed(email, ip string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.add("p\x00" + email + "\x00" + ip)
	t.add("i\x00" + ip)
}

// succeeded forgets the pair's failures.
func (t *throttle) succeeded(email, ip string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.fails, "p\x00"+email+"\x00"+ip)
}

func (t *throttle) count(key string) int {
	f := t.fails[key]
	if f == nil || t.now().Sub(f.start) >= throttleWindow {
		return 0
	}
	return f.n
}

func (t *throttle) add(key string) {
	now := t.now()
	if t.fails == nil {
		t.fails = map[string]*failures{}
	}
	f := t.fails[key]
	if f == nil || now.Sub(f.start) >= throttleWindow {
		if len(t.fails) >= throttleMax {
			for k, v := range t.fails {
				if now.Sub(v.start) >= throttleWindow {
					delete(t.fails, k)
				}
			}
		}
		f = &failures{start: now}
		t.fails[key] = f
	}
	f.n++
}
