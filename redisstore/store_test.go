package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/storetest"
)

// splitClient hides the *redis.Client type, so that New takes the path it
// takes for cluster clients (index updates outside the session scripts);
// the tests run that path on one node.
type splitClient struct{ *redis.Client }

// TestConformanceSplit runs the shared suite through the cluster code path.
func TestConformanceSplit(t *testing.T) {
	c := sharedClient(t)
	storetest.Run(t, func(t *testing.T) seshat.Store {
		s := New(splitClient{c}, Options{Prefix: testPrefix(t, c)})
		if !s.cluster {
			t.Fatal("splitClient did not select the split path")
		}
		return s
	})
}

func newTestStore(t *testing.T, opts Options) (*Store, *redis.Client) {
	t.Helper()
	c := sharedClient(t)
	opts.Prefix = testPrefix(t, c)
	return New(c, opts), c
}

// bothPaths runs fn with a store on the single-node path and one on the
// split (cluster) path.
func bothPaths(t *testing.T, fn func(t *testing.T, s *Store, c *redis.Client)) {
	t.Run("single", func(t *testing.T) {
		s, c := newTestStore(t, Options{})
		fn(t, s, c)
	})
	t.Run("split", func(t *testing.T) {
		c := sharedClient(t)
		s := New(splitClient{c}, Options{Prefix: testPrefix(t, c)})
		fn(t, s, c)
	})
}

func rec(uid string, exp time.Time, kv ...string) *seshat.Record {
	r := &seshat.Record{Values: map[string][]byte{}, Expires: exp, UserID: uid}
	for i := 0; i+1 < len(kv); i += 2 {
		r.Values[kv[i]] = []byte(kv[i+1])
	}
	return r
}

func TestLayout(t *testing.T) {
	bothPaths(t, func(t *testing.T, s *Store, c *redis.Client) {
		ctx := t.Context()
		key := storetest.Key()
		exp := time.Now().Add(time.Hour).Truncate(time.Millisecond)
		if err := s.Save(ctx, key, rec("alice", exp, "cart", `[1,2]`, "m:exp", `"a user key that looks like metadata"`)); err != nil {
			t.Fatal(err)
		}
		hk := s.prefix + "s:" + key
		h, err := c.HGetAll(ctx, hk).Result()
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{
			"v:cart":  `[1,2]`,
			"v:m:exp": `"a user key that looks like metadata"`,
			"m:exp":   ms(exp),
			"m:uid":   "alice",
		}
		if len(h) != len(want) {
			t.Fatalf("hash %v, want %v", h, want)
		}
		for f, v := range want {
			if h[f] != v {
				t.Fatalf("field %q = %q, want %q (hash %v)", f, h[f], v, h)
			}
		}
		if ttl := c.PExpireTime(ctx, hk).Val(); ttl.Milliseconds() != exp.UnixMilli() {
			t.Fatalf("PEXPIRETIME %v, want %v", ttl.Milliseconds(), exp.UnixMilli())
		}
		got, err := s.Load(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if string(got.Values["m:exp"]) != want["v:m:exp"] || !got.Expires.Equal(exp) || got.UserID != "alice" {
			t.Fatalf("Load = %+v", got)
		}
		// The user index: one key with a hash tag, the member scored at or
		// after the expiry, alive at least as long.
		ix := s.indexKey("alice")
		if !strings.HasPrefix(ix, s.prefix+"u:{") || !strings.HasSuffix(ix, "}") || strings.Contains(ix, "alice") {
			t.Fatalf("index key %q", ix)
		}
		score, err := c.ZScore(ctx, ix, key).Result()
		if err != nil {
			t.Fatalf("ZSCORE: %v", err)
		}
		if int64(score) < exp.UnixMilli() || int64(score) > exp.UnixMilli()+2*s.gran {
			t.Fatalf("index score %v, want in [%d, +2 granules]", int64(score), exp.UnixMilli())
		}
		if pt := c.PExpireTime(ctx, ix).Val().Milliseconds(); pt < exp.UnixMilli() {
			t.Fatalf("index expires at %d, before the session (%d)", pt, exp.UnixMilli())
		}
		// Nothing else was written under the prefix.
		keys, _ := c.Keys(ctx, escapeGlob(s.prefix)+"*").Result()
		if len(keys) != 2 {
			t.Fatalf("keys under the prefix: %v", keys)
		}
		// ST-01: an application key equal to the session key (or to the
		// prefix plus it) does not reach the session.
		for _, k := range []string{key, s.prefix + key} {
			c.Set(ctx, k, "app cache value", time.Minute)
			t.Cleanup(func() { c.Del(context.Background(), k) })
		}
		if got, err := s.Load(ctx, key); err != nil || got.UserID != "alice" || len(got.Values) != 2 {
			t.Fatalf("Load after app keys collided with the session key: %+v, %v", got, err)
		}
	})
}

func TestMergeAfterDeleteIsGone(t *testing.T) {
	bothPaths(t, func(t *testing.T, s *Store, c *redis.Client) {
		ctx := t.Context()
		key := storetest.Key()
		exp := time.Now().Add(time.Hour)
		if err := s.Save(ctx, key, rec("bob", exp, "a", "1")); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, key); err != nil {
			t.Fatal(err)
		}
		// A login that raced with the logout must not resurrect the record
		// nor leave it in the new owner's index.
		err := s.Merge(ctx, key, &seshat.Change{Set: map[string][]byte{"b": []byte("2")}, Expires: exp, UserID: "bob", SetUser: true})
		if !errors.Is(err, seshat.ErrSessionGone) {
			t.Fatalf("Merge after Delete: %v, want ErrSessionGone", err)
		}
		if errors.Is(err, seshat.ErrStoreUnavailable) {
			t.Fatalf("ErrSessionGone must not be a store failure: %v", err)
		}
		if n := c.Exists(ctx, s.prefix+"s:"+key).Val(); n != 0 {
			t.Fatal("the record came back")
		}
		if n := c.ZCard(ctx, s.indexKey("bob")).Val(); n != 0 {
			t.Fatalf("bob's index holds %d members after a refused merge", n)
		}
		if strings.Contains(err.Error(), key) {
			t.Fatalf("error reveals the whole key: %v", err)
		}
	})
}

