package flasksession

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/seshat-go/seshat/internal/flaskvectors"
	"github.com/seshat-go/seshat/internal/pyproc"
	"github.com/seshat-go/seshat/internal/testenv"
	"github.com/seshat-go/seshat/taggedjson"
)

// oracleScript answers one JSON request per line:
//
//	{"load": HEX, "protocol": N}  -> pickle.loads(HEX), then pickle.dumps(_, N)
//	{"eval": EXPR, "protocol": N} -> pickle.dumps(eval(EXPR), N)
//
// with {"hex": ..., "gets": true if the output uses the memo (BINGET)} or
// {"error": ...}.
const oracleScript = `
import json, pickle, pickletools, sys
for line in sys.stdin:
    req = json.loads(line)
    try:
        if "load" in req:
            v = pickle.loads(bytes.fromhex(req["load"]))
        else:
            v = eval(req["eval"])
        out = pickle.dumps(v, req["protocol"])
        gets = any(op.name.endswith("GET") for op, _, _ in pickletools.genops(out))
        resp = {"hex": out.hex(), "gets": gets}
    except Exception as e:
        resp = {"error": "%s: %s" % (type(e).__name__, e)}
    sys.stdout.write(json.dumps(resp) + "\n")
    sys.stdout.flush()
`

// python returns the interpreter for live tests: SESHAT_FLASK22_PYTHON or
// /usr/bin/python3 (Debian's, the one Flask-Session 0.3.2 runs under).
func python() string { return pyproc.Interpreter("SESHAT_FLASK22_PYTHON", "/usr/bin/python3") }

type oracle struct {
	t   *testing.T
	in  *json.Encoder
	out *bufio.Scanner
}

type oracleResp struct {
	Hex   string `json:"hex"`
	Gets  bool   `json:"gets"`
	Error string `json:"error"`
}

// startOracle runs oracleScript under Python; it stops when the test ends.
func startOracle(t *testing.T) *oracle {
	py := python()
	pyproc.Require(t, "python3 ("+py+")", py, "import json, pickle, pickletools")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	p, err := pyproc.Start(exec.CommandContext(ctx, py, "-c", oracleScript))
	if err != nil {
		cancel()
		testenv.Unavailable(t, "python3 ("+py+")", err)
	}
	t.Cleanup(func() {
		p.Stop()
		cancel()
		if s := p.Stderr(); t.Failed() && s != "" {
			t.Logf("python stderr:\n%s", s)
		}
	})
	sc := bufio.NewScanner(p.Stdout)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	return &oracle{t: t, in: json.NewEncoder(p.Stdin), out: sc}
}

func (o *oracle) ask(req map[string]any) oracleResp {
	o.t.Helper()
	if err := o.in.Encode(req); err != nil {
		o.t.Fatalf("python: %v", err)
	}
	if !o.out.Scan() {
		o.t.Fatalf("python gave no answer: %v", o.out.Err())
	}
	var r oracleResp
	if err := json.Unmarshal(o.out.Bytes(), &r); err != nil {
		o.t.Fatal(err)
	}
	return r
}

