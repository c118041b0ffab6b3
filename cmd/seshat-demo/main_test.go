package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRunPrintsURL starts the program as `go run` would, on port 0, and
// checks the line the e2e tests wait for, a page, and the key file.
func TestRunPrintsURL(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SESHAT_DEMO_SECRET", "")
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-data", dir}, pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no line on stdout: %v (run: %v)", err, <-done)
	}
	go io.Copy(io.Discard, pr)
	const prefix = "seshat-demo listening on http://127.0.0.1:"
	if !strings.HasPrefix(line, prefix) {
		t.Fatalf("stdout %q, want %q...", line, prefix)
	}
	url := strings.TrimSpace(strings.TrimPrefix(line, "seshat-demo listening on "))
	resp, err := http.Get(url + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET / = %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("run did not return after its context ended")
	}
	key, err := os.ReadFile(filepath.Join(dir, "secret-key"))
	if err != nil || len(strings.TrimSpace(string(key))) < 32 {
		t.Fatalf("secret-key: %q, %v", key, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "demo.db")); err != nil {
		t.Fatal(err)
	}
	// The key is kept: a second start reads the same one.
	k2, err := signingKey("", dir)
	if err != nil || strings.TrimSpace(string(key)) != string(k2) {
		t.Fatalf("second start: key changed (%v)", err)
	}
}

func TestRunBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-nope"},
		{"extra"},
		{"-data", t.TempDir(), "-store", "ftp://x"},
		{"-data", t.TempDir(), "-store", "redis://:hunter2@127.0.0.1:1/0"},
	} {
		var errOut strings.Builder
		err := run(context.Background(), args, io.Discard, &errOut)
		if err == nil {
			t.Errorf("run %q: no error", args)
			continue
		}
		if strings.Contains(err.Error()+errOut.String(), "hunter2") {
			t.Errorf("run %q: error shows the password: %v", args, err)
		}
	}
}

func TestDisplayAddr(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:8080": "127.0.0.1:8080", "0.0.0.0:80": "localhost:80", "[::]:9000": "localhost:9000", "[::1]:7": "[::1]:7",
	} {
		a, err := net.ResolveTCPAddr("tcp", in)
		if err != nil {
			t.Fatal(err)
		}
		if got := displayAddr(a); got != want {
			t.Errorf("displayAddr(%s) = %s, want %s", in, got, want)
		}
	}
}
