package taggedjson_test

import (
	"errors"
	"math"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/seshat-go/seshat/taggedjson"
)

type account struct {
	Name  string    `json:"name"`
	Roles []string  `json:"roles"`
	Seen  time.Time `json:"seen"`
	Raw   []byte    `json:"raw"`
	ID    string    `json:"id"`
	Pair  [2]any    `json:"pair"`
}

// convertTo runs Convert into a new *T and returns the T.
func convertTo[T any](t *testing.T, v any) (T, error) {
	t.Helper()
	var dst T
	err := taggedjson.Convert(v, &dst)
	return dst, err
}

func TestConvert(t *testing.T) {
	when := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	u := taggedjson.UUID{0xab}
	huge := new(big.Int).Lsh(big.NewInt(1), 70)
	check := func(name string, got, want any, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s: %v", name, err)
			return
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", name, got, want)
		}
	}
	s, err := convertTo[string](t, "x")
	check("string", s, "x", err)
	s, err = convertTo[string](t, taggedjson.Markup("<b>"))
	check("Markup→string", s, "<b>", err)
	m, err := convertTo[taggedjson.Markup](t, "<i>")
	check("string→Markup", m, taggedjson.Markup("<i>"), err)
	c, err := convertTo[color](t, "red")
	check("named string", c, color("red"), err)
	i, err := convertTo[int](t, int64(42))
	check("int", i, 42, err)
	i8, err := convertTo[int8](t, int64(-128))
	check("int8", i8, int8(-128), err)
	u16, err := convertTo[uint16](t, int64(65535))
	check("uint16", u16, uint16(65535), err)
	u64, err := convertTo[uint64](t, new(big.Int).SetUint64(math.MaxUint64))
	check("uint64 from big", u64, uint64(math.MaxUint64), err)
	i, err = convertTo[int](t, 3600.0)
	check("integral float→int", i, 3600, err)
	f, err := convertTo[float64](t, int64(1)<<53)
	check("int→float64", f, float64(1<<53), err)
	f32, err := convertTo[float32](t, 0.5)
	check("float32", f32, float32(0.5), err)
	f, err = convertTo[float64](t, math.Inf(-1))
	check("-Inf", f, math.Inf(-1), err)
	b, err := convertTo[bool](t, true)
	check("bool", b, true, err)
	bi, err := convertTo[*big.Int](t, huge)
	check("*big.Int", bi, huge, err)
	bi, err = convertTo[*big.Int](t, int64(5))
	check("int64→*big.Int", bi, big.NewInt(5), err)
	ss, err := convertTo[[]string](t, []any{"a", taggedjson.Markup("b")})
	check("[]string", ss, []string{"a", "b"}, err)
	ss, err = convertTo[[]string](t, taggedjson.Tuple{"message", "hi"})
	check("Tuple→[]string", ss, []string{"message", "hi"}, err)
	is, err := convertTo[[]int](t, []any{int64(1), int64(-2), int64(3)})
	check("[]int", is, []int{1, -2, 3}, err)
	is, err = convertTo[[]int](t, []any{int64(1), 2.0}) // an integral float: the general path
	check("[]int with a float", is, []int{1, 2}, err)
	is, err = convertTo[[]int](t, taggedjson.Tuple{})
	check("empty Tuple→[]int", is, []int{}, err)
	ss, err = convertTo[[]string](t, []any{})
	check("empty []string", ss, []string{}, err)
	arr, err := convertTo[[2]string](t, taggedjson.Tuple{"message", "hi"})
	check("Tuple→[2]string", arr, [2]string{"message", "hi"}, err)
	tup, err := convertTo[taggedjson.Tuple](t, []any{int64(1)})
	check("[]any→Tuple", tup, taggedjson.Tuple{int64(1)}, err)
	la, err := convertTo[[]any](t, taggedjson.Tuple{int64(1)})
	check("Tuple→[]any", la, []any{int64(1)}, err)
	mi, err := convertTo[map[string]int](t, map[string]any{"a": int64(1), "b": 2.0})
	check("map[string]int", mi, map[string]int{"a": 1, "b": 2}, err)
	mk, err := convertTo[map[int]string](t, map[string]any{"10": "x"})
	check("map[int]string", mk, map[int]string{10: "x"}, err)
	by, err := convertTo[[]byte](t, []byte{1, 2})
	check("[]byte", by, []byte{1, 2}, err)
	tm, err := convertTo[time.Time](t, when)
	check("time", tm, when, err)
	tp, err := convertTo[*time.Time](t, when)
	check("*time.Time", tp, &when, err)
	uu, err := convertTo[taggedjson.UUID](t, u)
	check("UUID", uu, u, err)
	u16b, err := convertTo[[16]byte](t, u)
	check("UUID→[16]byte", u16b, [16]byte(u), err)
	var anyv any
	err = taggedjson.Convert(map[string]any{"k": int64(1)}, &anyv)
	check("any", anyv, map[string]any{"k": int64(1)}, err)
	ps, err := convertTo[*string](t, nil)
	check("nil→*string", ps, (*string)(nil), err)
	pm, err := convertTo[map[string]any](t, nil)
	check("nil→map", pm, map[string]any(nil), err)
	pi, err := convertTo[*int](t, int64(3))
	three := 3
	check("*int", pi, &three, err)

	// Structs go through encoding/json.
	acc, err := convertTo[account](t, map[string]any{
		"name": "alice", "roles": taggedjson.Tuple{"admin"}, "seen": when, "raw": []byte("hi"),
		"id": u, "pair": taggedjson.Tuple{"x", int64(1)},
	})
	check("struct", acc, account{Name: "alice", Roles: []string{"admin"}, Seen: when, Raw: []byte("hi"),
		ID: u.String(), Pair: [2]any{"x", float64(1)}}, err)
	accs, err := convertTo[[]account](t, []any{map[string]any{"name": "bob"}})
	check("[]struct", accs, []account{{Name: "bob"}}, err)
	tm, err = convertTo[time.Time](t, "2024-01-02T03:04:05Z") // time.Time's UnmarshalJSON
	check("string→time via JSON", tm, when, err)
}

