package flasksession

import (
	"errors"
	"fmt"

	"github.com/seshat-go/seshat/taggedjson"
)

// Pickle opcodes. Only the ones in accepted are read; every other one (and
// every byte that is no opcode at all) stops the decoder with
// ErrUnsupportedOpcode. The names are pickletools' names, used in errors.
const (
	opMark           = '('
	opStop           = '.'
	opBinInt         = 'J'
	opBinInt1        = 'K'
	opBinInt2        = 'M'
	opNone           = 'N'
	opBinUnicode     = 'X'
	opAppend         = 'a'
	opAppends        = 'e'
	opBinGet         = 'h'
	opLongBinGet     = 'j'
	opEmptyList      = ']'
	opBinPut         = 'q'
	opLongBinPut     = 'r'
	opSetItem        = 's'
	opTuple          = 't'
	opEmptyTuple     = ')'
	opSetItems       = 'u'
	opEmptyDict      = '}'
	opBinFloat       = 'G'
	opProto          = 0x80
	opTuple1         = 0x85
	opTuple2         = 0x86
	opTuple3         = 0x87
	opNewTrue        = 0x88
	opNewFalse       = 0x89
	opLong1          = 0x8a
	opBinBytes       = 'B'
	opShortBinBytes  = 'C'
	opShortBinUnicod = 0x8c
	opBinUnicode8    = 0x8d
	opMemoize        = 0x94
	opFrame          = 0x95
)

// opNames names every opcode of pickle protocols 0 to 5, for errors.
var opNames = map[byte]string{
	'(': "MARK", '.': "STOP", '0': "POP", '1': "POP_MARK", '2': "DUP",
	'F': "FLOAT", 'I': "INT", 'J': "BININT", 'K': "BININT1", 'L': "LONG",
	'M': "BININT2", 'N': "NONE", 'P': "PERSID", 'Q': "BINPERSID", 'R': "REDUCE",
	'S': "STRING", 'T': "BINSTRING", 'U': "SHORT_BINSTRING", 'V': "UNICODE",
	'X': "BINUNICODE", 'a': "APPEND", 'b': "BUILD", 'c': "GLOBAL", 'd': "DICT",
	'}': "EMPTY_DICT", 'e': "APPENDS", 'g': "GET", 'h': "BINGET", 'i': "INST",
	'j': "LONG_BINGET", 'l': "LIST", ']': "EMPTY_LIST", 'o': "OBJ", 'p': "PUT",
	'q': "BINPUT", 'r': "LONG_BINPUT", 's': "SETITEM", 't': "TUPLE",
	')': "EMPTY_TUPLE", 'u': "SETITEMS", 'G': "BINFLOAT",
	0x80: "PROTO", 0x81: "NEWOBJ", 0x82: "EXT1", 0x83: "EXT2", 0x84: "EXT4",
	0x85: "TUPLE1", 0x86: "TUPLE2", 0x87: "TUPLE3", 0x88: "NEWTRUE",
	0x89: "NEWFALSE", 0x8a: "LONG1", 0x8b: "LONG4",
	'B': "BINBYTES", 'C': "SHORT_BINBYTES",
	0x8c: "SHORT_BINUNICODE", 0x8d: "BINUNICODE8", 0x8e: "BINBYTES8",
	0x8f: "EMPTY_SET", 0x90: "ADDITEMS", 0x91: "FROZENSET", 0x92: "NEWOBJ_EX",
	0x93: "STACK_GLOBAL", 0x94: "MEMOIZE", 0x95: "FRAME",
	0x96: "BYTEARRAY8", 0x97: "NEXT_BUFFER", 0x98: "READONLY_BUFFER",
}

// opName returns pickletools' name of op, or a description of a byte that
// is no pickle opcode.
func opName(op byte) string {
	if n, ok := opNames[op]; ok {
		return n
	}
	return fmt.Sprintf("unknown opcode 0x%02x", op)
}

// AcceptedOpcodes lists, by pickletools name, every opcode the decoder
// reads. It is the subset Python's pickle writes, at protocols 2, 4 and 5,
// for a dict of str, bytes, int, float, bool, None, list, tuple and dict.
var AcceptedOpcodes = []string{
	"PROTO", "FRAME", "STOP",
	"EMPTY_DICT", "EMPTY_LIST", "EMPTY_TUPLE", "MARK",
	"SETITEM", "SETITEMS", "APPEND", "APPENDS",
	"TUPLE", "TUPLE1", "TUPLE2", "TUPLE3",
	"MEMOIZE", "BINPUT", "LONG_BINPUT", "BINGET", "LONG_BINGET",
	"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8",
	"SHORT_BINBYTES", "BINBYTES",
	"BININT", "BININT1", "BININT2", "LONG1", "BINFLOAT",
	"NEWTRUE", "NEWFALSE", "NONE",
}

