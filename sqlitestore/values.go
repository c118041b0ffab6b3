package sqlitestore

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// encodeValues writes the data column: a JSON object mapping each session
// key to a JSON string that holds the value's tagged JSON byte for byte.
// Keeping each value as a string, rather than as nested JSON, makes the
// round trip exact (SQLite's JSON functions would read NaN and Infinity as
// JSON5 and write them back as null and 9e999) and lets the merge statement
// rebuild the object with json_each and json_group_object, where a JSON null
// value can never be mistaken for "delete this key".
func encodeValues(values map[string][]byte) ([]byte, error) {
	n := 2
	for k, v := range values {
		n += len(k) + len(v) + 8
	}
	b := make([]byte, 0, n)
	b = append(b, '{')
	first := true
	for k, v := range values {
		if err := checkText("key", k, k); err != nil {
			return nil, err
		}
		if err := checkText("value of key", k, string(v)); err != nil {
			return nil, err
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendString(b, k)
		b = append(b, ':')
		b = appendString(b, string(v))
	}
	return append(b, '}'), nil
}

// checkText refuses what the data column cannot hold as text.
func checkText(what, key, s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s %q is not valid UTF-8", what, key)
	}
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return fmt.Errorf("%s %q contains a NUL byte", what, key)
		}
	}
	return nil
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. s is valid UTF-8.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// decodeValues reads the data column back.
func decodeValues(data []byte) (map[string][]byte, error) {
	var m map[string]*string
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("data is not a JSON object of strings: %w", err)
	}
	if m == nil {
		return nil, errors.New("data is null")
	}
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		if v == nil {
			return nil, fmt.Errorf("value of key %q is null, not a string", k)
		}
		out[k] = []byte(*v)
	}
	return out, nil
}