// TestExpiredBeforeEviction writes a record whose expiry has passed but that
// Redis has not evicted (no TTL): every operation must treat it as gone.
func TestExpiredBeforeEviction(t *testing.T) {
	s, c := newTestStore(t, Options{})
	ctx := t.Context()
	key := storetest.Key()
	hk := s.prefix + "s:" + key
	past := time.Now().Add(-time.Second)
	plant := func() {
		t.Helper()
		if err := c.HSet(ctx, hk, "m:exp", ms(past), "m:uid", "carol", "v:a", "1").Err(); err != nil {
			t.Fatal(err)
		}
	}
	plant()
	if _, err := s.Load(ctx, key); !errors.Is(err, seshat.ErrNoRecord) {
		t.Fatalf("Load: %v, want ErrNoRecord", err)
	}
	if err := s.Touch(ctx, key, time.Now().Add(time.Hour)); !errors.Is(err, seshat.ErrNoRecord) {
		t.Fatalf("Touch: %v, want ErrNoRecord", err)
	}
	if c.Exists(ctx, hk).Val() != 0 {
		t.Fatal("Touch left the expired record in place")
	}
	plant()
	if v, ok, err := s.Take(ctx, key, "a"); ok || err != nil {
		t.Fatalf("Take = %q, %v, %v; want nothing", v, ok, err)
	}
	if c.Exists(ctx, hk).Val() != 0 {
		t.Fatal("Take left the expired record in place")
	}
	plant()
	err := s.Merge(ctx, key, &seshat.Change{Set: map[string][]byte{"b": []byte("2")}, Expires: time.Now().Add(time.Hour)})
	if !errors.Is(err, seshat.ErrSessionGone) {
		t.Fatalf("Merge: %v, want ErrSessionGone", err)
	}
	if c.Exists(ctx, hk).Val() != 0 {
		t.Fatal("Merge left the expired record in place")
	}
	plant()
	// Create starts afresh: nothing of the expired record leaks in.
	err = s.Merge(ctx, key, &seshat.Change{Set: map[string][]byte{"b": []byte("2")}, Expires: time.Now().Add(time.Hour), Create: true})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Load(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Values) != 1 || string(got.Values["b"]) != "2" || got.UserID != "" {
		t.Fatalf("created over an expired record: %+v", got)
	}

	// The store's clock decides, not only Redis's TTL.
	later := New(c, Options{Prefix: s.prefix, Now: func() time.Time { return time.Now().Add(2 * time.Hour) }})
	if _, err := later.Load(ctx, key); !errors.Is(err, seshat.ErrNoRecord) {
		t.Fatalf("Load two hours later: %v, want ErrNoRecord", err)
	}
	if v, ok, err := later.Take(ctx, key, "b"); ok || err != nil {
		t.Fatalf("Take two hours later = %q, %v, %v; want nothing", v, ok, err)
	}
}

