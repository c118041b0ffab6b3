package seshat

import (
	"fmt"
	"testing"
)

// TestChangeSet checks the last Op per key wins and each key appears once,
// below and above the size where the set builds its index.
func TestChangeSet(t *testing.T) {
	for _, n := range []int{1, inlineChanges, inlineChanges + 1, indexAfter, indexAfter + 1, 5 * indexAfter} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			var c changeSet
			for round := range 3 {
				for i := range n {
					op := OpSet
					if (i+round)%2 == 1 {
						op = OpDelete
					}
					c.set(fmt.Sprint("k", i), op)
				}
			}
			if c.len() != n {
				t.Fatalf("len %d, want %d", c.len(), n)
			}
			i := 0
			for k, op := range c.all() {
				want := OpSet
				if (i+2)%2 == 1 {
					want = OpDelete
				}
				if k != fmt.Sprint("k", i) || op != want {
					t.Fatalf("entry %d: %s %v, want k%d %v", i, k, op, i, want)
				}
				i++
			}
			if (n > indexAfter) != (c.index != nil) {
				t.Fatalf("index built: %v with %d keys", c.index != nil, n)
			}
			c.reset()
			if c.len() != 0 {
				t.Fatal("reset kept changes")
			}
			c.set("again", OpDelete)
			if op, ok := c.get("again"); c.len() != 1 || !ok || op != OpDelete {
				t.Fatalf("after reset: len %d, get %v %v", c.len(), op, ok)
			}
		})
	}
}

// TestChangeSetGet finds the last Op of a key with and without the index.
func TestChangeSetGet(t *testing.T) {
	for _, n := range []int{3, 3 * indexAfter} {
		var c changeSet
		for i := range n {
			c.set(fmt.Sprint("k", i), OpSet)
		}
		c.set("k1", OpDelete)
		if op, ok := c.get("k1"); !ok || op != OpDelete {
			t.Fatalf("n=%d: get(k1) = %v, %v", n, op, ok)
		}
		if _, ok := c.get("missing"); ok {
			t.Fatalf("n=%d: found a key never changed", n)
		}
	}
}

// The first inlineChanges keys a request changes cost no allocation (the
// set's own array holds them).
func TestChangeSetInline(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts need a normal build")
	}
	keys := []string{"a", "b", "c", "d", "e"}[:inlineChanges]
	var c changeSet
	if n := testing.AllocsPerRun(100, func() {
		c.reset()
		for _, k := range keys {
			c.set(k, OpSet)
		}
	}); n != 0 {
		t.Fatalf("%d changes allocate %v times", len(keys), n)
	}
}
