package memstore

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/storetest"
)

// hashes replace the key hash so that keys collide: every key, or every
// key of one length, lands in one shard and one chain of slots.
var hashes = map[string]func(string) uint64{
	"maphash":  nil,
	"constant": func(string) uint64 { return 7 },
	"length":   func(k string) uint64 { return uint64(len(k)) },
}

// The conformance suite passes when keys collide: every operation finds a
// key by comparing the stored bytes along its chain.
func TestConformanceCollisions(t *testing.T) {
	for name, hash := range hashes {
		if hash == nil {
			continue
		}
		t.Run(name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) seshat.Store {
				s := New(Options{SweepInterval: 50 * time.Millisecond})
				s.hash = hash
				return s
			})
		})
	}
}

// TestAgainstModel runs random operations, with keys that collide or not,
// against a map of what the store should hold, and checks every answer,
// the chains and the arena's accounting. Values are large enough that
// shards compact many times, and the clock moves so that records expire.
func TestAgainstModel(t *testing.T) {
	for name, hash := range hashes {
		t.Run(name, func(t *testing.T) {
			compactions := testAgainstModel(t, hash, rand.New(rand.NewPCG(1, 2)), 20000)
			if compactions < 10 {
				t.Fatalf("the shards compacted %d times: the test does not exercise compaction", compactions)
			}
		})
	}
}

