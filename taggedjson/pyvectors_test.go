package taggedjson_test

import (
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/seshat-go/seshat/internal/flaskvectors"
	"github.com/seshat-go/seshat/taggedjson"
)

// pyVectors is testdata/pyvectors.json, written by testdata/gen_pyvectors.py
// from the real Flask 3.1.3 serializer: thousands of edge cases that the
// shared vectors do not cover (the JSON grammar, every tag applied to every
// kind of value, base64, UUID and date leniency, float repr, string escapes).
type pyVectors struct {
	Loads []struct {
		JSON   string          `json:"json"`
		OK     bool            `json:"ok"`
		Exc    string          `json:"exc"`
		Value  json.RawMessage `json:"value"`
		Redump *string         `json:"redump"`
	} `json:"loads"`
	Floats  [][2]string `json:"floats"`
	Strings []struct {
		CodePoints []rune
		Dumps      string
	} `json:"-"`
	RawStrings [][2]json.RawMessage `json:"strings"`
}

func loadPyVectors(t testing.TB) *pyVectors {
	t.Helper()
	b, err := os.ReadFile("testdata/pyvectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var pv pyVectors
	if err := json.Unmarshal(b, &pv); err != nil {
		t.Fatal(err)
	}
	return &pv
}

// isMarkupOfContainer recognizes the one documented divergence of
// Unmarshal: Markup(list/dict/tuple) would need Python's repr.
func isMarkupOfContainer(err error) bool {
	var e *taggedjson.Error
	return errors.As(err, &e) && strings.HasPrefix(e.Msg, `" m" of a `)
}

func TestPythonLoads(t *testing.T) {
	pv := loadPyVectors(t)
	var ok, failed, diverged int
	for _, c := range pv.Loads {
		got, err := taggedjson.Unmarshal([]byte(c.JSON))
		if !c.OK {
			failed++
			if err == nil {
				t.Errorf("Unmarshal(%q) = %s; Flask raises %s", c.JSON, flaskvectors.MarkersString(got), c.Exc)
			}
			continue
		}
		if isMarkupOfContainer(err) {
			diverged++
			continue
		}
		if err != nil {
			t.Errorf("Unmarshal(%q): %v", c.JSON, err)
			continue
		}
		ok++
		checkCanonical(t, got)
		if c.Value != nil {
			if d := flaskvectors.Diff(got, markers(t, c.Value)); d != "" {
				t.Errorf("Unmarshal(%q): %s", c.JSON, d)
			}
		}
		b, err := taggedjson.Marshal(got)
		switch {
		case c.Redump == nil && err == nil:
			t.Errorf("Marshal(Unmarshal(%q)) = %s; Flask cannot write it", c.JSON, b)
		case c.Redump != nil && (err != nil || string(b) != *c.Redump):
			t.Errorf("Marshal(Unmarshal(%q)) = %s, %v; Flask writes %s", c.JSON, b, err, *c.Redump)
		}
	}
	t.Logf("%d loaded, %d rejected like Flask, %d Markup-of-container divergences", ok, failed, diverged)
	if diverged > 40 {
		t.Errorf("%d divergences: more than the Markup-of-container cases expected", diverged)
	}
}

func TestPythonFloatRepr(t *testing.T) {
	pv := loadPyVectors(t)
	for _, c := range pv.Floats {
		f, err := strconv.ParseFloat(c[0], 64) // Python's float.hex() is Go hex float syntax
		if err != nil {
			t.Fatalf("%s: %v", c[0], err)
		}
		got, err := taggedjson.Marshal(map[string]any{"v": f})
		if err != nil || string(got) != c[1] {
			t.Errorf("Marshal(%s = %v) = %s, %v; Flask writes %s", c[0], f, got, err, c[1])
		}
		back, err := taggedjson.Unmarshal(got)
		if err != nil || !flaskvectors.Equal(back, map[string]any{"v": f}) {
			t.Errorf("Unmarshal(%s) = %v, %v", got, back, err)
		}
	}
}

func TestPythonStrings(t *testing.T) {
	pv := loadPyVectors(t)
	for _, c := range pv.RawStrings {
		var cps []rune
		var want string
		if err := json.Unmarshal(c[0], &cps); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(c[1], &want); err != nil {
			t.Fatal(err)
		}
		s := wtf8(cps)
		got, err := taggedjson.Marshal(map[string]any{"s": s})
		if err != nil || string(got) != want {
			t.Errorf("Marshal(%U) = %s, %v; Flask writes %s", cps, got, err, want)
			continue
		}
		back, err := taggedjson.Unmarshal(got)
		if err != nil {
			t.Errorf("Unmarshal(%s): %v", got, err)
			continue
		}
		// Python joins a high and a low surrogate that end up adjacent as
		// separate code points into one astral character on the way back.
		if gs := back.(map[string]any)["s"].(string); gs != s && !hasSurrogatePair(cps) {
			t.Errorf("Unmarshal(%s) = %q, want %q", got, gs, s)
		}
	}
}

// wtf8 builds a Go string from code points, surrogates included (as
// Unmarshal stores them).
func wtf8(cps []rune) string {
	var b []byte
	for _, r := range cps {
		if 0xD800 <= r && r <= 0xDFFF {
			b = append(b, 0xED, byte(0x80|(r>>6)&0x3F), byte(0x80|r&0x3F))
		} else {
			b = utf8.AppendRune(b, r)
		}
	}
	return string(b)
}

func hasSurrogatePair(cps []rune) bool {
	for i := 0; i+1 < len(cps); i++ {
		if 0xD800 <= cps[i] && cps[i] <= 0xDBFF && 0xDC00 <= cps[i+1] && cps[i+1] <= 0xDFFF {
			return true
		}
	}
	return false
}