// genValue returns a random model value: every kind the codec writes, at
// sizes that cross Python's frame (64 KiB) and batch (1000 items) limits
// now and then.
func genValue(r *rand.Rand, depth int) any {
	k := r.IntN(14)
	if depth > 4 && k >= 10 {
		k = r.IntN(10)
	}
	switch k {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 0
	case 2:
		return int64(r.IntN(70000)) - 300
	case 3:
		edges := []int64{0, 255, 256, 65535, 65536, math.MaxInt32, math.MinInt32, math.MaxInt32 + 1, math.MinInt32 - 1, math.MaxInt64, math.MinInt64, -1, -128, -129, 127, 128}
		return edges[r.IntN(len(edges))]
	case 4:
		n := new(big.Int).Lsh(big.NewInt(1), uint(64+r.IntN(1900)))
		n.Add(n, big.NewInt(r.Int64()))
		if r.IntN(2) == 0 {
			n.Neg(n)
		}
		return n
	case 5:
		fs := []float64{0, math.Copysign(0, -1), 0.1, 2.5, -1e300, 5e-324, math.Inf(1), math.Inf(-1), math.Float64frombits(0x7ff8000000000000), r.NormFloat64()}
		return fs[r.IntN(len(fs))]
	case 6, 7:
		return genString(r)
	case 8:
		n := []int{0, 3, 255, 256, 1000, 2, 70000}[r.IntN(7)]
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return b
	case 9:
		return genString(r) + genString(r)
	case 10:
		return genList(r, depth)
	case 11:
		return taggedjson.Tuple(genList(r, depth))
	case 12:
		l := genList(r, depth)
		m := make(map[string]any, len(l))
		for i, v := range l {
			m[fmt.Sprintf("k%d-%s", i, genString(r))] = v
		}
		return m
	default:
		l := genList(r, depth)
		d := make(OrderedDict, 0, len(l))
		for i, v := range l {
			d = append(d, Item{fmt.Sprintf("%s-o%d", genString(r), i), v})
		}
		return d
	}
}

func genList(r *rand.Rand, depth int) []any {
	n := []int{0, 1, 2, 3, 4, 7}[r.IntN(6)]
	if depth < 2 && r.IntN(8) == 0 {
		n = []int{999, 1000, 1001, 2000}[r.IntN(4)]
	}
	l := make([]any, n)
	for i := range l {
		if n > 100 {
			l[i] = int64(i) * 7919 // keep big containers cheap
			continue
		}
		l[i] = genValue(r, depth+1)
	}
	return l
}

func genString(r *rand.Rand) string {
	parts := []string{"ab", "héllo", "日本語", "😀x", "\x00\x7f", "\xed\xa0\x80" /* lone surrogate */, "quote\"'\\", "x"}
	var b strings.Builder
	for range 1 + r.IntN(4) {
		b.WriteString(parts[r.IntN(len(parts))])
	}
	switch r.IntN(40) {
	case 0:
		b.WriteString(strings.Repeat("y", 255))
	case 1:
		b.WriteString(strings.Repeat("z", 65536+r.IntN(3)))
	case 2:
		b.WriteString(strings.Repeat("w", 65536-b.Len()-r.IntN(20)))
	}
	return b.String()
}

// TestPythonRoundTrip proves the encoder against CPython: Python loads what
// EncodePickle writes, dumps it again at the same protocol, and the bytes
// are ours exactly whenever Python's pickle has no memo references (which
// only object identity, not value, decides); the decoder reads Python's
// output back to the same value.
func TestPythonRoundTrip(t *testing.T) {
	o := startOracle(t)
	r := rand.New(rand.NewPCG(1, 2))
	n := 400
	if testing.Short() {
		n = 60
	}
	identical, total, framed := 0, 0, 0
	for i := range n {
		v := genValue(r, 0)
		if i%3 == 0 {
			v = OrderedDict{{"_permanent", true}, {"v", v}}
		}
		for _, proto := range []int{4, 5} {
			ours, err := EncodePickle(v, proto)
			if err != nil {
				t.Fatalf("Encode %s: %v", flaskvectors.MarkersString(Unordered(v)), err)
			}
			if len(ours) > DefaultMaxSize {
				continue
			}
			resp := o.ask(map[string]any{"load": hex.EncodeToString(ours), "protocol": proto})
			if resp.Error != "" {
				t.Fatalf("python cannot load our pickle of %s: %s\n%x", flaskvectors.MarkersString(Unordered(v)), resp.Error, ours)
			}
			theirs, _ := hex.DecodeString(resp.Hex)
			total++
			if len(ours) > frameSizeTarget {
				framed++
			}
			if !resp.Gets {
				if !bytes.Equal(ours, theirs) {
					t.Fatalf("protocol %d: ours differs from Python's for %s\nours   %s\npython %s", proto, short(Unordered(v)), shortHex(ours), shortHex(theirs))
				}
				identical++
			}
			back, err := Decoder{KeepOrder: true}.Decode(theirs)
			if err != nil {
				t.Fatalf("decode Python's pickle: %v", err)
			}
			if d := flaskvectors.Diff(Unordered(back), Unordered(v)); d != "" {
				t.Fatalf("value changed through Python: %s", d)
			}
			if od, ok := v.(OrderedDict); ok && len(od) >= 2 {
				if bd := back.(OrderedDict); bd[0].Key != od[0].Key || bd[1].Key != od[1].Key {
					t.Fatalf("key order lost: %v", bd)
				}
			}
		}
	}
	t.Logf("%d pickles loaded by Python (%d longer than one 64 KiB frame); %d byte-identical to Python's own, the rest differ only by Python's memo references", total, framed, identical)
	if identical < total*7/10 {
		t.Fatalf("only %d of %d pickles could be compared byte for byte", identical, total)
	}
}