// TestTakeLayout: Take removes exactly the value's field, even for a
// session key that looks like metadata, and leaves the expiry field, the
// hash's TTL, the owner and the user index as they were.
func TestTakeLayout(t *testing.T) {
	bothPaths(t, func(t *testing.T, s *Store, c *redis.Client) {
		ctx := t.Context()
		key := storetest.Key()
		exp := time.Now().Add(time.Hour).Truncate(time.Millisecond)
		if err := s.Save(ctx, key, rec("alice", exp, "cart", `[1,2]`, "m:exp", `"looks like metadata"`)); err != nil {
			t.Fatal(err)
		}
		hk := s.sessionKey(key)
		for _, name := range []string{"m:uid", "exp", ""} {
			if v, ok, err := s.Take(ctx, key, name); ok || err != nil {
				t.Fatalf("Take(%q) = %q, %v, %v; want nothing", name, v, ok, err)
			}
		}
		v, ok, err := s.Take(ctx, key, "m:exp")
		if err != nil || !ok || string(v) != `"looks like metadata"` {
			t.Fatalf("Take(m:exp) = %q, %v, %v", v, ok, err)
		}
		h := c.HGetAll(ctx, hk).Val()
		want := map[string]string{"v:cart": `[1,2]`, "m:exp": ms(exp), "m:uid": "alice"}
		if fmt.Sprint(h) != fmt.Sprint(want) {
			t.Fatalf("hash after Take: %v, want %v", h, want)
		}
		if pt := c.PExpireTime(ctx, hk).Val().Milliseconds(); pt != exp.UnixMilli() {
			t.Fatalf("PEXPIRETIME %d after Take, want %d", pt, exp.UnixMilli())
		}
		if _, err := c.ZScore(ctx, s.indexKey("alice"), key).Result(); err != nil {
			t.Fatalf("the user index lost the session: %v", err)
		}
		// Taking the last value leaves an empty, live session.
		if _, ok, err := s.Take(ctx, key, "cart"); !ok || err != nil {
			t.Fatalf("Take(cart): %v, %v", ok, err)
		}
		if got, err := s.Load(ctx, key); err != nil || len(got.Values) != 0 || got.UserID != "alice" {
			t.Fatalf("Load after taking every value: %+v, %v", got, err)
		}
	})
}

func TestCorruptRecord(t *testing.T) {
	s, c := newTestStore(t, Options{})
	ctx := t.Context()
	for _, tc := range []struct {
		name  string
		plant func(k string) error
	}{
		{"no expiry", func(k string) error { return c.HSet(ctx, k, "v:a", "1", "m:uid", "x").Err() }},
		{"garbage expiry", func(k string) error { return c.HSet(ctx, k, "m:exp", "soon", "v:a", "1").Err() }},
		{"foreign field", func(k string) error {
			return c.HSet(ctx, k, "m:exp", ms(time.Now().Add(time.Hour)), "a", "1").Err()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := storetest.Key()
			if err := tc.plant(s.prefix + "s:" + key); err != nil {
				t.Fatal(err)
			}
			_, err := s.Load(ctx, key)
			if !errors.Is(err, ErrCorrupt) || errors.Is(err, seshat.ErrNoRecord) || errors.Is(err, seshat.ErrStoreUnavailable) {
				t.Fatalf("Load: %v, want ErrCorrupt only", err)
			}
			if strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "load "+key[:8]) {
				t.Fatalf("error should name the operation and a short key prefix only: %v", err)
			}
		})
	}
	t.Run("not a hash", func(t *testing.T) {
		key := storetest.Key()
		c.Set(ctx, s.prefix+"s:"+key, "x", time.Minute)
		if _, err := s.Load(ctx, key); err == nil || errors.Is(err, seshat.ErrNoRecord) || errors.Is(err, seshat.ErrStoreUnavailable) {
			t.Fatalf("Load of a string key: %v", err)
		}
		err := s.Merge(ctx, key, &seshat.Change{Set: map[string][]byte{"a": []byte("1")}, Expires: time.Now().Add(time.Hour)})
		if err == nil || errors.Is(err, seshat.ErrStoreUnavailable) {
			t.Fatalf("Merge into a string key: %v", err)
		}
	})
	t.Run("merge does not repair", func(t *testing.T) {
		key := storetest.Key()
		hk := s.prefix + "s:" + key
		c.HSet(ctx, hk, "v:a", "1")
		err := s.Merge(ctx, key, &seshat.Change{Set: map[string][]byte{"b": []byte("2")}, Expires: time.Now().Add(time.Hour)})
		if !errors.Is(err, seshat.ErrSessionGone) {
			t.Fatalf("Merge into a record without expiry: %v, want ErrSessionGone", err)
		}
		if c.HExists(ctx, hk, "v:b").Val() {
			t.Fatal("Merge wrote into a corrupt record")
		}
	})
}

