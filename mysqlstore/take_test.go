package mysqlstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/mysqlstore"
)

// TestTakeExact: Take returns the value's text as stored, removes only the
// name it is given (byte for byte: "é" and "e\u0301" are two names), may
// take the last value, and reports a document this package did not write
// as ErrCorruptRecord, not as an outage.
func TestTakeExact(t *testing.T) {
	db := testDB(t)
	table := tempTable(t, db)
	s := openStore(t, db, mysqlstore.Options{Table: table})
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	k := newKey()
	const v = `{" t":["x","a\"b\\c\u2028 \u00fc ü"]}`
	if err := s.Save(ctx, k, &seshat.Record{Values: vals("a.b[0]\"$", v, "\u00e9", "1", "e\u0301", "2"), Expires: exp, UserID: "u"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, want string }{{"a.b[0]\"$", v}, {"\u00e9", "1"}} {
		got, ok, err := s.Take(ctx, k, c.name)
		if err != nil || !ok || string(got) != c.want {
			t.Fatalf("Take(%q) = %s, %v, %v; want %s", c.name, got, ok, err, c.want)
		}
	}
	if rec := mustLoad(t, s, k); len(rec.Values) != 1 || string(rec.Values["e\u0301"]) != "2" || rec.UserID != "u" {
		t.Fatalf("after two takes: %q, owner %q", rec.Values, rec.UserID)
	}
	if got, ok, err := s.Take(ctx, k, "e\u0301"); err != nil || !ok || string(got) != "2" {
		t.Fatalf("Take of the last value = %s, %v, %v", got, ok, err)
	}
	if rec := mustLoad(t, s, k); len(rec.Values) != 0 {
		t.Fatalf("after the last take: %q", rec.Values)
	}
	if _, _, err := s.Take(ctx, "", "a"); err == nil || errors.Is(err, seshat.ErrStoreUnavailable) {
		t.Fatalf("Take with an empty key: %v", err)
	}
	if _, err := db.Exec("INSERT INTO `"+table+"` (id, data, expires_at) VALUES ('bad', '{\"a\":1}', ?)", exp.UnixMicro()); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Take(ctx, "bad", "a"); !errors.Is(err, seshat.ErrCorruptRecord) || errors.Is(err, seshat.ErrStoreUnavailable) || ok {
		t.Fatalf("Take of a value that is not an array: %v, %v", ok, err)
	}
}
