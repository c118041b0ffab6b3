package flasksession

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math/big"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/seshat-go/seshat/internal/flaskvectors"
	"github.com/seshat-go/seshat/taggedjson"
)

// p4 builds a protocol-4 pickle from opcode bytes (no FRAME: the decoder
// does not need one).
func p4(body ...string) []byte {
	return []byte("\x80\x04" + strings.Join(body, "") + ".")
}

func u32(n uint32) string {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], n)
	return string(b[:])
}

func u64(n uint64) string {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], n)
	return string(b[:])
}

func TestDecodeValues(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		want any
	}{
		{"none", p4("N"), nil},
		{"true", p4("\x88"), true},
		{"false", p4("\x89"), false},
		{"binint1", p4("K\xff"), int64(255)},
		{"binint2", p4("M\xff\xff"), int64(65535)},
		{"binint neg", p4("J\xff\xff\xff\xff"), int64(-1)},
		{"long1 zero", p4("\x8a\x00"), int64(0)},
		{"long1 -1", p4("\x8a\x01\xff"), int64(-1)},
		{"long1 2^63-1", p4("\x8a\x08\xff\xff\xff\xff\xff\xff\xff\x7f"), int64(1<<63 - 1)},
		{"long1 -2^63", p4("\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x80"), int64(-1 << 63)},
		{"long1 2^63", p4("\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x80\x00"), new(big.Int).Lsh(big.NewInt(1), 63)},
		{"long1 -2^64", p4("\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\xff"), new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), 64))},
		{"binfloat", p4("G\x3f\xf8\x00\x00\x00\x00\x00\x00"), 1.5},
		{"short str", p4("\x8c\x03h\xc3\xa9"), "h\u00e9"},
		{"binunicode", p4("X" + u32(3) + "abc"), "abc"},
		{"binunicode8", p4("\x8d" + u64(2) + "ab"), "ab"},
		{"lone surrogate", p4("\x8c\x03\xed\xa0\x80"), "\xed\xa0\x80"},
		{"surrogate pair kept apart", p4("\x8c\x06\xed\xa0\xbd\xed\xb8\x80"), "\xed\xa0\xbd\xed\xb8\x80"},
		{"bytes", p4("C\x02\x00\xff"), []byte{0, 0xff}},
		{"binbytes", p4("B" + u32(1) + "z"), []byte("z")},
		{"empty containers", p4("(]}\x29t"), taggedjson.Tuple{[]any{}, map[string]any{}, taggedjson.Tuple{}}},
		{"append", p4("]\x94K\x01aK\x02a"), []any{int64(1), int64(2)}},
		{"empty appends", p4("](e"), []any{}},
		{"empty setitems", p4("}(u"), map[string]any{}},
		{"dup key: last wins", p4("}(\x8c\x01aK\x01\x8c\x01aK\x02u"), map[string]any{"a": int64(2)}},
		{"memo get", p4("]\x94(\x8c\x02ab\x94h\x01j" + u32(1) + "e"), []any{"ab", "ab", "ab"}},
		{"binput", p4("\x8c\x02abq\x00\x85r" + u32(0) + "h\x00\x86"), taggedjson.Tuple{taggedjson.Tuple{"ab"}, taggedjson.Tuple{"ab"}}},
		{"tuple3", p4("K\x01K\x02K\x03\x87"), taggedjson.Tuple{int64(1), int64(2), int64(3)}},
		{"frame", []byte("\x80\x04\x95" + u64(3) + "K\x01."), int64(1)},
		{"protocol 2", []byte("\x80\x02N."), nil},
		{"protocol 5", []byte("\x80\x05N."), nil},
		// l = []; l.extend([l, []]): a list that contains itself.
		{"self reference", p4("]\x94(h\x00]\x94e"), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := DecodePickle(c.in)
			if c.name == "self reference" {
				// [L, []] where L is the outer list itself: a cycle.
				if err == nil || !errors.Is(err, ErrUnsupportedValue) {
					t.Fatalf("got %v, %v; want a recursion error", got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode(%x): %v", c.in, err)
			}
			if d := flaskvectors.Diff(got, c.want); d != "" {
				t.Fatalf("Decode(%x): %s", c.in, d)
			}
		})
	}
}

