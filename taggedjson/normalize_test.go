package taggedjson_test

import (
	"encoding/json"
	"errors"
	"html/template"
	"math"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/seshat-go/seshat/internal/flaskvectors"
	"github.com/seshat-go/seshat/taggedjson"
)

type color string

type point struct {
	X, Y int
	Tags []string `json:"tags,omitempty"`
}

type textID int

func (t textID) MarshalText() ([]byte, error) { return []byte("id-" + string(rune('0'+int(t)))), nil }

func TestNormalize(t *testing.T) {
	when := time.Date(2024, 1, 2, 3, 4, 5, 678, time.FixedZone("", 3600))
	u := taggedjson.UUID{1}
	huge := new(big.Int).Lsh(big.NewInt(1), 70)
	n7 := 7
	var nilPtr *int
	for _, c := range []struct {
		in, want any
	}{
		{nil, nil},
		{true, true},
		{"s", "s"},
		{int64(5), int64(5)},
		{5, int64(5)},
		{int8(-5), int64(-5)},
		{uint16(5), int64(5)},
		{uint64(math.MaxUint64), new(big.Int).SetUint64(math.MaxUint64)},
		{uintptr(9), int64(9)},
		{float32(0.5), 0.5},
		{big.NewInt(3), int64(3)}, // canonical: fits int64
		{huge, huge},
		{json.Number("12"), int64(12)},
		{json.Number("1.0"), 1.0},
		{json.Number("1e2"), 100.0},
		{json.Number("123456789012345678901234567890"), func() any { b, _ := new(big.Int).SetString("123456789012345678901234567890", 10); return b }()},
		{color("red"), "red"},
		{taggedjson.Markup("<b>"), taggedjson.Markup("<b>")},
		{template.HTML("<i>"), taggedjson.Markup("<i>")},
		{u, u},
		{when, time.Date(2024, 1, 2, 2, 4, 5, 0, time.UTC)},
		{[]byte{1, 2}, []byte{1, 2}},
		{json.RawMessage(`{"a":1}`), map[string]any{"a": int64(1)}}, // a json.Marshaler
		{[]string{"a", "b"}, []any{"a", "b"}},
		{[]string(nil), []any{}},
		{[2]int{1, 2}, []any{int64(1), int64(2)}},
		{[3]byte{1, 2, 3}, []any{int64(1), int64(2), int64(3)}},
		{map[string]int{"a": 1}, map[string]any{"a": int64(1)}},
		{map[string]int(nil), map[string]any{}},
		{map[int]string{10: "x", -2: "y"}, map[string]any{"10": "x", "-2": "y"}},
		{map[uint8]bool{7: true}, map[string]any{"7": true}},
		{map[color]any{"k": []int{1}}, map[string]any{"k": []any{int64(1)}}},
		{&n7, int64(7)},
		{nilPtr, nil},
		{[]any{1, taggedjson.Tuple{uint(2), "x"}}, []any{int64(1), taggedjson.Tuple{int64(2), "x"}}},
		{map[string]any{"t": when, "n": 1}, map[string]any{"t": time.Date(2024, 1, 2, 2, 4, 5, 0, time.UTC), "n": int64(1)}},
		{point{X: 1, Y: 2}, map[string]any{"X": int64(1), "Y": int64(2)}},
		{&point{X: 1, Tags: []string{"a"}}, map[string]any{"X": int64(1), "Y": int64(0), "tags": []any{"a"}}},
		{struct{ F float64 }{F: 2}, map[string]any{"F": int64(2)}}, // encoding/json writes 2, read back as an int
		{textID(3), "id-3"},
		{net.IPv4(10, 0, 0, 1), "10.0.0.1"},
	} {
		got, err := taggedjson.Normalize(c.in)
		if err != nil {
			t.Errorf("Normalize(%#v): %v", c.in, err)
			continue
		}
		if d := flaskvectors.Diff(got, c.want); d != "" {
			t.Errorf("Normalize(%#v): %s", c.in, d)
		}
		checkCanonical(t, got)
		// Marshal accepts the raw Go value and writes what it writes for
		// the normalized one.
		if a, b := mustMarshal(t, c.in), mustMarshal(t, got); a != b {
			t.Errorf("Marshal(%#v) = %s, Marshal(Normalize) = %s", c.in, a, b)
		}
	}
	for _, c := range []struct {
		in   any
		want error
	}{
		{make(chan int), taggedjson.ErrUnsupportedType},
		{func() {}, taggedjson.ErrUnsupportedType},
		{complex(1, 2), taggedjson.ErrUnsupportedType},
		{map[float64]int{1: 1}, taggedjson.ErrUnsupportedType},
		{map[[2]int]int{}, taggedjson.ErrUnsupportedType},
		{[]any{1, make(chan int)}, taggedjson.ErrUnsupportedType},
		{struct{ C chan int }{}, taggedjson.ErrUnsupportedType},
		{struct{ F float64 }{math.NaN()}, taggedjson.ErrUnsupportedValue},
		{(*big.Int)(nil), taggedjson.ErrUnsupportedValue},
		{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), taggedjson.ErrUnsupportedValue},
		{json.Number("x"), taggedjson.ErrUnsupportedValue},
	} {
		_, err := taggedjson.Normalize(c.in)
		if !errors.Is(err, c.want) {
			t.Errorf("Normalize(%T) error = %v, want %v", c.in, err, c.want)
		}
	}
	type node struct{ Next *node }
	loop := &node{}
	loop.Next = loop
	if _, err := taggedjson.Normalize(loop); err == nil {
		t.Errorf("Normalize(cycle) succeeded")
	}
	m := map[string]any{}
	m["self"] = m
	if _, err := taggedjson.Normalize(m); !errors.Is(err, taggedjson.ErrTooDeep) {
		t.Errorf("Normalize(cyclic map) error = %v", err)
	}
}

// TestNormalizeKeepsModel checks that model containers are returned as is
// (no copy) when nothing inside them changes.
func TestNormalizeKeepsModel(t *testing.T) {
	m := map[string]any{"a": []any{"x", int64(1)}, "t": taggedjson.Tuple{true}}
	got, err := taggedjson.Normalize(m)
	if err != nil {
		t.Fatal(err)
	}
	got.(map[string]any)["new"] = 1
	if _, ok := m["new"]; !ok {
		t.Fatal("Normalize copied a model map")
	}
	// But it copies instead of modifying the caller's map in place.
	m2 := map[string]any{"a": 1}
	got2, _ := taggedjson.Normalize(m2)
	if _, ok := m2["a"].(int); !ok || got2.(map[string]any)["a"] != int64(1) {
		t.Fatalf("Normalize modified its input: %#v", m2)
	}
}

func TestNormalizeStrings(t *testing.T) {
	for _, bad := range []any{"\xff", taggedjson.Markup("a\xc3"), map[string]any{"\xfe": 1}, []any{"ok", "\xed\xa0"},
		map[string]string{"k": "\x80"}, map[string]int{"\x80": 1}, color("\xff")} {
		if _, err := taggedjson.Normalize(bad); !errors.Is(err, taggedjson.ErrUnsupportedValue) {
			t.Errorf("Normalize(%q) error = %v, want ErrUnsupportedValue", bad, err)
		}
	}
	// Lone surrogates (as Unmarshal stores them) are Python strings.
	if _, err := taggedjson.Normalize("\xed\xa0\x80"); err != nil {
		t.Errorf("Normalize(lone surrogate): %v", err)
	}
}
