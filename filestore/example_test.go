package filestore_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/filestore"
)

func Example() {
	tmp, err := os.MkdirTemp("", "sessions")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)

	// In an app: seshat.New(seshat.Config{Keys: keys, Store: store}).
	store, err := filestore.New(filepath.Join(tmp, "sessions"), filestore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	ctx := context.Background()
	key := seshat.StoreKey("an-example-session-id") // what the manager passes
	expires := time.Now().Add(time.Hour)
	err = store.Merge(ctx, key, &seshat.Change{
		Set:     map[string][]byte{"user": []byte(`"alice"`), "cart": []byte(`[1,2]`)},
		Expires: expires, UserID: "alice", SetUser: true, Create: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	rec, err := store.Load(ctx, key)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("user=%s cart=%s owner=%s\n", rec.Values["user"], rec.Values["cart"], rec.UserID)

	sessions, _ := store.ListByUser(ctx, "alice")
	fmt.Println("alice has", len(sessions), "session(s)")
	n, _ := store.RevokeUser(ctx, "alice") // log out everywhere
	fmt.Println("revoked", n)
	_, err = store.Load(ctx, key)
	fmt.Println(errors.Is(err, seshat.ErrNoRecord))
	// Output:
	// user="alice" cart=[1,2] owner=alice
	// alice has 1 session(s)
	// revoked 1
	// true
}