func TestDecodeSharedListSeesLaterAppends(t *testing.T) {
	// d = {"a": l, "b": l}; then l.append(1); the pickle's value is (d, l).
	in := p4("}\x94(\x8c\x01a]\x94\x8c\x01bh\x01uh\x01K\x01a\x86")
	got, err := DecodePickle(in)
	if err != nil {
		t.Fatal(err)
	}
	one := []any{int64(1)}
	want := taggedjson.Tuple{map[string]any{"a": one, "b": one}, one}
	if d := flaskvectors.Diff(got, want); d != "" {
		t.Fatal(d)
	}
	// The result is a tree: the references do not share Go memory.
	tup := got.(taggedjson.Tuple)
	a, b := tup[0].(map[string]any)["a"].([]any), tup[1].([]any)
	if &a[0] == &b[0] {
		t.Fatal("decoded references share a backing array")
	}
}

func TestDecodeErrors(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		kind error
		op   string
		msg  string
	}{
		{"empty", nil, ErrMalformed, "", "exhausted"},
		{"no proto", []byte("N."), ErrMalformed, "NONE", "must start with PROTO"},
		{"proto 1", []byte("\x80\x01N."), ErrMalformed, "PROTO", "protocol 1"},
		{"proto 6", []byte("\x80\x06N."), ErrMalformed, "PROTO", "protocol 6"},
		{"second proto", p4("\x80\x04N"), ErrMalformed, "PROTO", "after the start"},
		{"no stop", []byte("\x80\x04N"), ErrMalformed, "", "exhausted before STOP"},
		{"trailing", append(p4("N"), 'x'), ErrMalformed, "STOP", "data after STOP"},
		{"two values", p4("NN"), ErrMalformed, "STOP", "more than one value"},
		{"open mark", p4("(N"), ErrMalformed, "STOP", "open MARK"},
		{"stop on empty", p4(""), ErrMalformed, "STOP", "underflow"},
		{"truncated int", []byte("\x80\x04J\x01\x02"), ErrMalformed, "BININT", "truncated"},
		{"truncated str", []byte("\x80\x04\x8c\x05ab"), ErrMalformed, "SHORT_BINUNICODE", "truncated"},
		{"huge str length", []byte("\x80\x04\x8d" + u64(1<<62) + "ab."), ErrMalformed, "BINUNICODE8", "truncated"},
		{"huge frame", []byte("\x80\x04\x95" + u64(1<<63) + "N."), ErrMalformed, "FRAME", "end of frame"},
		{"bad utf8", p4("\x8c\x01\xff"), ErrMalformed, "SHORT_BINUNICODE", "UTF-8"},
		{"overlong utf8", p4("\x8c\x02\xc0\xaf"), ErrMalformed, "SHORT_BINUNICODE", "UTF-8"},
		{"tuple1 underflow", p4("\x85"), ErrMalformed, "TUPLE1", "underflow"},
		{"tuple2 across mark", p4("N(N\x86"), ErrMalformed, "TUPLE2", "underflow"},
		{"pop across mark", p4("](a"), ErrMalformed, "APPEND", "underflow"},
		{"tuple without mark", p4("Nt"), ErrMalformed, "TUPLE", "MARK"},
		{"append to dict", p4("}Na"), ErrMalformed, "APPEND", "dict"},
		{"appends to tuple", p4(")(Ne"), ErrMalformed, "APPENDS", "tuple"},
		{"setitem on list", p4("]\x8c\x01aNs"), ErrMalformed, "SETITEM", "list"},
		{"setitems odd", p4("}(\x8c\x01au"), ErrMalformed, "SETITEMS", "odd"},
		{"int key", p4("}K\x01Ns"), ErrUnsupportedValue, "SETITEM", "dict key of type int"},
		{"tuple key", p4("})Ns"), ErrUnsupportedValue, "SETITEM", "dict key of type tuple"},
		{"none key", p4("}(NNu"), ErrUnsupportedValue, "SETITEMS", "NoneType"},
		{"memo missing", p4("h\x00"), ErrMalformed, "BINGET", "not found"},
		{"memo sparse", p4("Nq\x05"), ErrMalformed, "BINPUT", "skips"},
		{"memoize empty", p4("\x94"), ErrMalformed, "MEMOIZE", "underflow"},
		{"memoize at mark", p4("N(\x94"), ErrMalformed, "MEMOIZE", "underflow"},
		{"global", []byte("\x80\x02cos\nsystem\nX\x02\x00\x00\x00id\x85R."), ErrUnsupportedOpcode, "GLOBAL", "never constructed"},
		{"stack_global", p4("\x8c\x02os\x8c\x06system\x93"), ErrUnsupportedOpcode, "STACK_GLOBAL", ""},
		{"reduce", p4("N)R"), ErrUnsupportedOpcode, "REDUCE", ""},
		{"build", p4("}}b"), ErrUnsupportedOpcode, "BUILD", ""},
		{"newobj", p4("N)\x81"), ErrUnsupportedOpcode, "NEWOBJ", ""},
		{"newobj_ex", p4("N)}\x92"), ErrUnsupportedOpcode, "NEWOBJ_EX", ""},
		{"inst", []byte("\x80\x02(ios\nsystem\n."), ErrUnsupportedOpcode, "INST", ""},
		{"obj", p4("(No"), ErrUnsupportedOpcode, "OBJ", ""},
		{"persid", []byte("\x80\x02P1\n."), ErrUnsupportedOpcode, "PERSID", ""},
		{"binpersid", p4("NQ"), ErrUnsupportedOpcode, "BINPERSID", ""},
		{"ext1", p4("\x82\x01"), ErrUnsupportedOpcode, "EXT1", ""},
		{"ext2", p4("\x83\x01\x00"), ErrUnsupportedOpcode, "EXT2", ""},
		{"ext4", p4("\x84\x01\x00\x00\x00"), ErrUnsupportedOpcode, "EXT4", ""},
		{"long4", p4("\x8b\x01\x00\x00\x00\x01"), ErrUnsupportedOpcode, "LONG4", ""},
		{"binbytes8", p4("\x8e" + u64(1) + "a"), ErrUnsupportedOpcode, "BINBYTES8", ""},
		{"bytearray8", p4("\x96" + u64(1) + "a"), ErrUnsupportedOpcode, "BYTEARRAY8", ""},
		{"next_buffer", p4("\x97"), ErrUnsupportedOpcode, "NEXT_BUFFER", ""},
		{"empty_set", p4("\x8f"), ErrUnsupportedOpcode, "EMPTY_SET", ""},
		{"frozenset", p4("(\x91"), ErrUnsupportedOpcode, "FROZENSET", ""},
		{"pop", p4("NN0"), ErrUnsupportedOpcode, "POP", ""},
		{"dup", p4("N2"), ErrUnsupportedOpcode, "DUP", ""},
		{"text int", []byte("\x80\x02I1\n."), ErrUnsupportedOpcode, "INT", ""},
		{"binstring", p4("U\x01a"), ErrUnsupportedOpcode, "SHORT_BINSTRING", ""},
		{"get", []byte("\x80\x02Np0\ng0\n."), ErrUnsupportedOpcode, "PUT", ""},
		{"unknown", p4("\xff"), ErrUnsupportedOpcode, "unknown opcode 0xff", ""},
		{"unknown 0x99", p4("\x99"), ErrUnsupportedOpcode, "unknown opcode 0x99", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := DecodePickle(c.in)
			var pe *PickleError
			if !errors.Is(err, c.kind) || !errors.As(err, &pe) {
				t.Fatalf("Decode(%x) = %v, %v; want %v", c.in, got, err, c.kind)
			}
			if pe.Op != c.op {
				t.Fatalf("error names %q, want %q: %v", pe.Op, c.op, err)
			}
			if !strings.Contains(err.Error(), c.msg) || (c.op != "" && !strings.Contains(err.Error(), c.op)) {
				t.Fatalf("error %q lacks %q / %q", err, c.msg, c.op)
			}
		})
	}
}

