package mysqlstore

import (
	"bytes"
	"errors"
	"testing"

	"github.com/seshat-go/seshat"
)

// FuzzDecodeDoc: the stored-document decoder (the data column as MariaDB
// hands it back) never panics, marks what it refuses as a corrupt record,
// and what it accepts encodes back to the same values. Runs without a
// database.
func FuzzDecodeDoc(f *testing.F) {
	for _, s := range []string{`{"user":["alice"],"t":[{" t":["x",1]}]}`, `{"n":[null]}`, `{}`, `{"a":[1,2]}`,
		`{"a":[]}`, `{"a":1}`, `{"a":["x"],"a":[2]}`, `{"\u0000":[1]}`, "{\"\xff\":[1]}", `[]`, `null`, `{"a":[[[[[[[1]]]]]]]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		values, err := decodeDoc(data)
		if err != nil {
			if !errors.Is(err, seshat.ErrCorruptRecord) {
				t.Fatalf("refusal not marked corrupt: %v", err)
			}
			return
		}
		doc, err := encodeDoc(values)
		if err != nil {
			// The writer's limits (nesting) are stricter than the reader's.
			return
		}
		back, err := decodeDoc([]byte(doc))
		if err != nil || len(back) != len(values) {
			t.Fatalf("re-encoded %s: %v, %d of %d values", doc, err, len(back), len(values))
		}
		for k, v := range values {
			if !bytes.Equal(back[k], v) {
				t.Fatalf("value of %q changed: %s -> %s", k, v, back[k])
			}
		}
	})
}