// TestUserIndexMaintenance checks that the index follows Delete, owner
// changes and RevokeUser, and that readers prune what it should not hold.
func TestUserIndexMaintenance(t *testing.T) {
	bothPaths(t, func(t *testing.T, s *Store, c *redis.Client) {
		ctx := t.Context()
		exp := time.Now().Add(time.Hour)
		var k [5]string
		for i := range k {
			k[i] = storetest.Key()
			if err := s.Save(ctx, k[i], rec("dave", exp, "i", "1")); err != nil {
				t.Fatal(err)
			}
		}
		ix := s.indexKey("dave")
		if n := c.ZCard(ctx, ix).Val(); n != 5 {
			t.Fatalf("index holds %d, want 5", n)
		}
		// Delete drops the key from the index.
		if err := s.Delete(ctx, k[0]); err != nil {
			t.Fatal(err)
		}
		// A new owner: the key moves to the new owner's index.
		if err := s.Merge(ctx, k[1], &seshat.Change{Expires: exp, UserID: "erin", SetUser: true}); err != nil {
			t.Fatal(err)
		}
		// Clearing the owner drops it.
		if err := s.Merge(ctx, k[2], &seshat.Change{Expires: exp, SetUser: true}); err != nil {
			t.Fatal(err)
		}
		// Save under another owner drops it.
		if err := s.Save(ctx, k[3], rec("erin", exp)); err != nil {
			t.Fatal(err)
		}
		if m := c.ZRange(ctx, ix, 0, -1).Val(); len(m) != 1 || m[0] != k[4] {
			t.Fatalf("dave's index %v, want only %s", m, k[4])
		}
		if m := c.ZCard(ctx, s.indexKey("erin")).Val(); m != 2 {
			t.Fatalf("erin's index holds %d, want 2", m)
		}
		// A dangling member (as a failed best-effort removal leaves) and a
		// member whose record now belongs to someone else are pruned by
		// the readers.
		c.ZAdd(ctx, ix, redis.Z{Score: float64(exp.UnixMilli() + 1e7), Member: storetest.Key()})
		c.ZAdd(ctx, ix, redis.Z{Score: float64(exp.UnixMilli() + 1e7), Member: k[1]})
		infos, err := s.ListByUser(ctx, "dave")
		if err != nil || len(infos) != 1 || infos[0].Key != k[4] {
			t.Fatalf("ListByUser = %v, %v", infos, err)
		}
		if n := c.ZCard(ctx, ix).Val(); n != 1 {
			t.Fatalf("ListByUser left %d members, want 1", n)
		}
		c.ZAdd(ctx, ix, redis.Z{Score: float64(exp.UnixMilli() + 1e7), Member: k[1]})
		n, err := s.RevokeUser(ctx, "dave")
		if err != nil || n != 1 {
			t.Fatalf("RevokeUser = %d, %v; want 1", n, err)
		}
		if c.Exists(ctx, ix).Val() != 0 {
			t.Fatalf("dave's index survives revocation: %v", c.ZRange(ctx, ix, 0, -1).Val())
		}
		if _, err := s.Load(ctx, k[1]); err != nil {
			t.Fatalf("RevokeUser(dave) deleted erin's session: %v", err)
		}
		if infos, _ := s.ListByUser(ctx, "erin"); len(infos) != 2 {
			t.Fatalf("erin's sessions %v", infos)
		}
	})
}

