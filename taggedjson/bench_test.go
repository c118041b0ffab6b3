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

// The hot paths of a cookie session, with the payloads a real Flask app
// writes: a small session, and one with Flask-Login's keys. UnmarshalObject
// runs once per request that reads the session, AppendMarshal once per
// request that changes it.
const (
	benchSmallPayload = `{"cart":[1,2,3],"csrf_token":"3f786850e387550fdab836ed7e6dc881de23001b","theme":"dark","user_id":"42"}`
	benchLoginPayload = `{"_fresh":true,"_id":"0b6b9a2f4c4e1d8a7f3e5c2b1a0d9e8f7c6b5a4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f","_permanent":true,"_user_id":"42","cart":[1,2,3],"csrf_token":"3f786850e387550fdab836ed7e6dc881de23001b","theme":"dark","user_id":"42"}`
)

// Server-side stores encode and decode each session value on its own.
var benchValues = []struct{ name, json string }{
	{"int", `42`},
	{"string", `"3f786850e387550fdab836ed7e6dc881de23001b"`},
	{"bool", `true`},
	{"list", `[1,2,3]`},
}

var benchSessions = []struct{ name, json string }{{"small", benchSmallPayload}, {"login", benchLoginPayload}}

// benchDecode runs decode on each case's JSON.
func benchDecode(b *testing.B, cases []struct{ name, json string }, decode func([]byte) (any, error)) {
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			data := []byte(c.json)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := decode(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchEncode runs encode on the value of each case's JSON, and checks that
// it gives the JSON back.
func benchEncode(b *testing.B, cases []struct{ name, json string }, encode func([]byte, any) ([]byte, error)) {
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			v, err := taggedjson.Unmarshal([]byte(c.json))
			if err != nil {
				b.Fatal(err)
			}
			buf := make([]byte, 0, 512)
			b.ReportAllocs()
			for b.Loop() {
				if buf, err = encode(buf[:0], v); err != nil {
					b.Fatal(err)
				}
			}
			if string(buf) != c.json {
				b.Fatalf("got %s", buf)
			}
		})
	}
}

func BenchmarkSessionUnmarshalObject(b *testing.B) {
	benchDecode(b, benchSessions, func(data []byte) (any, error) { return taggedjson.UnmarshalObject(data) })
}

func BenchmarkSessionAppendMarshal(b *testing.B) {
	benchEncode(b, benchSessions, func(dst []byte, v any) ([]byte, error) {
		return taggedjson.AppendMarshal(dst, v.(map[string]any))
	})
}

func BenchmarkValueUnmarshal(b *testing.B) {
	benchDecode(b, benchValues, taggedjson.Unmarshal)
}

func BenchmarkValueMarshal(b *testing.B) {
	benchEncode(b, benchValues, func(_ []byte, v any) ([]byte, error) { return taggedjson.Marshal(v) })
}
