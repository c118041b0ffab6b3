package flasksession

import (
	"encoding/binary"
	"math"
	"math/big"
	"slices"
	"strconv"
	"time"

	"github.com/seshat-go/seshat/taggedjson"
)

// Pickle protocols the encoder writes.
const (
	// ProtocolRedis is what Flask-Session 0.3.2 writes to Redis:
	// pickle.dumps with Python's default protocol, 4 on Python 3.8 to 3.13.
	ProtocolRedis = 4
	// ProtocolFile is what cachelib's FileSystemCache writes:
	// pickle.HIGHEST_PROTOCOL, 5 on Python 3.8 and later.
	ProtocolFile = 5
)

// Framing constants of Python's pickler (protocol 4 and later).
const (
	frameSizeTarget = 64 << 10 // a frame is closed once it holds this much
	frameSizeMin    = 4        // a smaller frame gets no FRAME header
	frameHeaderSize = 9        // FRAME opcode + uint64 length
	batchSize       = 1000     // items per APPENDS / SETITEMS
)

// EncodePickle returns the pickle of v at protocol 4 or 5, byte for byte
// what CPython's pickle.dumps(v, protocol) writes when no object in v is
// referenced twice (Python then writes BINGET for the repeats, which only
// makes its pickle shorter; both load to the same value).
//
// v is a value of taggedjson's model, or an OrderedDict anywhere a dict may
// be. A map[string]any is written in sorted key order, an OrderedDict in its
// order. Other Go values go through taggedjson.Normalize first. Values the
// accepted opcodes cannot express fail with ErrUnsupportedValue: time.Time,
// taggedjson.UUID and taggedjson.Markup (Python pickles datetime, UUID and
// Markup as class instances, which this package neither writes nor reads),
// integers whose two's complement needs more than 255 bytes, bytes longer
// than 4 GiB, strings that are not UTF-8 (lone surrogates are allowed, as
// Python's "surrogatepass" writes them), duplicate OrderedDict keys, and
// nesting deeper than DefaultMaxDepth.
func EncodePickle(v any, protocol int) ([]byte, error) {
	if protocol != 4 && protocol != 5 {
		return nil, &PickleError{Kind: ErrUnsupportedValue, Offset: -1, Msg: "protocol " + strconv.Itoa(protocol) + " (only 4 and 5 are written)"}
	}
	e := encoder{frameStart: -1}
	e.buf = append(e.buf, opProto, byte(protocol))
	if err := e.save(v, 1); err != nil {
		return nil, err
	}
	e.write(opStop)
	e.commitFrame()
	return e.buf, nil
}

// encoder writes one pickle into buf. A frame in progress starts at
// frameStart with 9 bytes reserved for its header, which commitFrame fills in
// or, for a frame shorter than frameSizeMin, removes — as CPython does.
type encoder struct {
	buf        []byte
	frameStart int
}

func (e *encoder) openFrame() {
	if e.frameStart < 0 {
		e.frameStart = len(e.buf)
		e.buf = append(e.buf, make([]byte, frameHeaderSize)...)
	}
}

func (e *encoder) write(b ...byte) {
	e.openFrame()
	e.buf = append(e.buf, b...)
}

func (e *encoder) writeString(s string) {
	e.openFrame()
	e.buf = append(e.buf, s...)
}

func (e *encoder) frameLen() int { return len(e.buf) - e.frameStart - frameHeaderSize }

func (e *encoder) commitFrame() {
	if e.frameStart < 0 {
		return
	}
	if n := e.frameLen(); n >= frameSizeMin {
		e.buf[e.frameStart] = opFrame
		binary.LittleEndian.PutUint64(e.buf[e.frameStart+1:], uint64(n))
	} else {
		copy(e.buf[e.frameStart:], e.buf[e.frameStart+frameHeaderSize:])
		e.buf = e.buf[:len(e.buf)-frameHeaderSize]
	}
	e.frameStart = -1
}

// boundary is what Python's pickler does before saving each object: close
// the current frame once it has reached the target size.
func (e *encoder) boundary() {
	if e.frameStart >= 0 && e.frameLen() >= frameSizeTarget {
		e.commitFrame()
	}
}

