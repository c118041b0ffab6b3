package main

import (
	"fmt"
	"testing"
	"time"
)

func TestThrottle(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	th := throttle{now: func() time.Time { return now }}
	for i := 0; i < pairLimit; i++ {
		if !th.allowed("a@x", "1.2.3.4") {
			t.Fatalf("refused after %d failures", i)
		}
		th.failed("a@x", "1.2.3.4")
	}
	if th.allowed("a@x", "1.2.3.4") {
		t.Fatal("allowed after pairLimit failures")
	}
	if !th.allowed("a@x", "5.6.7.8") || !th.allowed("b@x", "1.2.3.4") {
		t.Fatal("another address or another account is throttled too")
	}
	now = now.Add(throttleWindow)
	if !th.allowed("a@x", "1.2.3.4") {
		t.Fatal("still refused after the window")
	}
	// The per-address limit across many accounts.
	for i := 0; i < ipLimit; i++ {
		th.failed(fmt.Sprintf("u%d@x", i), "9.9.9.9")
	}
	if th.allowed("fresh@x", "9.9.9.9") {
		t.Fatal("one address guessed across ipLimit accounts and was not stopped")
	}
	th.succeeded("u0@x", "9.9.9.9")
	if th.allowed("fresh@x", "9.9.9.9") {
		t.Fatal("a success reset the per-address count")
	}
	// The map stays bounded.
	for i := 0; i < 2*throttleMax; i++ {
		now = now.Add(throttleWindow)
		th.failed(fmt.Sprintf("v%d@x", i), "8.8.8.8")
	}
	if len(th.fails) > throttleMax+2 {
		t.Fatalf("%d entries kept", len(th.fails))
	}
}
