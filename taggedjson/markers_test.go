package taggedjson_test

import (
	"math"
	"math/big"
	"testing"
	"time"

	"github.com/seshat-go/seshat/internal/flaskvectors"
	"github.com/seshat-go/seshat/taggedjson"
)

// TestMarkers checks the helpers in internal/flaskvectors/markers.go that
// every test in the repository relies on.
func TestMarkers(t *testing.T) {
	raw := `{"t":{"$tuple":[1,"a",null]},"b":{"$bytes_hex":"00ff"},"m":{"$markup":"<b>"},
		"u":{"$uuid":"12345678-1234-5678-1234-567812345678"},"d":{"$datetime":"2024-01-02T03:04:05.678901+02:00"},
		"n":{"$datetime":"2024-01-02T03:04:05"},"f":[{"$float":"nan"},{"$float":"inf"},{"$float":"-inf"},1.0,-0.0],
		"i":[7,18446744073709551617],"l":[{"x":{"$tuple":[]}}]}`
	v, err := flaskvectors.DecodeMarkers([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := taggedjson.ParseUUID("12345678123456781234567812345678")
	huge, _ := new(big.Int).SetString("18446744073709551617", 10)
	want := map[string]any{
		"t": taggedjson.Tuple{int64(1), "a", nil},
		"b": []byte{0, 0xff},
		"m": taggedjson.Markup("<b>"),
		"u": u,
		"d": time.Date(2024, 1, 2, 1, 4, 5, 678901000, time.UTC),
		"n": time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		"f": []any{math.NaN(), math.Inf(1), math.Inf(-1), 1.0, math.Copysign(0, -1)},
		"i": []any{int64(7), huge},
		"l": []any{map[string]any{"x": taggedjson.Tuple{}}},
	}
	if d := flaskvectors.Diff(v, want); d != "" {
		t.Fatal(d)
	}
	// ToMarkers is the inverse.
	m, err := flaskvectors.ToMarkers(want)
	if err != nil {
		t.Fatal(err)
	}
	back, err := flaskvectors.FromMarkers(m)
	if err != nil || !flaskvectors.Equal(back, want) {
		t.Fatalf("FromMarkers(ToMarkers(v)) = %s, %v", flaskvectors.MarkersString(back), err)
	}

	// Equal's rules.
	for _, c := range []struct {
		a, b any
		eq   bool
	}{
		{math.NaN(), math.NaN(), true},
		{0.0, math.Copysign(0, -1), false},
		{int64(1), 1.0, false},
		{int64(5), big.NewInt(5), true},
		{"x", taggedjson.Markup("x"), false},
		{[]any{int64(1)}, taggedjson.Tuple{int64(1)}, false},
		{map[string]any(nil), map[string]any{}, true},
		{[]any(nil), []any{}, true},
		{[]byte(nil), []byte{}, true},
		{nil, []any{}, false},
		{time.Date(2024, 1, 2, 3, 0, 0, 0, time.UTC), time.Date(2024, 1, 2, 5, 0, 0, 0, time.FixedZone("", 7200)), true},
		{map[string]any{"a": int64(1)}, map[string]any{"a": int64(1), "b": nil}, false},
	} {
		if got := flaskvectors.Equal(c.a, c.b); got != c.eq {
			t.Errorf("Equal(%#v, %#v) = %v", c.a, c.b, got)
		}
	}
}