// TestIndexFollowsSlidingExpiry checks that a session whose expiry slides
// stays covered by its owner's index (score and key TTL), on both paths.
func TestIndexFollowsSlidingExpiry(t *testing.T) {
	for _, split := range []bool{false, true} {
		name := map[bool]string{false: "single", true: "split"}[split]
		t.Run(name, func(t *testing.T) {
			c := sharedClient(t)
			var uc redis.UniversalClient = c
			if split {
				uc = splitClient{c}
			}
			s := New(uc, Options{Prefix: testPrefix(t, c), IndexGranularity: time.Minute})
			ctx := t.Context()
			key := storetest.Key()
			exp := time.Now().Add(10 * time.Minute)
			if err := s.Save(ctx, key, rec("frank", exp, "a", "1")); err != nil {
				t.Fatal(err)
			}
			ix := s.indexKey("frank")
			covered := func(e time.Time) {
				t.Helper()
				score := int64(c.ZScore(ctx, ix, key).Val())
				pt := c.PExpireTime(ctx, ix).Val().Milliseconds()
				if score < e.UnixMilli() || pt < e.UnixMilli() {
					t.Fatalf("index score %d, index expiry %d; session expires %d", score, pt, e.UnixMilli())
				}
			}
			covered(exp)
			exp = time.Now().Add(3 * time.Hour)
			if err := s.Touch(ctx, key, exp); err != nil {
				t.Fatal(err)
			}
			covered(exp)
			exp = time.Now().Add(9 * time.Hour)
			if err := s.Merge(ctx, key, &seshat.Change{Set: map[string][]byte{"b": []byte("2")}, Expires: exp}); err != nil {
				t.Fatal(err)
			}
			covered(exp)
			// A small slide within the granule costs nothing more and stays covered.
			exp = exp.Add(time.Second)
			if err := s.Touch(ctx, key, exp); err != nil {
				t.Fatal(err)
			}
			covered(exp)
		})
	}
}

// TestUnavailable points a store at a port nobody listens on: every
// operation must fail with ErrStoreUnavailable, promptly.
func TestUnavailable(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	defer c.Close()
	s := New(c, Options{})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	key := storetest.Key()
	exp := time.Now().Add(time.Hour)
	check := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, seshat.ErrStoreUnavailable) || errors.Is(err, seshat.ErrNoRecord) {
			t.Errorf("%s: %v, want ErrStoreUnavailable", op, err)
		}
		if err != nil && strings.Contains(err.Error(), key) {
			t.Errorf("%s: the error reveals the key: %v", op, err)
		}
	}
	_, err := s.Load(ctx, key)
	check("Load", err)
	check("Save", s.Save(ctx, key, rec("u", exp, "a", "1")))
	check("Merge", s.Merge(ctx, key, &seshat.Change{Expires: exp, UserID: "u", SetUser: true}))
	check("Touch", s.Touch(ctx, key, exp))
	_, ok, err := s.Take(ctx, key, "a")
	check("Take", err)
	if ok {
		t.Error("Take: ok with a failed store")
	}
	check("Delete", s.Delete(ctx, key))
	_, err = s.ListByUser(ctx, "u")
	check("ListByUser", err)
	_, err = s.RevokeUser(ctx, "u")
	check("RevokeUser", err)
	check("Iterate", s.Iterate(ctx, func(seshat.SessionInfo) error { return nil }))

	s2 := New(splitClient{c}, Options{})
	check("Save (split)", s2.Save(ctx, key, rec("u", exp, "a", "1")))

	// A canceled request context is reported the same way.
	cctx, ccancel := context.WithCancel(t.Context())
	ccancel()
	live, _ := newTestStore(t, Options{})
	_, err = live.Load(cctx, key)
	check("Load with a canceled context", err)
}

