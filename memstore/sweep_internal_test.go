package memstore

import (
	"context"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
)

func (s *Store) stored() int {
	n := 0
	for i := range s.shards {
		s.shards[i].mu.Lock()
		n += s.shards[i].used
		s.shards[i].mu.Unlock()
	}
	return n
}

func TestSweeperFreesAndStops(t *testing.T) {
	s := New(Options{SweepInterval: 10 * time.Millisecond})
	ctx := context.Background()
	for i := range 10 {
		s.Save(ctx, string(rune('a'+i)), &seshat.Record{Values: map[string][]byte{"a": []byte("1")}, Expires: time.Now().Add(-time.Second), UserID: "u"})
	}
	s.Save(ctx, "live", &seshat.Record{Expires: time.Now().Add(time.Hour)})
	deadline := time.Now().Add(2 * time.Second)
	for s.stored() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("sweeper left %d records", s.stored())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if len(s.userKeys("u")) != 0 {
		t.Fatal("user index keeps swept sessions")
	}
	done := make(chan struct{})
	go func() { s.Close(); s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("Close did not stop the sweeper")
	}
	// After Close nothing sweeps any more.
	s.Save(ctx, "late", &seshat.Record{Expires: time.Now().Add(-time.Second)})
	time.Sleep(50 * time.Millisecond)
	if s.stored() != 2 {
		t.Fatal("the sweeper ran after Close")
	}
}

func TestCorruptBlob(t *testing.T) {
	if _, err := decode("\x05a", shape{}, nil); err == nil {
		t.Fatal("truncated blob decoded")
	}
	if _, err := decode("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", shape{}, nil); err == nil {
		t.Fatal("overlong length decoded")
	}
	blob, sh := encode(map[string][]byte{"k": []byte(`"v"`), "": []byte(`null`)})
	got, err := decode(blob, sh, nil)
	if err != nil || string(got["k"]) != `"v"` || string(got[""]) != "null" {
		t.Fatalf("round trip: %v %v", got, err)
	}
}
