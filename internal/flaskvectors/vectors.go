// Package flaskvectors gives tests the test vectors produced by running the real
// Python libraries (itsdangerous, Flask 2.2/3.1, Flask-Login, Flask-WTF,
// Flask-Session, Flask-Security-Too, Beaker).
//
// The JSON files under testdata/ are copies of ../shared/flask-compat/vectors,
// embedded so the project's tests stand alone in a fresh clone. Regenerate them
// with the scripts in shared/flask-compat/gen and copy them here.
//
// This package is for tests only; nothing in the library imports it.
package flaskvectors

import (
	"embed"
	"encoding/json"
	"fmt"
)

//go:embed testdata/*.json
var files embed.FS

// File is one area file (for example "itsdangerous" or "tagged_json").
type File struct {
	Area        string            `json:"area"`
	Description string            `json:"description"`
	Libraries   []json.RawMessage `json:"libraries"`
	Vectors     []Vector          `json:"vectors"`
}

// Vector is one test vector. The fields that differ between areas stay raw;
// each test decodes the ones it needs with [Vector.Field].
type Vector struct {
	Name       string   `json:"name"`
	Kind       string   `json:"kind"`
	ProducedBy []string `json:"produced_by"`
	Differs    bool     `json:"differs_between_versions"`
	// Raw holds every field of the vector, including the ones above.
	Raw map[string]json.RawMessage `json:"-"`
}

// UnmarshalJSON keeps every field in Raw as well as the common ones.
func (v *Vector) UnmarshalJSON(b []byte) error {
	type plain Vector
	if err := json.Unmarshal(b, (*plain)(v)); err != nil {
		return err
	}
	return json.Unmarshal(b, &v.Raw)
}

// Field decodes the vector's field name into dst. It reports an error when the
// field is absent.
func (v *Vector) Field(name string, dst any) error {
	raw, ok := v.Raw[name]
	if !ok {
		return fmt.Errorf("vector %q has no field %q", v.Name, name)
	}
	return json.Unmarshal(raw, dst)
}

// Has reports whether the vector has the field name.
func (v *Vector) Has(name string) bool {
	_, ok := v.Raw[name]
	return ok
}

// ProducedByFlask3 reports whether Flask 3.1 (itsdangerous 2.2) produced the vector.
func (v *Vector) ProducedByFlask3() bool { return v.producedBy("flask==3.") }

// ProducedByFlask2 reports whether Debian's Flask 2.2 produced the vector.
func (v *Vector) ProducedByFlask2() bool { return v.producedBy("flask==2.") }

func (v *Vector) producedBy(prefix string) bool {
	for _, p := range v.ProducedBy {
		if len(p) >= len(prefix) && p[:len(prefix)] == prefix {
			return true
		}
	}
	return false
}

// Load reads the area file name (without ".json"), for example "itsdangerous".
func Load(name string) (*File, error) {
	b, err := files.ReadFile("testdata/" + name + ".json")
	if err != nil {
		return nil, fmt.Errorf("flaskvectors: %w", err)
	}
	var f File
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("flaskvectors: %s: %w", name, err)
	}
	return &f, nil
}

// Raw returns the bytes of the area file name, for fuzz seed corpora.
func Raw(name string) ([]byte, error) {
	return files.ReadFile("testdata/" + name + ".json")
}
