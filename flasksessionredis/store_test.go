package flasksessionredis

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/flasksession"
	"github.com/seshat-go/seshat/internal/flaskvectors"
)

func TestLayout(t *testing.T) {
	c := client(t)
	p := prefix(t, c)
	now := time.Now()
	s := New(c, Options{Prefix: p, Now: func() time.Time { return now }})
	ctx := t.Context()
	rec := &seshat.Record{
		Values:  map[string][]byte{"_permanent": []byte("true"), "b": []byte(`{" b":"AP8="}`), "a": []byte(`{" t":[1,"x"]}`)},
		Expires: now.Add(1800*time.Second + time.Millisecond),
		UserID:  "u-1",
	}
	if err := s.Save(ctx, "sid-1", rec); err != nil {
		t.Fatal(err)
	}
	raw, err := c.Get(ctx, p+"sid-1").Bytes()
	if err != nil {
		t.Fatal(err)
	}
	v, err := flasksession.Decoder{KeepOrder: true}.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	got := flaskvectors.MarkersString(flasksession.Unordered(v))
	if got != `{"_permanent":true,"_seshat_user":"u-1","a":{"$tuple":[1,"x"]},"b":{"$bytes_hex":"00ff"}}` {
		t.Fatalf("stored dict %s", got)
	}
	if raw[1] != 4 {
		t.Fatalf("protocol %d", raw[1])
	}
	// SETEX with whole seconds, rounded up.
	if ttl := c.TTL(ctx, p+"sid-1").Val(); ttl != 1801*time.Second {
		t.Fatalf("TTL %v", ttl)
	}
	back, err := s.Load(ctx, "sid-1")
	if err != nil || back.UserID != "u-1" || len(back.Values) != 3 || !bytes.Equal(back.Values["b"], rec.Values["b"]) {
		t.Fatalf("Load = %+v, %v", back, err)
	}
}

