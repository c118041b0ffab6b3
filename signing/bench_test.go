package signing

import (
	"bytes"
	"compress/zlib"
	"io"
	"strings"
	"testing"
	"time"
)

// benchSession is the JSON of a typical Flask-Login session with a CSRF
// token and a cart (117 bytes; zlib saves a few bytes, so CompressAuto
// compresses it, in Python as here).
var benchSession = []byte(`{"_fresh":true,"_user_id":"42","cart":[1,2,3],"csrf_token":"3f786850e387550fdab836ed7e6dc881de23001b","theme":"dark"}`)

// benchPayloads cover the CompressAuto outcomes: too small to compress,
// barely compressible, and very compressible.
var benchPayloads = []struct {
	name string
	data []byte
}{
	{"small73", []byte(`{"user_id":42,"name":"Zoë","roles":["a","b"],"ok":true,"n":null,"f":1.5}`)},
	{"session117", benchSession},
	{"repetitive450", []byte(`{"data":[` + strings.TrimSuffix(strings.Repeat(`"abcdefgh",`, 40), ",") + `]}`)},
	{"cart2k", []byte(`{"cart":[` + strings.TrimSuffix(strings.Repeat(`{"sku":"SKU-0042","qty":3,"price":19.99},`, 48), ",") + `],"user":"alice"}`)},
}

func BenchmarkSign(b *testing.B) {
	s := mustSigner(b, [][]byte{testKey}, Options{})
	dst := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		dst = s.AppendSign(dst[:0], benchSession)
	}
}

func BenchmarkUnsign(b *testing.B) {
	s := mustSigner(b, [][]byte{testKey}, Options{})
	tok := s.Sign(benchSession)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Unsign(tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUnsignRotated verifies a token signed with the older of two keys
// (two HMACs).
func BenchmarkUnsignRotated(b *testing.B) {
	s := mustSigner(b, [][]byte{oldKey, testKey}, Options{})
	tok := mustSigner(b, [][]byte{oldKey}, Options{}).Sign(benchSession)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Unsign(tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTimestampSign(b *testing.B) {
	s := mustTimestampSigner(b, [][]byte{testKey}, Options{KeyDerivation: HMAC})
	dst := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		dst = s.AppendSignAt(dst[:0], benchSession, t0)
	}
}

func BenchmarkTimestampUnsign(b *testing.B) {
	s := mustTimestampSigner(b, [][]byte{testKey}, Options{KeyDerivation: HMAC})
	tok := s.SignAt(benchSession, t0)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := s.UnsignMaxAge(tok, time.Hour, t0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTimestampUnsignBad is the cost of rejecting a forged token
// (building the *Error included).
func BenchmarkTimestampUnsignBad(b *testing.B) {
	s := mustTimestampSigner(b, [][]byte{testKey}, Options{KeyDerivation: HMAC})
	tok := s.SignAt(benchSession, t0)
	tok[len(tok)-1] ^= 1
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := s.UnsignMaxAge(tok, time.Hour, t0); err == nil {
			b.Fatal("accepted")
		}
	}
}

func BenchmarkURLSafeBody(b *testing.B) {
	for _, p := range benchPayloads {
		b.Run("encode/"+p.name, func(b *testing.B) {
			dst := make([]byte, 0, 4096)
			b.ReportAllocs()
			b.SetBytes(int64(len(p.data)))
			for b.Loop() {
				dst = AppendURLSafeBody(dst[:0], p.data, CompressAuto)
			}
			b.ReportMetric(float64(len(dst)), "body-bytes")
		})
		b.Run("decode/"+p.name, func(b *testing.B) {
			body := AppendURLSafeBody(nil, p.data, CompressAuto)
			b.ReportAllocs()
			b.SetBytes(int64(len(p.data)))
			for b.Loop() {
				if _, err := DecodeURLSafeBody(body, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStdlibZlib is the same work with compress/zlib (pooled writer at
// BestSpeed, reused reader), for comparison with BenchmarkURLSafeBody.
func BenchmarkStdlibZlib(b *testing.B) {
	for _, p := range benchPayloads {
		b.Run("compress/"+p.name, func(b *testing.B) {
			var buf bytes.Buffer
			w, _ := zlib.NewWriterLevel(&buf, zlib.BestSpeed)
			b.ReportAllocs()
			b.SetBytes(int64(len(p.data)))
			for b.Loop() {
				buf.Reset()
				w.Reset(&buf)
				w.Write(p.data)
				w.Close()
			}
		})
		b.Run("decompress/"+p.name, func(b *testing.B) {
			z := zlibCompress(b, p.data, zlib.BestSpeed)
			src := bytes.NewReader(z)
			r, _ := zlib.NewReader(src)
			out := make([]byte, 0, 4096)
			b.ReportAllocs()
			b.SetBytes(int64(len(p.data)))
			for b.Loop() {
				src.Reset(z)
				r.(zlib.Resetter).Reset(src, nil)
				out = out[:0]
				for {
					n, err := r.Read(out[len(out):cap(out)])
					out = out[:len(out)+n]
					if err == io.EOF {
						break
					}
				}
			}
		})
	}
}

func BenchmarkURLSafeTimedSerializer(b *testing.B) {
	s, _ := NewURLSafeTimedSerializer([][]byte{testKey}, SerializerOptions{Options: Options{Now: func() time.Time { return t0 }}})
	v := map[string]any{"_fresh": true, "_user_id": "42", "cart": []any{1, 2, 3}, "csrf_token": "3f786850e387550fdab836ed7e6dc881de23001b", "theme": "dark"}
	tok, _ := s.Dumps(v)
	b.Run("dumps", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Dumps(v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("loads", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var out map[string]any
			if _, err := s.LoadsMaxAge(tok, &out, time.Hour); err != nil {
				b.Fatal(err)
			}
		}
	})
}
