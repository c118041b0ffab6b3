package storetest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"

	"github.com/seshat-go/seshat"
)

// detach loads cookie's session as a websocket handshake would.
func (a *app) detach(cookie string) *seshat.Detached {
	r, _ := http.NewRequest("GET", "/ws", nil)
	r.Header.Set("Cookie", "session="+cookie)
	d, err := a.m.Detach(context.Background(), r)
	if err != nil {
		a.t.Fatal(err)
	}
	return d
}

// testDetachedNoLostUpdates: a detached session (a websocket's) saving keys
// of its own while concurrent requests set theirs: every key persists, and
// Reload shows the requests' keys to the detached copy.
func testDetachedNoLostUpdates(t *testing.T, s seshat.Store) {
	if _, ok := s.(seshat.Merger); !ok {
		t.Skip("store is not a seshat.Merger: concurrent writers overwrite each other (last writer wins)")
	}
	a := newApp(t, s)
	_, _, c := a.do("/set?k=base&v=0", "")
	d := a.detach(c)
	const requesters, perRequester, socketSaves = 4, 10, 20
	var wg sync.WaitGroup
	for g := range requesters {
		wg.Go(func() {
			for i := range perRequester {
				if st, body, _ := a.do(fmt.Sprintf("/set?k=r%d-%02d&v=%d", g, i, i), c); st != 200 {
					t.Errorf("status %d: %s", st, body)
					return
				}
			}
		})
	}
	for i := range socketSaves {
		d.Set(fmt.Sprintf("ws-%02d", i), i)
		if err := d.Save(context.Background()); err != nil {
			t.Fatalf("detached save %d: %v", i, err)
		}
	}
	wg.Wait()
	want := 1 + requesters*perRequester + socketSaves
	if _, body, _ := a.do("/count", c); body != strconv.Itoa(want) {
		t.Fatalf("%s keys after a detached session and concurrent requests each set their own, want %d", body, want)
	}
	if err := d.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d.Len() != want {
		t.Fatalf("the detached copy sees %d keys after Reload, want %d", d.Len(), want)
	}
}

// testDetachedAfterLogout: a request destroys the session while a detached
// copy holds it; the copy's next Save reports ErrSessionGone and does not
// bring the session back.
func testDetachedAfterLogout(t *testing.T, s seshat.Store) {
	a := newApp(t, s)
	_, _, c := a.do("/set?k=base&v=0", "")
	d := a.detach(c)
	a.do("/logout", c)
	d.Set("late", "write")
	if err := d.Save(context.Background()); !errors.Is(err, seshat.ErrSessionGone) {
		t.Fatalf("detached Save after logout: %v, want ErrSessionGone", err)
	}
	if err := d.Reload(context.Background()); !errors.Is(err, seshat.ErrSessionGone) {
		t.Fatalf("detached Reload after logout: %v, want ErrSessionGone", err)
	}
	if _, body, _ := a.do("/count", c); body != "0" {
		t.Fatalf("the session has %s keys after logout and a detached write: resurrected", body)
	}
}
