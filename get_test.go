package seshat_test

import (
	"errors"
	"math"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/taggedjson"
)

type cartItem struct {
	SKU string `json:"sku"`
	Qty int    `json:"qty"`
}

// freshSession returns a session that round-tripped through a cookie, so the
// values are what a later request reads, not what was Set.
func roundTrip(t *testing.T, set map[string]any) *seshat.Session {
	t.Helper()
	m := newManager(t, nil)
	s, _ := m.Load(t.Context(), httptest.NewRequest("GET", "/", nil))
	for k, v := range set {
		if err := s.Set(k, v); err != nil {
			t.Fatalf("Set %s: %v", k, err)
		}
	}
	rec := httptest.NewRecorder()
	if err := m.Save(t.Context(), rec, s); err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	for _, c := range rec.Result().Cookies() {
		r.AddCookie(c)
	}
	s2, _ := m.Load(t.Context(), r)
	return s2
}

func TestTypedGet(t *testing.T) {
	when := time.Date(2024, 3, 9, 16, 0, 0, 0, time.UTC)
	s := roundTrip(t, map[string]any{
		"n":     42,
		"big":   uint64(math.MaxUint64),
		"f":     1.5,
		"name":  "café ☃",
		"tags":  []string{"a", "b"},
		"prefs": map[string]int{"x": 1},
		"cart":  []cartItem{{"A1", 2}},
		"when":  when,
		"raw":   []byte{0, 1, 2},
		"pair":  taggedjson.Tuple{"x", 1},
		"ok":    true,
	})
	if n, err := seshat.Get[int](s, "n"); err != nil || n != 42 {
		t.Errorf("int: %v %v", n, err)
	}
	if n, err := seshat.Get[int64](s, "n"); err != nil || n != 42 {
		t.Errorf("int64: %v %v", n, err)
	}
	if n, err := seshat.Get[uint64](s, "big"); err != nil || n != math.MaxUint64 {
		t.Errorf("uint64: %v %v", n, err)
	}
	if f, err := seshat.Get[float64](s, "f"); err != nil || f != 1.5 {
		t.Errorf("float: %v %v", f, err)
	}
	if v, err := seshat.Get[string](s, "name"); err != nil || v != "café ☃" {
		t.Errorf("string: %v %v", v, err)
	}
	if v, err := seshat.Get[[]string](s, "tags"); err != nil || len(v) != 2 || v[1] != "b" {
		t.Errorf("[]string: %v %v", v, err)
	}
	if v, err := seshat.Get[map[string]int](s, "prefs"); err != nil || v["x"] != 1 {
		t.Errorf("map: %v %v", v, err)
	}
	if v, err := seshat.Get[[]cartItem](s, "cart"); err != nil || len(v) != 1 || v[0] != (cartItem{"A1", 2}) {
		t.Errorf("structs: %v %v", v, err)
	}
	if v, err := seshat.Get[time.Time](s, "when"); err != nil || !v.Equal(when) {
		t.Errorf("time: %v %v", v, err)
	}
	if v, err := seshat.Get[[]byte](s, "raw"); err != nil || len(v) != 3 || v[2] != 2 {
		t.Errorf("bytes: %v %v", v, err)
	}
	if v, err := seshat.Get[taggedjson.Tuple](s, "pair"); err != nil || len(v) != 2 {
		t.Errorf("tuple: %v %v", v, err)
	}
	if v, err := seshat.Get[bool](s, "ok"); err != nil || !v {
		t.Errorf("bool: %v %v", v, err)
	}
	if _, err := seshat.Get[int](s, "missing"); !errors.Is(err, seshat.ErrNotFound) {
		t.Errorf("missing: %v", err)
	}
	if _, err := seshat.Get[int](s, "name"); !errors.Is(err, seshat.ErrTypeMismatch) {
		t.Errorf("mismatch: %v", err)
	}
	if _, err := seshat.Get[int8](s, "big"); !errors.Is(err, seshat.ErrTypeMismatch) {
		t.Errorf("overflow: %v", err)
	}
	if v := seshat.GetOr(s, "missing", 7); v != 7 {
		t.Errorf("GetOr: %v", v)
	}
}