// writeLarge writes a str or bytes of at least frameSizeTarget bytes outside
// any frame, as Python does.
func (e *encoder) writeLarge(header []byte, payload string) {
	e.commitFrame()
	e.buf = append(e.buf, header...)
	e.buf = append(e.buf, payload...)
}

func unsupported(msg string) error {
	return &PickleError{Kind: ErrUnsupportedValue, Offset: -1, Msg: msg}
}

func (e *encoder) save(v any, depth int) error {
	e.boundary()
	switch x := v.(type) {
	case nil:
		e.write(opNone)
	case bool:
		if x {
			e.write(opNewTrue)
		} else {
			e.write(opNewFalse)
		}
	case int64:
		e.saveInt(x)
	case *big.Int:
		if x == nil {
			return unsupported("nil *big.Int")
		}
		if x.IsInt64() {
			e.saveInt(x.Int64())
			return nil
		}
		b := encodeLong(x)
		if len(b) > 255 {
			return unsupported("int of " + strconv.Itoa(len(b)) + " bytes needs LONG4, which is not written")
		}
		e.write(opLong1, byte(len(b)))
		e.write(b...)
	case float64:
		var b [9]byte
		b[0] = opBinFloat
		binary.BigEndian.PutUint64(b[1:], math.Float64bits(x))
		e.write(b[:]...)
	case string:
		return e.saveStr(x)
	case []byte:
		return e.saveBytes(x)
	case []any:
		return e.saveList(x, depth)
	case taggedjson.Tuple:
		return e.saveTuple(x, depth)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return e.saveDict(len(keys), func(i int) (string, any) { return keys[i], x[keys[i]] }, depth)
	case OrderedDict:
		seen := make(map[string]struct{}, len(x))
		for _, it := range x {
			if _, dup := seen[it.Key]; dup {
				return unsupported("duplicate key in OrderedDict")
			}
			seen[it.Key] = struct{}{}
		}
		return e.saveDict(len(x), func(i int) (string, any) { return x[i].Key, x[i].Value }, depth)
	case time.Time:
		return unsupported("time.Time: Python pickles a datetime as a class instance (STACK_GLOBAL, REDUCE), which is not written")
	case taggedjson.UUID:
		return unsupported("taggedjson.UUID: Python pickles a UUID as a class instance (STACK_GLOBAL, NEWOBJ, BUILD), which is not written")
	case taggedjson.Markup:
		return unsupported("taggedjson.Markup: Python pickles Markup as a class instance (STACK_GLOBAL, REDUCE), which is not written")
	default:
		n, err := taggedjson.Normalize(v)
		if err != nil {
			return &PickleError{Kind: ErrUnsupportedValue, Offset: -1, Msg: err.Error()}
		}
		return e.save(n, depth)
	}
	return nil
}

// saveInt writes an int as Python's save_long does at protocol 2 and later.
func (e *encoder) saveInt(n int64) {
	switch {
	case n >= 0 && n <= 0xff:
		e.write(opBinInt1, byte(n))
	case n >= 0 && n <= 0xffff:
		e.write(opBinInt2, byte(n), byte(n>>8))
	case n >= math.MinInt32 && n <= math.MaxInt32:
		var b [5]byte
		b[0] = opBinInt
		binary.LittleEndian.PutUint32(b[1:], uint32(int32(n)))
		e.write(b[:]...)
	default:
		b := encodeLong(big.NewInt(n))
		e.write(opLong1, byte(len(b)))
		e.write(b...)
	}
}

// encodeLong is Python's pickle.encode_long: the shortest little-endian
// two's complement of x (x != 0).
func encodeLong(x *big.Int) []byte {
	nbytes := x.BitLen()/8 + 1
	var be []byte
	if x.Sign() >= 0 {
		be = x.FillBytes(make([]byte, nbytes))
	} else {
		// Two's complement: 2^(8*nbytes) + x.
		t := new(big.Int).Lsh(big.NewInt(1), uint(8*nbytes))
		t.Add(t, x)
		be = t.FillBytes(make([]byte, nbytes))
	}
	le := make([]byte, nbytes)
	for i, c := range be {
		le[nbytes-1-i] = c
	}
	if x.Sign() < 0 && nbytes > 1 && le[nbytes-1] == 0xff && le[nbytes-2]&0x80 != 0 {
		le = le[:nbytes-1]
	}
	return le
}

