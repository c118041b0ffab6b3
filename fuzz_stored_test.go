package seshat_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/internal/flaskvectors"
	"github.com/seshat-go/seshat/memstore"
)

// storedFixture is a store-mode manager on a fixed clock holding one live
// session, with the id cookie value that reaches it.
type storedFixture struct {
	m     *seshat.Manager
	store *memstore.Store
	now   time.Time
	value string // the valid cookie value
	key   string // its store key
}

// newStoredFixture logs to logger (nil: nowhere).
func newStoredFixture(tb testing.TB, logger *slog.Logger) *storedFixture {
	tb.Helper()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	now := time.Unix(1710000010, 0)
	st := memstore.New(memstore.Options{SweepInterval: -1, Now: func() time.Time { return now }})
	tb.Cleanup(func() { st.Close() })
	m, err := seshat.New(seshat.Config{
		Keys:   [][]byte{testKey},
		Store:  st,
		Now:    func() time.Time { return now },
		Logger: logger,
	})
	if err != nil {
		tb.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	s, err := m.Load(r.Context(), r)
	if err != nil {
		tb.Fatal(err)
	}
	s.Set("user", "alice")
	rec := httptest.NewRecorder()
	if err := m.Save(r.Context(), rec, s); err != nil {
		tb.Fatal(err)
	}
	f := &storedFixture{m: m, store: st, now: now}
	for _, c := range rec.Result().Cookies() {
		if c.Name == m.CookieName() {
			f.value = c.Value
		}
	}
	st.Iterate(context.Background(), func(si seshat.SessionInfo) error { f.key = si.Key; return nil })
	if f.value == "" || f.key == "" {
		tb.Fatal("fixture: no session cookie or record")
	}
	return f
}

// FuzzLoadStoredCookie feeds arbitrary Cookie headers to the store-mode
// cookie path (id cookie decoding, candidate scan, store lookup). It must
// never fail the request, and the only session it may ever load is the one
// whose signed id the header really carries.
func FuzzLoadStoredCookie(f *testing.F) {
	fx := newStoredFixture(f, nil)
	f.Add("session=" + fx.value)
	f.Add("session=evil; session=" + fx.value)
	f.Add("session=" + fx.value[:len(fx.value)-1] + "A")
	f.Add("session=" + strings.Repeat("A", 43) + ".x.y")
	f.Add("session=../../etc/passwd; session=%00")
	f.Add(strings.Repeat("session=x; ", 20) + "session=" + fx.value)
	addCookieSeeds(f, "flask_session_server")
	f.Fuzz(func(t *testing.T, header string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Cookie", header)
		s, err := fx.m.Load(r.Context(), r)
		if err != nil {
			t.Fatalf("memstore cannot be unavailable: %v", err)
		}
		if s.Len() > 0 {
			if !strings.Contains(header, fx.value) {
				t.Fatalf("a session loaded from a header without its cookie: %q", header)
			}
			if u, _ := seshat.Get[string](s, "user"); u != "alice" {
				t.Fatalf("loaded session holds %v", s.Values())
			}
		} else if s.LoadError() != nil && !errors.Is(s.LoadError(), seshat.ErrInvalidCookie) {
			t.Fatalf("load error not marked ErrInvalidCookie: %v", s.LoadError())
		}
	})
}

// FuzzStoredRecord puts an arbitrary value under an arbitrary key of a live
// stored record (what a compromised or buggy store could hand back) and
// loads it through the middleware: the result is either the decoded value
// or a fresh session marked ErrCorruptRecord, never a panic or a 5xx.
func FuzzStoredRecord(f *testing.F) {
	fx := newStoredFixture(f, nil)
	for _, s := range []string{`"alice"`, `{" t":["a",1]}`, `{" d":"Wed, 21 Oct 2015 07:28:00 GMT"}`,
		`{" u":"not-a-uuid"}`, `{" m":"<b>"}`, `{" b":"!!"}`, `1e999`, `NaN`, `[[[[[[]]]]]]`, "\"\xff\"", ``} {
		f.Add("user", []byte(s))
	}
	vf, err := flaskvectors.Load("tagged_json")
	if err != nil {
		f.Fatal(err)
	}
	for _, v := range vf.Vectors {
		var res struct {
			Value any `json:"value"`
		}
		_ = v.Field("result", &res)
		if js, ok := res.Value.(string); ok {
			f.Add("k", []byte(js))
		}
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, key string, raw []byte) {
		rec := &seshat.Record{Values: map[string][]byte{key: raw}, Expires: fx.now.Add(time.Hour)}
		if err := fx.store.Save(ctx, fx.key, rec); err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Cookie", "session="+fx.value)
		s, err := fx.m.Load(ctx, r)
		if err != nil {
			t.Fatalf("decode failure reported as a store failure: %v", err)
		}
		if s.LoadError() != nil {
			if s.Len() != 0 || !errors.Is(s.LoadError(), seshat.ErrCorruptRecord) {
				t.Fatalf("bad record: %d values, reason %v", s.Len(), s.LoadError())
			}
			return
		}
		if !s.Has(key) {
			t.Fatalf("accepted record lost key %q", key)
		}
	})
}