func TestSetUnsupported(t *testing.T) {
	m := newManager(t, nil)
	s, _ := m.Load(t.Context(), httptest.NewRequest("GET", "/", nil))
	for _, v := range []any{make(chan int), func() {}, complex(1, 2), map[[2]int]int{{1, 2}: 3}} {
		if err := s.Set("bad", v); !errors.Is(err, seshat.ErrUnsupportedValue) {
			t.Errorf("%T: %v", v, err)
		}
	}
	if s.Modified() || s.Len() != 0 {
		t.Fatal("a refused Set changed the session")
	}
}

func TestSessionSemantics(t *testing.T) {
	m := newManager(t, nil)
	s, _ := m.Load(t.Context(), httptest.NewRequest("GET", "/", nil))
	if s.Accessed() || s.Modified() {
		t.Fatal("fresh session marked")
	}
	s.Pop("nope")
	if !s.Accessed() || s.Modified() {
		t.Fatal("popping a missing key must access but not modify (Flask's pop)")
	}
	s.Set("a", 1)
	s.Set("b", 2)
	s.Delete("a")
	if got := s.Changes(); got["a"] != seshat.OpDelete || got["b"] != seshat.OpSet || len(got) != 2 {
		t.Fatalf("changes %v", got)
	}
	if keys := s.Keys(); len(keys) != 1 || keys[0] != "b" {
		t.Fatalf("keys %v", keys)
	}
	s.SetPermanent(true)
	if !s.Permanent() || s.Len() != 2 {
		t.Fatal("permanent is stored as _permanent, like Flask")
	}
	s.Clear()
	if s.Len() != 0 || !s.Cleared() || s.Changes()["b"] != seshat.OpDelete {
		t.Fatal("clear")
	}
}

// TestInPlaceMapMutationRefreshed: like Flask, an in-place change of a nested
// value is not detected, but a permanent session's refresh carries it, and
// MarkModified forces it out.
func TestInPlaceMapMutationRefreshed(t *testing.T) {
	s := roundTrip(t, map[string]any{"prefs": map[string]any{"theme": "dark"}})
	v, _ := s.Get("prefs")
	v.(map[string]any)["theme"] = "light"
	if s.Modified() {
		t.Fatal("in-place change detected; Flask does not")
	}
	s.MarkModified()
	if !s.Modified() || s.Changes()["prefs"] != seshat.OpSet {
		t.Fatal("MarkModified")
	}
}

// TestTruthyPermanent: Flask tests `_permanent` for truth, not for True.
func TestTruthyPermanent(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want bool
	}{{true, true}, {false, false}, {1, true}, {0, false}, {"yes", true}, {"", false}, {nil, false}, {[]int{1}, true}, {[]int{}, false}, {math.NaN(), true}, {0.0, false}} {
		m := newManager(t, nil)
		s, _ := m.Load(t.Context(), httptest.NewRequest("GET", "/", nil))
		s.Set("_permanent", tc.v)
		if got := s.Permanent(); got != tc.want {
			t.Errorf("_permanent=%v: Permanent() = %v, want %v", tc.v, got, tc.want)
		}
	}
}

func TestLocalsAreRequestScopedAndNeverSaved(t *testing.T) {
	type key struct{}
	m := newManager(t, nil)
	s, _ := m.Load(t.Context(), httptest.NewRequest("GET", "/", nil))
	if s.Local(key{}) != nil {
		t.Fatal("fresh local")
	}
	s.SetLocal(key{}, 42)
	if s.Local(key{}) != 42 || s.Accessed() || s.Modified() || s.Len() != 0 {
		t.Fatal("a local touched the session")
	}
	rec := httptest.NewRecorder()
	m.Save(t.Context(), rec, s)
	if len(rec.Result().Cookies()) != 0 {
		t.Fatal("a local was saved")
	}
	s2, _ := m.Load(t.Context(), httptest.NewRequest("GET", "/", nil))
	if s2.Local(key{}) != nil {
		t.Fatal("locals leaked into another session")
	}
}