func TestLoadsFlaskRecords(t *testing.T) {
	c := client(t)
	p := prefix(t, c)
	s := New(c, Options{Prefix: p})
	ctx := t.Context()
	f, err := flaskvectors.Load("flask_session_server")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range f.Vectors {
		if v.Kind != "server.redis.write" {
			continue
		}
		var h, key string
		v.Field("pickle_hex", &h)
		v.Field("redis_key", &key)
		b, _ := hex.DecodeString(h)
		sid := strings.TrimPrefix(key, "session:")
		c.Set(ctx, p+sid, b, time.Minute)
		rec, err := s.Load(ctx, sid)
		if err != nil {
			t.Fatal(err)
		}
		if len(rec.Values) != 10 || string(rec.Values["tup"]) != `{" t":[1,"x"]}` || string(rec.Values["_permanent"]) != "true" {
			t.Fatalf("%s: %v", v.Name, rec.Values)
		}
		// A merge that changes nothing writes Flask's bytes back exactly.
		if err := s.Merge(ctx, sid, &seshat.Change{Expires: time.Now().Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		if after, _ := c.Get(ctx, p+sid).Bytes(); !bytes.Equal(after, b) {
			t.Fatalf("%s: merge rewrote\n%x\nas\n%x", v.Name, b, after)
		}
		if v.Name != "redis/write/use_signer=False" {
			continue
		}
		// A record holding a datetime is an error, not a missing session.
		for _, w := range f.Vectors {
			if w.Name == "pickle/p4/datetime" {
				w.Field("pickle_hex", &h)
			}
		}
		dt, _ := hex.DecodeString(h)
		c.Set(ctx, p+"dt", dt, time.Minute)
		if _, err := s.Load(ctx, "dt"); !errors.Is(err, flasksession.ErrUnsupportedOpcode) || errors.Is(err, seshat.ErrCorruptRecord) {
			t.Fatalf("Load of a datetime: %v", err)
		}
		// A value that is no pickled dict is corrupt: a fresh session.
		c.Set(ctx, p+"junk", "junk", time.Minute)
		if _, err := s.Load(ctx, "junk"); !errors.Is(err, seshat.ErrCorruptRecord) {
			t.Fatalf("Load of junk: %v", err)
		}
		err = s.Merge(ctx, "dt", &seshat.Change{Set: map[string][]byte{"a": []byte("1")}, Expires: time.Now().Add(time.Minute)})
		if !errors.Is(err, flasksession.ErrUnsupportedOpcode) || errors.Is(err, seshat.ErrStoreUnavailable) {
			t.Fatalf("Merge into a datetime record: %v", err)
		}
		if after, _ := c.Get(ctx, p+"dt").Bytes(); !bytes.Equal(after, dt) {
			t.Fatal("a failed merge changed the record")
		}
	}
}

func TestMergeRetries(t *testing.T) {
	c := client(t)
	p := prefix(t, c)
	s := New(c, Options{Prefix: p})
	ctx := t.Context()
	exp := time.Now().Add(time.Minute)
	if err := s.Save(ctx, "k", &seshat.Record{Values: map[string][]byte{"base": []byte("0")}, Expires: exp}); err != nil {
		t.Fatal(err)
	}
	// Another writer changes the key between the merge's read and EXEC,
	// twice: the merge retries and keeps both writers' keys.
	var writes atomic.Int32
	s.beforeExec = func() {
		if n := writes.Add(1); n <= 2 {
			other := New(c, Options{Prefix: p})
			if err := other.Merge(context.Background(), "k", &seshat.Change{Set: map[string][]byte{"other" + string(rune('0'+n)): []byte("1")}, Expires: exp}); err != nil {
				t.Error(err)
			}
		}
	}
	if err := s.Merge(ctx, "k", &seshat.Change{Set: map[string][]byte{"mine": []byte("1")}, Expires: exp}); err != nil {
		t.Fatal(err)
	}
	s.beforeExec = nil
	rec, err := s.Load(ctx, "k")
	if err != nil || len(rec.Values) != 4 {
		t.Fatalf("after contended merge: %v %v", rec, err)
	}
	if n := writes.Load(); n != 3 {
		t.Fatalf("%d attempts, want 3 (two conflicts, then success)", n)
	}
	// A writer that always interferes: Merge gives up after
	// MaxMergeAttempts and reports the store unavailable.
	s2 := New(c, Options{Prefix: p, MaxMergeAttempts: 3})
	attempts := 0
	valid, _ := flasksession.EncodePickle(map[string]any{"other": true}, 4)
	s2.beforeExec = func() {
		attempts++
		c.Set(context.Background(), p+"k", valid, time.Minute)
	}
	err = s2.Merge(ctx, "k", &seshat.Change{Set: map[string][]byte{"x": []byte("1")}, Expires: exp})
	if !errors.Is(err, ErrContention) || !errors.Is(err, seshat.ErrStoreUnavailable) || attempts != 3 {
		t.Fatalf("Merge under constant interference: %v after %d attempts", err, attempts)
	}
}

func TestKeysAndIterate(t *testing.T) {
	c := client(t)
	p := prefix(t, c)
	weird := p + "a*b?[c]\\:" // glob characters in the prefix are escaped
	s := New(c, Options{Prefix: weird})
	ctx := t.Context()
	for _, k := range []string{"", "a\nb", strings.Repeat("k", 300)} {
		if err := s.Save(ctx, k, &seshat.Record{Expires: time.Now().Add(time.Minute)}); !errors.Is(err, flasksession.ErrInvalidKey) {
			t.Errorf("Save(%q): %v", k, err)
		}
	}
	exp := time.Now().Add(time.Minute)
	s.Save(ctx, "one", &seshat.Record{Values: map[string][]byte{"v": []byte("1")}, Expires: exp, UserID: "alice"})
	s.Save(ctx, "two", &seshat.Record{Values: map[string][]byte{"v": []byte("2")}, Expires: exp})
	c.Set(ctx, p+"aXb?[c]\\:three", "not ours", time.Minute) // matches an unescaped glob
	c.Set(ctx, weird+"bad", "\x80\x04\x8c\x01x\x8c\x01y\x93.", time.Minute)
	seen := map[string]string{}
	err := s.Iterate(ctx, func(in seshat.SessionInfo) error {
		seen[in.Key] = in.UserID
		if in.Expires.Before(time.Now()) {
			t.Errorf("%s: Expires %v", in.Key, in.Expires)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 3 || seen["one"] != "alice" || seen["two"] != "" {
		t.Fatalf("Iterate saw %v", seen)
	}
	if _, ok := seen["bad"]; !ok {
		t.Fatal("an undecodable record is still a session")
	}
}

// TestMergeAcrossStores: several Stores (as several processes would) merge
// into one session at once; WATCH/MULTI keeps every update.
func TestMergeAcrossStores(t *testing.T) {
	c := client(t)
	p := prefix(t, c)
	exp := time.Now().Add(time.Minute)
	stores := make([]*Store, 4)
	for i := range stores {
		stores[i] = New(c, Options{Prefix: p})
	}
	if err := stores[0].Save(t.Context(), "k", &seshat.Record{Values: map[string][]byte{"base": []byte("0")}, Expires: exp}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for si, s := range stores {
		for g := range 10 {
			wg.Go(func() {
				for i := range 10 {
					k := fmt.Sprintf("s%d-g%d-%d", si, g, i)
					if err := s.Merge(t.Context(), "k", &seshat.Change{Set: map[string][]byte{k: []byte("1")}, Expires: exp}); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	rec, err := stores[1].Load(t.Context(), "k")
	if err != nil || len(rec.Values) != 401 {
		t.Fatalf("%d values after 400 merges from 4 stores, want 401 (%v)", len(rec.Values), err)
	}
}