func TestConvertMismatch(t *testing.T) {
	for _, c := range []struct {
		v    any
		dst  any
		want []string // substrings of the message
	}{
		{int64(1), new(string), []string{"int64", "string"}},
		{"x", new(int), []string{"string", "int"}},
		{int64(300), new(int8), []string{"overflow"}},
		{int64(-1), new(uint), []string{"overflow"}},
		{new(big.Int).Lsh(big.NewInt(1), 70), new(int64), []string{"overflow"}},
		{1.5, new(int), []string{"integral"}},
		{math.NaN(), new(int), []string{"integral"}},
		{1e300, new(float32), []string{"overflow"}},
		{int64(1)<<53 + 1, new(float64), []string{"exactly"}},
		{nil, new(int), []string{"nil", "int"}},
		{true, new(float64), []string{"bool", "float64"}},
		{[]any{"a", int64(1)}, new([]string), []string{"[1]", "int64", "string"}},
		{taggedjson.Tuple{"a"}, new([2]string), []string{"length 1"}},
		{map[string]any{"x": int64(1)}, new(map[int]int), []string{`key "x"`}},
		{map[string]any{"k": "v"}, new(map[string]int), []string{`["k"]`}},
		{"x", new(account), []string{"encoding/json"}},
		{math.NaN(), new(account), []string{"NaN"}},
		{"x", new(error), []string{"error"}},
		{[]byte{1}, new([]int), []string{"[]uint8", "[]int"}},
		{[]any{int64(1), "2"}, new([]int), []string{"[1]", "string", "int"}},
		{[]any{int64(1), 2.5}, new([]int), []string{"[1]", "integral"}},
	} {
		err := taggedjson.Convert(c.v, c.dst)
		if !errors.Is(err, taggedjson.ErrTypeMismatch) {
			t.Errorf("Convert(%#v, %T) error = %v, want ErrTypeMismatch", c.v, c.dst, err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Convert(%#v, %T) error %q does not mention %q", c.v, c.dst, err, w)
			}
		}
	}
	var notPtr string
	for _, dst := range []any{nil, notPtr, (*string)(nil)} {
		if err := taggedjson.Convert("x", dst); err == nil {
			t.Errorf("Convert into %#v succeeded", dst)
		}
	}
}