func short(v any) string {
	s := flaskvectors.MarkersString(v)
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

func shortHex(b []byte) string {
	if len(b) > 200 {
		return hex.EncodeToString(b[:200]) + "..."
	}
	return hex.EncodeToString(b)
}

// TestPythonShared decodes pickles in which Python references one object
// twice (BINGET), at protocols 2, 4 and 5.
func TestPythonShared(t *testing.T) {
	o := startOracle(t)
	cases := []struct {
		expr string
		want any
	}{
		{`(lambda s: [s, s, {"k": s}])("shared" * 3)`, []any{"sharedsharedshared", "sharedsharedshared", map[string]any{"k": "sharedsharedshared"}}},
		{`(lambda l: {"a": l, "b": (l, l)})([1, "x"])`, map[string]any{"a": []any{int64(1), "x"}, "b": taggedjson.Tuple{[]any{int64(1), "x"}, []any{int64(1), "x"}}}},
		{`(lambda b: [b, b])(bytes(range(3)))`, []any{[]byte{0, 1, 2}, []byte{0, 1, 2}}},
		{`{"a": "a", "": ""}`, map[string]any{"a": "a", "": ""}},
		{`[(), (), ((),)]`, []any{taggedjson.Tuple{}, taggedjson.Tuple{}, taggedjson.Tuple{taggedjson.Tuple{}}}},
		{`{str(i): i for i in range(1001)}`, func() any {
			m := map[string]any{}
			for i := range 1001 {
				m[fmt.Sprint(i)] = int64(i)
			}
			return m
		}()},
	}
	for _, c := range cases {
		for _, proto := range []int{2, 4, 5} {
			if proto == 2 && strings.Contains(c.expr, "bytes") {
				continue // protocol 2 pickles bytes with GLOBAL
			}
			resp := o.ask(map[string]any{"eval": c.expr, "protocol": proto})
			if resp.Error != "" {
				t.Fatalf("%s: %s", c.expr, resp.Error)
			}
			b, _ := hex.DecodeString(resp.Hex)
			got, err := DecodePickle(b)
			if err != nil {
				t.Fatalf("%s (protocol %d): %v", c.expr, proto, err)
			}
			if d := flaskvectors.Diff(got, c.want); d != "" {
				t.Fatalf("%s (protocol %d): %s", c.expr, proto, d)
			}
		}
	}
	// Python's recursive structures are refused, not looped over.
	for _, expr := range []string{`(lambda l: (l.append(l), l)[1])([])`, `(lambda d: (d.__setitem__("me", [d]), d)[1])({})`} {
		resp := o.ask(map[string]any{"eval": expr, "protocol": 4})
		b, _ := hex.DecodeString(resp.Hex)
		if _, err := DecodePickle(b); err == nil || !strings.Contains(err.Error(), "recursive") {
			t.Fatalf("%s: %v, want a recursion error", expr, err)
		}
	}
}
