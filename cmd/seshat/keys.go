package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// keysEnv is the environment variable holding newline-separated keys.
const keysEnv = "SESHAT_KEYS"

// keyOptions gathers the --key and --key-file flags of a command.
type keyOptions struct {
	keys    [][]byte
	file    string
	fileSet bool
}

const keyOptionsHelp = `key options (exactly one source; oldest key first, newest last):
  --key K         a key; repeat for several (visible in the process list)
  --key-file F    a file with one key per line (blank lines ignored)
  SESHAT_KEYS     environment variable with newline-separated keys, used
                  when neither flag is given
`

func (o *keyOptions) register(fs *flag.FlagSet) {
	fs.Func("key", "signing key (repeatable; the last one signs)", func(s string) error {
		if s == "" {
			return errors.New("empty key")
		}
		o.keys = append(o.keys, []byte(s))
		return nil
	})
	fs.Func("key-file", "file with one key per line, oldest first", func(s string) error {
		if o.fileSet {
			return errors.New("--key-file given more than once")
		}
		o.file, o.fileSet = s, true
		return nil
	})
}

// resolve returns the keys from the one source given. Its errors are usage
// errors; they name the source, never a key.
func (o *keyOptions) resolve(env func(string) string) ([][]byte, error) {
	switch {
	case len(o.keys) > 0 && o.fileSet:
		return nil, errors.New("give keys with --key or with --key-file, not both")
	case len(o.keys) > 0:
		return o.keys, nil
	case o.fileSet:
		keys, err := readKeyFile(o.file)
		if err != nil {
			return nil, err
		}
		if len(keys) == 0 {
			return nil, fmt.Errorf("key file %s holds no key", o.file)
		}
		return keys, nil
	}
	if keys := splitKeys(env(keysEnv)); len(keys) > 0 {
		return keys, nil
	}
	return nil, fmt.Errorf("no key: give --key, --key-file or %s", keysEnv)
}

func readKeyFile(name string) ([][]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxInput+1))
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	if len(b) > maxInput {
		return nil, fmt.Errorf("key file %s exceeds %d bytes", name, maxInput)
	}
	return splitKeys(string(b)), nil
}

// splitKeys splits newline-separated keys, dropping a trailing "\r" from
// each line and skipping blank lines.
func splitKeys(s string) [][]byte {
	var keys [][]byte
	for line := range strings.SplitSeq(s, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		keys = append(keys, []byte(line))
	}
	return keys
}