func TestDecodeLimits(t *testing.T) {
	t.Run("MaxSize", func(t *testing.T) {
		in := p4("\x8c\x05hello")
		if _, err := (Decoder{Limits: Limits{MaxSize: len(in) - 1}}).Decode(in); !errors.Is(err, ErrLimit) {
			t.Fatalf("got %v", err)
		}
		if _, err := (Decoder{Limits: Limits{MaxSize: len(in)}}).Decode(in); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("MaxDepth", func(t *testing.T) {
		nest := func(n int) []byte {
			return p4(strings.Repeat("]", n), strings.Repeat("a", n-1))
		}
		if _, err := DecodePickle(nest(DefaultMaxDepth)); err != nil {
			t.Fatalf("depth %d: %v", DefaultMaxDepth, err)
		}
		if _, err := DecodePickle(nest(DefaultMaxDepth + 1)); !errors.Is(err, ErrLimit) {
			t.Fatalf("depth %d: %v", DefaultMaxDepth+1, err)
		}
		// Deep nesting is refused, not recursed into.
		if _, err := DecodePickle(nest(1 << 18)); !errors.Is(err, ErrLimit) {
			t.Fatalf("depth 2^18: %v", err)
		}
	})
	t.Run("MaxMemo", func(t *testing.T) {
		in := p4("N" + strings.Repeat("\x94", 11))
		if _, err := (Decoder{Limits: Limits{MaxMemo: 10}}).Decode(in); !errors.Is(err, ErrLimit) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("MaxItems", func(t *testing.T) {
		in := p4("](" + strings.Repeat("N", 100) + "e")
		if _, err := (Decoder{Limits: Limits{MaxItems: 100}}).Decode(in); !errors.Is(err, ErrLimit) {
			t.Fatalf("got %v", err)
		}
		if _, err := (Decoder{Limits: Limits{MaxItems: 101}}).Decode(in); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("BillionLaughs", func(t *testing.T) {
		// l0 = [x, x], l1 = [l0, l0], ... l60: 2^60 leaves from ~600 bytes.
		var b strings.Builder
		b.WriteString("(\x8c\x01x\x94") // MARK, then "x" as memo 0
		for i := range 60 {
			// l(i) = [memo i, memo i] as memo i+1
			b.WriteString("](j" + u32(uint32(i)) + "j" + u32(uint32(i)) + "e\x94")
		}
		b.WriteString("t") // all of them in one tuple
		in := p4(b.String())
		// Refused after MaxItems values are built, not after 2^60.
		if _, err := DecodePickle(in); !errors.Is(err, ErrLimit) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("MaxExpanded", func(t *testing.T) {
		// One 64 KiB string referenced 300 times: ~20 MB once expanded.
		s := strings.Repeat("a", 64<<10)
		in := p4("](X"+u32(uint32(len(s)))+s+"\x94", strings.Repeat("h\x00", 300), "e")
		if _, err := DecodePickle(in); !errors.Is(err, ErrLimit) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestEncodeErrors(t *testing.T) {
	deep := any(nil)
	for range DefaultMaxDepth + 1 {
		deep = []any{deep}
	}
	cases := []struct {
		name string
		v    any
	}{
		{"time", time.Now()},
		{"uuid", taggedjson.UUID{}},
		{"markup", taggedjson.Markup("<b>")},
		{"nested time", map[string]any{"a": []any{time.Now()}}},
		{"huge int", new(big.Int).Lsh(big.NewInt(1), 2040)},
		{"nil big", (*big.Int)(nil)},
		{"bad utf8", "\xff"},
		{"bad utf8 key", map[string]any{"\xff": 1}},
		{"dup key", OrderedDict{{"a", 1}, {"a", 2}}},
		{"too deep", deep},
		{"chan", make(chan int)},
	}
	for _, c := range cases {
		if b, err := EncodePickle(c.v, 4); !errors.Is(err, ErrUnsupportedValue) {
			t.Errorf("%s: Encode = %x, %v; want ErrUnsupportedValue", c.name, b, err)
		}
	}
	if _, err := EncodePickle(nil, 3); !errors.Is(err, ErrUnsupportedValue) {
		t.Errorf("protocol 3: %v", err)
	}
	// The longest int LONG1 holds.
	n := new(big.Int).Lsh(big.NewInt(1), 2038)
	b, err := EncodePickle(n, 4)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodePickle(b)
	if err != nil || back.(*big.Int).Cmp(n) != 0 {
		t.Fatalf("2^2038: %v %v", back, err)
	}
}

func TestEncodeNormalizes(t *testing.T) {
	b, err := EncodePickle(map[string]any{"n": 7, "u": uint8(3), "l": []string{"a"}}, 4)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodePickle(b)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"n": int64(7), "u": int64(3), "l": []any{"a"}}
	if d := flaskvectors.Diff(got, want); d != "" {
		t.Fatal(d)
	}
}

func TestEncodeSmallNoFrame(t *testing.T) {
	// Frames shorter than 4 bytes get no FRAME header, as in CPython.
	for _, c := range []struct {
		v    any
		want string
	}{
		{map[string]any{}, "80047d942e"},
		{int64(255), "80044bff2e"},
		{taggedjson.Tuple{}, "8004292e"},
		{nil, "80044e2e"},
		{"", "80049504000000000000008c00942e"},
	} {
		b, err := EncodePickle(c.v, 4)
		if err != nil || hex.EncodeToString(b) != c.want {
			t.Errorf("Encode(%#v) = %x, %v; want %s", c.v, b, err, c.want)
		}
	}
}

func TestOrderedDict(t *testing.T) {
	d := OrderedDict{{"z", 1}, {"a", OrderedDict{{"y", []any{OrderedDict{{"q", true}}}}}}, {"t", taggedjson.Tuple{OrderedDict{}}}}
	b, err := EncodePickle(d, 4)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decoder{KeepOrder: true}.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	again, err := EncodePickle(got, 4)
	if err != nil || !bytes.Equal(again, b) {
		t.Fatalf("not a fixed point: %x vs %x (%v)", again, b, err)
	}
	m := Unordered(got)
	want := map[string]any{"z": int64(1), "a": map[string]any{"y": []any{map[string]any{"q": true}}}, "t": taggedjson.Tuple{map[string]any{}}}
	if diff := flaskvectors.Diff(m, want); diff != "" {
		t.Fatal(diff)
	}
	plain := []any{1, "x"}
	if u := Unordered(plain); &u.([]any)[0] != &plain[0] {
		t.Fatal("Unordered copied a list without OrderedDicts")
	}
}

// TestAcceptedOpcodes checks that AcceptedOpcodes is exactly the set of
// opcodes the decoder does not refuse as unsupported.
func TestAcceptedOpcodes(t *testing.T) {
	var accepted []string
	for op := range 256 {
		_, err := DecodePickle([]byte{0x80, 4, byte(op)})
		if op == 0x80 {
			continue // PROTO: accepted, tested elsewhere
		}
		if !errors.Is(err, ErrUnsupportedOpcode) {
			accepted = append(accepted, opName(byte(op)))
		}
	}
	accepted = append(accepted, "PROTO")
	want := append([]string(nil), AcceptedOpcodes...)
	sort.Strings(accepted)
	sort.Strings(want)
	if strings.Join(accepted, ",") != strings.Join(want, ",") {
		t.Fatalf("accepted %v\nwant     %v", accepted, want)
	}
	if len(want) != 33 {
		t.Fatalf("%d opcodes", len(want))
	}
}