// Errors. Every error of the pickle decoder and encoder is a *PickleError
// that wraps exactly one of these, for errors.Is.
var (
	// ErrUnsupportedOpcode: the pickle uses an opcode outside
	// AcceptedOpcodes — GLOBAL, STACK_GLOBAL, REDUCE, BUILD, NEWOBJ, INST,
	// OBJ, PERSID, EXT1/2/4 and the like, which would import and call Python
	// code, or a byte that is no opcode. The decoder never constructs
	// objects; such a pickle (a datetime, a UUID, any class instance) is
	// refused as a whole.
	ErrUnsupportedOpcode = errors.New("unsupported pickle opcode")
	// ErrMalformed: the pickle is truncated or inconsistent (stack
	// underflow, missing MARK, unknown memo index, invalid UTF-8, data after
	// STOP, a protocol outside 2..5).
	ErrMalformed = errors.New("malformed pickle")
	// ErrLimit: the pickle exceeds one of the decoder's Limits.
	ErrLimit = errors.New("pickle exceeds a decoder limit")
	// ErrUnsupportedValue: a value the Go model cannot hold (a dict key that
	// is not a str, a recursive structure), or, when encoding, a Go value
	// that has no representation in the accepted opcodes (time.Time,
	// taggedjson.UUID, taggedjson.Markup, an int longer than 255 bytes, a
	// string that is not UTF-8).
	ErrUnsupportedValue = errors.New("unsupported value")
)

// PickleError describes a failure to decode or encode a pickle.
type PickleError struct {
	// Kind is the sentinel the error wraps.
	Kind error
	// Offset is the byte offset in the pickle of the opcode at fault, or -1
	// when encoding or when no position applies.
	Offset int
	// Op is the pickletools name of the opcode at fault, or "".
	Op string
	// Msg says what is wrong. It never quotes the pickle's data.
	Msg string
}

// Error formats the error as "flasksession: <kind>: <op>: <msg> (at offset N)".
func (e *PickleError) Error() string {
	s := "flasksession: " + e.Kind.Error()
	if e.Op != "" {
		s += ": " + e.Op
	}
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.Offset >= 0 {
		s += fmt.Sprintf(" (at offset %d)", e.Offset)
	}
	return s
}

// Unwrap returns Kind.
func (e *PickleError) Unwrap() error { return e.Kind }

// Item is one key and value of an OrderedDict.
type Item struct {
	Key   string
	Value any
}

// OrderedDict is a Python dict with its insertion order. The decoder returns
// dicts as OrderedDict when Decoder.KeepOrder is set, and the encoder writes
// an OrderedDict's items in order (a map[string]any is written in sorted key
// order), so that a session dict read and written back keeps Python's key
// order. Keys must be unique.
type OrderedDict []Item

// Map returns d as a map[string]any, converting nested OrderedDicts too
// (taggedjson's model has no ordered dict).
func (d OrderedDict) Map() map[string]any {
	m := make(map[string]any, len(d))
	for _, it := range d {
		m[it.Key] = Unordered(it.Value)
	}
	return m
}

// Unordered returns v with every OrderedDict in it, at any depth, replaced
// by a map[string]any: a value of taggedjson's model. Containers that hold
// an OrderedDict are copied; everything else is returned as it is.
func Unordered(v any) any {
	if !hasOrdered(v) {
		return v
	}
	switch x := v.(type) {
	case OrderedDict:
		return x.Map()
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = Unordered(e)
		}
		return out
	case taggedjson.Tuple:
		out := make(taggedjson.Tuple, len(x))
		for i, e := range x {
			out[i] = Unordered(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = Unordered(e)
		}
		return out
	}
	return v
}

// hasOrdered reports whether v holds an OrderedDict at any depth.
func hasOrdered(v any) bool {
	switch x := v.(type) {
	case OrderedDict:
		return true
	case []any:
		for _, e := range x {
			if hasOrdered(e) {
				return true
			}
		}
	case taggedjson.Tuple:
		for _, e := range x {
			if hasOrdered(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if hasOrdered(e) {
				return true
			}
		}
	}
	return false
}