func TestCloseKeepsClient(t *testing.T) {
	s, c := newTestStore(t, Options{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(t.Context()).Err(); err != nil {
		t.Fatalf("Close closed the caller's client: %v", err)
	}
}

// TestSameKeyLastWriterWins documents the rule for two requests that set
// the same key: the merge Redis runs last wins, whole.
func TestSameKeyLastWriterWins(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	ctx := t.Context()
	key := storetest.Key()
	exp := time.Now().Add(time.Hour)
	if err := s.Save(ctx, key, rec("", exp, "n", "1")); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"2", `"three"`} {
		if err := s.Merge(ctx, key, &seshat.Change{Set: map[string][]byte{"n": []byte(v)}, Expires: exp}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Load(ctx, key)
	if err != nil || string(got.Values["n"]) != `"three"` {
		t.Fatalf("Load = %v, %v", got, err)
	}
}

// TestIterateOwnPrefixOnly checks that Iterate sees only live sessions under
// its own prefix, even when the prefix holds glob characters.
func TestIterateOwnPrefixOnly(t *testing.T) {
	c := sharedClient(t)
	base := testPrefix(t, c)
	odd := New(c, Options{Prefix: base + "a*[b]?\\:"})
	other := New(c, Options{Prefix: base + "aXbY\\:"})
	ctx := t.Context()
	exp := time.Now().Add(time.Hour)
	want := map[string]bool{}
	for range 3 {
		k := storetest.Key()
		want[k] = true
		if err := odd.Save(ctx, k, rec("g", exp, "a", "1")); err != nil {
			t.Fatal(err)
		}
		if err := other.Save(ctx, storetest.Key(), rec("g", exp, "a", "1")); err != nil {
			t.Fatal(err)
		}
	}
	c.Set(ctx, base+"a*[b]?\\:s:not-a-hash", "x", time.Minute)
	seen := map[string]bool{}
	if err := odd.Iterate(ctx, func(in seshat.SessionInfo) error {
		seen[in.Key] = true
		if in.UserID != "g" || in.Expires.UnixMilli() != exp.UnixMilli() {
			t.Errorf("info %+v", in)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 3 {
		t.Fatalf("Iterate saw %d sessions, want 3", len(seen))
	}
	for k := range want {
		if !seen[k] {
			t.Fatalf("missed %s", k)
		}
	}
}

func TestLargeChange(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	ctx := t.Context()
	key := storetest.Key()
	exp := time.Now().Add(time.Hour)
	ch := &seshat.Change{Set: map[string][]byte{}, Expires: exp, Create: true}
	r := rec("", exp)
	for i := range 3000 {
		k := "k" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + ms(time.UnixMilli(int64(i)))
		ch.Set[k] = []byte("1")
		r.Values[k] = []byte("1")
	}
	if err := s.Save(ctx, key, r); err != nil {
		t.Fatal(err)
	}
	for k := range ch.Set {
		ch.Delete = append(ch.Delete, k)
	}
	ch.Set = map[string][]byte{"only": []byte("1")}
	if err := s.Merge(ctx, key, ch); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load(ctx, key)
	if err != nil || len(got.Values) != 1 {
		t.Fatalf("after deleting 3000 keys: %d values, %v", len(got.Values), err)
	}
}

// TestIndexExpiresWithSessions checks ST-06 without any cleanup: once a
// user's sessions have expired, Redis drops the user's index by itself
// within two granularities.
func TestIndexExpiresWithSessions(t *testing.T) {
	c := sharedClient(t)
	for _, uc := range []redis.UniversalClient{c, splitClient{c}} {
		s := New(uc, Options{Prefix: testPrefix(t, c), IndexGranularity: 100 * time.Millisecond})
		ctx := t.Context()
		exp := time.Now().Add(700 * time.Millisecond)
		for range 3 {
			if err := s.Save(ctx, storetest.Key(), rec("heidi", exp, "a", "1")); err != nil {
				t.Fatal(err)
			}
		}
		k := storetest.Key()
		if err := s.Merge(ctx, k, &seshat.Change{Expires: exp, Create: true, UserID: "heidi", SetUser: true}); err != nil {
			t.Fatal(err)
		}
		ix := s.indexKey("heidi")
		if n := c.ZCard(ctx, ix).Val(); n != 4 {
			t.Fatalf("index holds %d, want 4", n)
		}
		time.Sleep(time.Until(exp.Add(250 * time.Millisecond)))
		if c.Exists(ctx, ix).Val() != 0 {
			t.Fatalf("index still there after its sessions expired: %v (TTL %v)", c.ZRangeWithScores(ctx, ix, 0, -1).Val(), c.PTTL(ctx, ix).Val())
		}
	}
}

func TestZeroExpiryRefused(t *testing.T) {
	s, c := newTestStore(t, Options{})
	ctx := t.Context()
	key := storetest.Key()
	if err := s.Save(ctx, key, rec("", time.Time{}, "a", "1")); err == nil {
		t.Error("Save without an expiry accepted")
	}
	if err := s.Merge(ctx, key, &seshat.Change{Create: true}); err == nil {
		t.Error("Merge without an expiry accepted")
	}
	if err := s.Touch(ctx, key, time.Time{}); err == nil {
		t.Error("Touch without an expiry accepted")
	}
	if c.Exists(ctx, s.sessionKey(key)).Val() != 0 {
		t.Error("something was written")
	}
}