func (e *encoder) saveStr(s string) error {
	if !validSurrogatePass([]byte(s)) {
		return unsupported("string is not UTF-8")
	}
	n := len(s)
	switch {
	case n <= 0xff:
		e.write(opShortBinUnicod, byte(n))
		e.writeString(s)
	case uint64(n) > 0xffffffff:
		var h [9]byte
		h[0] = opBinUnicode8
		binary.LittleEndian.PutUint64(h[1:], uint64(n))
		e.writeLarge(h[:], s)
	case n >= frameSizeTarget:
		e.writeLarge(u32Header(opBinUnicode, n), s)
	default:
		e.write(u32Header(opBinUnicode, n)...)
		e.writeString(s)
	}
	e.write(opMemoize)
	return nil
}

func u32Header(op byte, n int) []byte {
	var h [5]byte
	h[0] = op
	binary.LittleEndian.PutUint32(h[1:], uint32(n))
	return h[:]
}

func (e *encoder) saveBytes(b []byte) error {
	n := len(b)
	switch {
	case n <= 0xff:
		e.write(opShortBinBytes, byte(n))
		e.write(b...)
	case uint64(n) > 0xffffffff:
		return unsupported("bytes longer than 4 GiB need BINBYTES8, which is not written")
	case n >= frameSizeTarget:
		e.writeLarge(u32Header(opBinBytes, n), string(b))
	default:
		e.write(u32Header(opBinBytes, n)...)
		e.write(b...)
	}
	e.write(opMemoize)
	return nil
}

func (e *encoder) enter(depth int) error {
	if depth > DefaultMaxDepth {
		return unsupported("containers nest deeper than DefaultMaxDepth")
	}
	return nil
}

// saveList follows CPython's batch_list_exact: one item → APPEND, else
// batches of up to 1000 items in MARK … APPENDS.
func (e *encoder) saveList(l []any, depth int) error {
	if err := e.enter(depth); err != nil {
		return err
	}
	e.write(opEmptyList, opMemoize)
	if len(l) == 1 {
		if err := e.save(l[0], depth+1); err != nil {
			return err
		}
		e.write(opAppend)
		return nil
	}
	for i := 0; i < len(l); {
		e.write(opMark)
		for j := 0; j < batchSize && i < len(l); j, i = j+1, i+1 {
			if err := e.save(l[i], depth+1); err != nil {
				return err
			}
		}
		e.write(opAppends)
	}
	return nil
}

// saveTuple follows save_tuple: () → EMPTY_TUPLE (not memoized); up to 3
// items → TUPLE1..3; more → MARK … TUPLE.
func (e *encoder) saveTuple(t taggedjson.Tuple, depth int) error {
	if err := e.enter(depth); err != nil {
		return err
	}
	if len(t) == 0 {
		e.write(opEmptyTuple)
		return nil
	}
	if len(t) > 3 {
		e.write(opMark)
	}
	for _, v := range t {
		if err := e.save(v, depth+1); err != nil {
			return err
		}
	}
	if len(t) > 3 {
		e.write(opTuple)
	} else {
		e.write(opTuple1 + byte(len(t)-1))
	}
	e.write(opMemoize)
	return nil
}

// saveDict follows CPython's batch_dict_exact: one item → SETITEM, else
// MARK … SETITEMS batches of 1000 for as long as a batch comes out full (so
// a multiple of 1000 items ends with an empty MARK SETITEMS, as in CPython).
func (e *encoder) saveDict(n int, item func(int) (string, any), depth int) error {
	if err := e.enter(depth); err != nil {
		return err
	}
	e.write(opEmptyDict, opMemoize)
	if n == 0 {
		return nil
	}
	if n == 1 {
		k, v := item(0)
		if err := e.saveKV(k, v, depth); err != nil {
			return err
		}
		e.write(opSetItem)
		return nil
	}
	i := 0
	for {
		e.write(opMark)
		j := 0
		for ; j < batchSize && i < n; j, i = j+1, i+1 {
			k, v := item(i)
			if err := e.saveKV(k, v, depth); err != nil {
				return err
			}
		}
		e.write(opSetItems)
		if j != batchSize {
			return nil
		}
	}
}

func (e *encoder) saveKV(k string, v any, depth int) error {
	e.boundary()
	if err := e.saveStr(k); err != nil {
		return err
	}
	return e.save(v, depth+1)
}