// FuzzAgainstModel is TestAgainstModel with the operations its input
// chooses, with keys that all collide, collide by length, or do not.
func FuzzAgainstModel(f *testing.F) {
	f.Add([]byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b"))
	f.Add([]byte("\x01\x00\x02\x01\x00\x03\x0b\x00\x04\x0b\x09\x09\x06\x01\x02"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 {
			return
		}
		hash := []func(string) uint64{nil, hashes["constant"], hashes["length"]}[b[0]%3]
		in := &input{b[1:]}
		testAgainstModel(t, hash, in, len(b))
	})
}

// chooser picks operations and their arguments.
type chooser interface{ IntN(n int) int }

// input chooses from a fuzzer's bytes, and 0 once they are used up.
type input struct{ b []byte }

func (in *input) IntN(n int) int {
	v := 0
	for m := n; m > 1 && len(in.b) > 0; m >>= 8 {
		v = v<<8 | int(in.b[0])
		in.b = in.b[1:]
	}
	return v % n
}

type modelRec struct {
	values  map[string][]byte
	expires int64
	user    string
}

// testAgainstModel runs steps operations and returns how many times the
// shards compacted.
func testAgainstModel(t *testing.T, hash func(string) uint64, rng chooser, steps int) int {
	ctx := context.Background()
	now := time.Unix(1e9, 0)
	s := New(Options{SweepInterval: -1, Now: func() time.Time { return now }})
	defer s.Close()
	s.hash = hash
	model := map[string]*modelRec{}
	keys := make([]string, 40)
	for i := range keys {
		keys[i] = fmt.Sprint("key", i%7, "-", i) // lengths 6 to 8
	}
	names := []string{"a", "b", "user_id", "csrf_token", ""}
	users := []string{"", "", "alice", "bob"}
	value := func() []byte {
		n := rng.IntN(4)
		if n == 0 {
			return []byte(`"` + string(bytes.Repeat([]byte{'x'}, rng.IntN(3000))) + `"`)
		}
		return []byte(fmt.Sprint(rng.IntN(1000)))
	}
	values := func() map[string][]byte {
		m := map[string][]byte{}
		for range rng.IntN(4) {
			m[names[rng.IntN(len(names))]] = value()
		}
		return m
	}
	expiry := func() int64 { return now.Add(time.Duration(rng.IntN(20)-3) * time.Second).UnixNano() }
	live := func(k string) *modelRec {
		if r := model[k]; r != nil && r.expires > now.UnixNano() {
			return r
		}
		return nil
	}
	for step := range steps {
		k := keys[rng.IntN(len(keys))]
		switch op := rng.IntN(12); op {
		case 0, 1:
			r := &modelRec{values: values(), expires: expiry(), user: users[rng.IntN(len(users))]}
			if err := s.Save(ctx, k, &seshat.Record{Values: maps.Clone(r.values), Expires: time.Unix(0, r.expires), UserID: r.user}); err != nil {
				t.Fatal(err)
			}
			model[k] = r
		case 2, 3:
			ch := &seshat.Change{Set: values(), Expires: time.Unix(0, expiry()), Create: rng.IntN(2) == 0}
			if rng.IntN(2) == 0 {
				ch.Delete = []string{names[rng.IntN(len(names))]}
			}
			if rng.IntN(3) == 0 {
				ch.SetUser, ch.UserID = true, users[rng.IntN(len(users))]
			}
			err := s.Merge(ctx, k, ch)
			r := live(k)
			switch {
			case r == nil && !ch.Create:
				if err != seshat.ErrSessionGone {
					t.Fatalf("step %d: Merge of a gone record: %v", step, err)
				}
				continue
			case err != nil:
				t.Fatalf("step %d: Merge: %v", step, err)
			case r == nil:
				r = &modelRec{values: map[string][]byte{}}
				model[k] = r
			}
			for _, d := range ch.Delete {
				delete(r.values, d)
			}
			maps.Copy(r.values, ch.Set)
			r.expires = ch.Expires.UnixNano()
			if ch.SetUser {
				r.user = ch.UserID
			}
		case 4:
			if err := s.Delete(ctx, k); err != nil {
				t.Fatal(err)
			}
			delete(model, k)
		case 5:
			exp := expiry()
			err := s.Touch(ctx, k, time.Unix(0, exp))
			if r := live(k); r == nil {
				if err != seshat.ErrNoRecord {
					t.Fatalf("step %d: Touch of a gone record: %v", step, err)
				}
			} else if err != nil {
				t.Fatal(err)
			} else {
				r.expires = exp
			}
		case 6:
			name := names[rng.IntN(len(names))]
			v, ok, err := s.Take(ctx, k, name)
			if err != nil {
				t.Fatal(err)
			}
			var want []byte
			var wantOK bool
			if r := live(k); r != nil {
				want, wantOK = r.values[name]
				delete(r.values, name)
			}
			if ok != wantOK || !bytes.Equal(v, want) {
				t.Fatalf("step %d: Take(%q, %q) = %q %v, want %q %v", step, k, name, v, ok, want, wantOK)
			}
		case 7:
			now = now.Add(time.Second)
		case 8:
			user := users[2+rng.IntN(2)]
			if rng.IntN(4) == 0 {
				n, err := s.RevokeUser(ctx, user)
				if err != nil {
					t.Fatal(err)
				}
				want := 0
				for mk, r := range model {
					if r.user == user {
						if live(mk) != nil {
							want++
						}
						delete(model, mk)
					}
				}
				if n != want {
					t.Fatalf("step %d: RevokeUser = %d, want %d", step, n, want)
				}
				break
			}
			infos, err := s.ListByUser(ctx, user)
			if err != nil {
				t.Fatal(err)
			}
			var got, want []string
			for _, in := range infos {
				got = append(got, fmt.Sprint(in.Key, in.UserID, in.Expires.UnixNano()))
			}
			for mk, r := range model {
				if r.user == user && live(mk) != nil {
					want = append(want, fmt.Sprint(mk, r.user, r.expires))
				}
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("step %d: ListByUser(%q) = %q, want %q", step, user, got, want)
			}
		case 9:
			if rng.IntN(4) == 0 {
				n, err := s.DeleteExpired(ctx)
				if err != nil {
					t.Fatal(err)
				}
				want := 0
				for mk := range model {
					if live(mk) == nil {
						delete(model, mk)
						want++
					}
				}
				if n != want {
					t.Fatalf("step %d: DeleteExpired = %d, want %d", step, n, want)
				}
				break
			}
			var got, want []string
			s.Iterate(ctx, func(in seshat.SessionInfo) error {
				got = append(got, fmt.Sprint(in.Key, in.UserID, in.Expires.UnixNano()))
				return nil
			})
			for mk, r := range model {
				if live(mk) != nil {
					want = append(want, fmt.Sprint(mk, r.user, r.expires))
				}
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("step %d: Iterate = %q, want %q", step, got, want)
			}
		default:
			rec, err := s.Load(ctx, k)
			r := live(k)
			if r == nil {
				if err != seshat.ErrNoRecord {
					t.Fatalf("step %d: Load of a gone record: %v", step, err)
				}
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if !maps.EqualFunc(rec.Values, r.values, bytes.Equal) || rec.UserID != r.user || rec.Expires.UnixNano() != r.expires {
				t.Fatalf("step %d: Load(%q) = %q %q %d, want %q %q %d", step, k, rec.Values, rec.UserID, rec.Expires.UnixNano(), r.values, r.user, r.expires)
			}
		}
		if step%97 == 0 {
			checkShards(t, s)
		}
	}
	checkShards(t, s)
	compactions := 0
	for i := range s.shards {
		compactions += s.shards[i].compactions
	}
	return compactions
}

// checkShards checks each shard's chains, free list and garbage count.
func checkShards(t *testing.T, s *Store) {
	t.Helper()
	for si := range s.shards {
		sh := &s.shards[si]
		seen := make([]bool, len(sh.slots))
		liveBytes := 0
		for h, head := range sh.idx {
			for i := head + 1; i != 0; i = sh.slots[i-1].next {
				sl := &sh.slots[i-1]
				if seen[i-1] || sl.off < 0 {
					t.Fatalf("shard %d: slot %d is twice in chains or free", si, i-1)
				}
				seen[i-1] = true
				if got := s.hashBytes(sh.key(int(i - 1))); got != h || got%shardCount != uint64(si) {
					t.Fatalf("shard %d: key %q chained under hash %d", si, sh.key(int(i-1)), h)
				}
				liveBytes += recordLen(sl)
			}
		}
		free := 0
		for i := sh.free; i != 0; i = sh.slots[i-1].next {
			if seen[i-1] || sh.slots[i-1].off >= 0 {
				t.Fatalf("shard %d: free slot %d in use", si, i-1)
			}
			seen[i-1] = true
			free++
		}
		if free+sh.used != len(sh.slots) || slices.Contains(seen, false) {
			t.Fatalf("shard %d: %d free and %d used of %d slots", si, free, sh.used, len(sh.slots))
		}
		if liveBytes+sh.garbage != len(sh.arena) {
			t.Fatalf("shard %d: %d live bytes and %d garbage in an arena of %d", si, liveBytes, sh.garbage, len(sh.arena))
		}
	}
}
