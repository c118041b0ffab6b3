package memstore

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/seshat-go/seshat"
)

// FuzzDecode: the record decoder never panics or over-reads on arbitrary
// bytes, and what it accepts encodes back to the same values.
func FuzzDecode(f *testing.F) {
	f.Add(encodeBytes(map[string][]byte{"user": []byte(`"alice"`), "t": []byte(`{" t":["x",1]}`)}))
	f.Add(encodeBytes(map[string][]byte{"": nil}))
	f.Add([]byte{0x80})                                                       // truncated varint
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}) // 2^64-1 length
	f.Add([]byte{0x01, 'a', 0x05, 'b'})                                       // value shorter than its length
	f.Fuzz(func(t *testing.T, b []byte) {
		// Any shape: decode is only sized by it.
		values, err := decode(string(b), shape{n: len(b) % 7, size: len(b) / 2}, make([]byte, 0, len(b)%13))
		if err != nil {
			if err != errCorrupt {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		blob, sh := encode(values)
		back, err := decode(blob, sh, nil)
		if err != nil || len(back) != len(values) {
			t.Fatalf("re-encoded record: %v, %d of %d values", err, len(back), len(values))
		}
		for k, v := range values {
			if !bytes.Equal(back[k], v) {
				t.Fatalf("value of %q changed: %q -> %q", k, v, back[k])
			}
		}
		// Merging on the encoded form gives what decoding, changing and
		// encoding again gives: drop one key, set one new and one old.
		ch := &seshat.Change{Set: map[string][]byte{"new": []byte(`1`)}}
		for k := range values {
			if len(ch.Delete) == 0 {
				ch.Delete = append(ch.Delete, k)
			} else {
				ch.Set[k] = []byte(`"changed"`)
				break
			}
		}
		merged, sh, err := merge(string(b), ch)
		if err != nil {
			t.Fatalf("merge of a valid record: %v", err)
		}
		if sh != shapeOf(merged) {
			t.Fatalf("merge gave shape %+v, want %+v", sh, shapeOf(merged))
		}
		got, err := decode(merged, sh, nil)
		if err != nil {
			t.Fatalf("merged record does not decode: %v", err)
		}
		for _, k := range ch.Delete {
			delete(values, k)
		}
		maps.Copy(values, ch.Set)
		if !maps.EqualFunc(got, values, bytes.Equal) {
			t.Fatalf("merge gave %q, want %q", got, values)
		}
	})
}

// A change with more keys than merge keeps on the stack is looked up in its
// map instead; both give the same record.
func TestMergeLargeChange(t *testing.T) {
	for _, sets := range []int{1, smallSet, smallSet + 1, 3 * smallSet} {
		values := map[string][]byte{}
		for i := range 2 * smallSet {
			values[fmt.Sprint("k", i)] = []byte(fmt.Sprint(i))
		}
		ch := &seshat.Change{Set: map[string][]byte{}, Delete: []string{"k0", "k1", "missing"}}
		for i := range sets {
			ch.Set[fmt.Sprint("k", 2*i+1)] = []byte(`"set"`) // k1 is deleted and set: set wins
		}
		blob, _ := encode(values)
		merged, sh, err := merge(blob, ch)
		if err != nil {
			t.Fatal(err)
		}
		if sh != shapeOf(merged) {
			t.Fatalf("merge gave shape %+v, want %+v", sh, shapeOf(merged))
		}
		got, err := decode(merged, sh, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range ch.Delete {
			delete(values, k)
		}
		maps.Copy(values, ch.Set)
		if !maps.EqualFunc(got, values, bytes.Equal) {
			t.Fatalf("%d sets: merge gave %q, want %q", sets, got, values)
		}
	}
}

func encodeBytes(values map[string][]byte) []byte {
	blob, _ := encode(values)
	return []byte(blob)
}

// shapeOf counts the values of a valid blob and their bytes.
func shapeOf(blob string) shape {
	var sh shape
	for rest := []byte(blob); len(rest) > 0; sh.n++ {
		_, v, r, _ := next(rest)
		sh.size += len(v)
		rest = r
	}
	return sh
}

// encode, decode and merge are appendEncode, shard.decode and appendMerge
// on strings. encode and merge append after bytes already in the arena,
// and fail if they change them.
func encode(values map[string][]byte) (string, shape) {
	b, sp := appendEncode([]byte(arenaPrefix), values)
	return string(checkPrefix(b)), sp
}

func decode(blob string, sp shape, buf []byte) (map[string][]byte, error) {
	var sh shard
	return sh.decode([]byte(blob), sp, buf)
}

func merge(blob string, ch *seshat.Change) (string, shape, error) {
	// The blob lies in the arena, before what merge appends, which has
	// room for some of it or none.
	arena := slices.Grow(append([]byte(arenaPrefix), blob...), len(blob)/2)
	b, sp, err := appendMerge(arena, arena[len(arenaPrefix):], ch)
	if err != nil {
		if len(b) != len(arena) {
			panic("appendMerge failed without truncating what it appended")
		}
		return "", shape{}, err
	}
	if string(b[len(arenaPrefix):len(arena)]) != blob {
		panic("appendMerge changed the record it merges")
	}
	return string(checkPrefix(b)[len(blob):]), sp, nil
}

const arenaPrefix = "other records"

func checkPrefix(b []byte) []byte {
	if !bytes.HasPrefix(b, []byte(arenaPrefix)) {
		panic("append changed the arena before it")
	}
	return b[len(arenaPrefix):]
}
