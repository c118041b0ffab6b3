package taggedjson_test

import (
	"encoding/json"
	"testing"

	"github.com/seshat-go/seshat/taggedjson"
)

// benchSession is a typical small Flask session.
func benchSession() map[string]any {
	return map[string]any{
		"user":       "alice",
		"cart":       []any{int64(1), int64(2), int64(3)},
		"n":          int64(7),
		"_permanent": true,
		"csrf_token": "5f2b7c9e0a1d3f4b6c8e0a2d4f6b8c0e2a4c6e8f",
	}
}

const benchPayload = `{"_permanent":true,"cart":[1,2,3],"csrf_token":"5f2b7c9e0a1d3f4b6c8e0a2d4f6b8c0e2a4c6e8f","n":7,"user":"alice"}`

func BenchmarkMarshal(b *testing.B) {
	v := benchSession()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := taggedjson.Marshal(v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendMarshal(b *testing.B) {
	v := benchSession()
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = taggedjson.AppendMarshal(buf[:0], v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStdlibMarshal(b *testing.B) {
	v := benchSession()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshal(b *testing.B) {
	data := []byte(benchPayload)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := taggedjson.UnmarshalObject(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStdlibUnmarshal(b *testing.B) {
	data := []byte(benchPayload)
	b.ReportAllocs()
	for b.Loop() {
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			b.Fatal(err)
		}
	}
}

// The same with tagged values, to keep an eye on the tag paths.
const benchTaggedPayload = `{"_flashes":[{" t":["message","Welcome back"]},{" t":["info",{" m":"<b>bold</b>"}]}],"raw":{" b":"yv4="},"uid":{" u":"12345678123456781234567812345678"},"when":{" d":"Sat, 09 Mar 2024 16:00:00 GMT"}}`

func BenchmarkUnmarshalTagged(b *testing.B) {
	data := []byte(benchTaggedPayload)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := taggedjson.Unmarshal(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalTagged(b *testing.B) {
	v, err := taggedjson.Unmarshal([]byte(benchTaggedPayload))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := taggedjson.Marshal(v); err != nil {
			b.Fatal(err)
		}
	}
}
