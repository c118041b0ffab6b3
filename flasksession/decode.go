package flasksession

import (
	"encoding/binary"
	"math"
	"math/big"
	"strconv"
	"unicode/utf8"

	"github.com/seshat-go/seshat/taggedjson"
)

// Default limits of the pickle decoder.
const (
	DefaultMaxSize     = 4 << 20  // bytes of pickle
	DefaultMaxDepth    = 100      // nested containers, the outer dict counting 1
	DefaultMaxItems    = 1 << 20  // values in the result, counting shared ones once per reference
	DefaultMaxExpanded = 16 << 20 // bytes of str and bytes in the result, counting shared ones once per reference
	DefaultMaxMemo     = 1 << 20  // memo entries
)

// Limits bound the work and memory of one Decode. A zero field means its
// default. Pickles can reference one object many times (BINGET); the result
// is a tree, so Items and Expanded count every reference, which keeps a
// small pickle from decoding into an exponentially large value.
type Limits struct {
	// MaxSize is the largest pickle accepted, in bytes.
	MaxSize int
	// MaxDepth is how deeply dicts, lists and tuples may nest. Keep it
	// below taggedjson.DefaultMaxDepth (128), which counts a tuple twice,
	// so that what decodes can also be written as Flask's tagged JSON.
	MaxDepth int
	// MaxItems is the largest number of values in the result.
	MaxItems int
	// MaxExpanded is the largest total size of the str and bytes values in
	// the result.
	MaxExpanded int
	// MaxMemo is the largest number of memo entries.
	MaxMemo int
}

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxSize, DefaultMaxSize)
	def(&l.MaxDepth, DefaultMaxDepth)
	def(&l.MaxItems, DefaultMaxItems)
	def(&l.MaxExpanded, DefaultMaxExpanded)
	def(&l.MaxMemo, DefaultMaxMemo)
	return l
}

// Decoder reads pickles of plain data. The zero value is ready to use, with
// the default Limits. A Decoder is safe for concurrent use.
//
// The result uses taggedjson's Go model: dict → map[string]any (or
// OrderedDict with KeepOrder), list → []any, tuple → taggedjson.Tuple,
// str → string, bytes → []byte, int → int64 (or *big.Int beyond int64),
// float → float64, bool → bool, None → nil.
//
// A dict whose keys are not all str (Python allows {1: "a"}) is refused with
// ErrUnsupportedValue rather than having its keys turned into strings: the
// model has only str keys, and writing such a dict back with str keys would
// silently change the Flask app's data. A str keeps Python's
// "surrogatepass" decoding: lone surrogates stay as their 3-byte sequences,
// as taggedjson keeps them.
type Decoder struct {
	Limits
	// KeepOrder returns every dict as an OrderedDict, in Python's insertion
	// order, instead of a map[string]any.
	KeepOrder bool
}

// DecodePickle decodes a pickle with the default Limits; see Decoder.
func DecodePickle(data []byte) (any, error) {
	return Decoder{}.Decode(data)
}

// Decode decodes one pickle. The pickle must start with PROTO (2 to 5), use
// only the opcodes in AcceptedOpcodes, and end with STOP leaving exactly one
// value; nothing may follow STOP.
func (d Decoder) Decode(data []byte) (any, error) {
	lim := d.Limits.withDefaults()
	if len(data) > lim.MaxSize {
		return nil, &PickleError{Kind: ErrLimit, Offset: -1, Msg: "pickle of " + strconv.Itoa(len(data)) + " bytes exceeds MaxSize " + strconv.Itoa(lim.MaxSize)}
	}
	m := machine{data: data, lim: lim}
	root, err := m.run()
	if err != nil {
		return nil, err
	}
	b := builder{lim: lim, keep: d.KeepOrder}
	return b.build(root, 1)
}

// The decoder runs pickle's stack machine over these mutable nodes, then
// builds the model value from the one left on the stack. Lists and dicts are
// pointers so that the memo, the stack and containers share them as Python
// shares objects.
type (
	listNode struct {
		items    []any
		visiting bool
	}
	dictNode struct {
		items    []Item // in insertion order
		index    map[string]int
		visiting bool
	}
	tupleNode struct {
		items    []any
		visiting bool
	}
	bytesNode struct{ b []byte }
)

// machine is pickle's virtual machine restricted to the accepted opcodes.
type machine struct {
	data  []byte
	pos   int
	lim   Limits
	stack []any
	marks []int // stack lengths at each MARK
	memo  []any
	op    byte
	opPos int
}

func (m *machine) fail(kind error, msg string) error {
	return &PickleError{Kind: kind, Offset: m.opPos, Op: opName(m.op), Msg: msg}
}

func (m *machine) truncated() error { return m.fail(ErrMalformed, "pickle truncated") }

// read returns the next n bytes.
func (m *machine) read(n uint64) ([]byte, bool) {
	if n > uint64(len(m.data)-m.pos) {
		return nil, false
	}
	b := m.data[m.pos : m.pos+int(n)]
	m.pos += int(n)
	return b, true
}

// fence is the stack length below which pops may not reach: the top MARK.
func (m *machine) fence() int {
	if len(m.marks) == 0 {
		return 0
	}
	return m.marks[len(m.marks)-1]
}

func (m *machine) push(v any) { m.stack = append(m.stack, v) }

func (m *machine) pop() (any, error) {
	if len(m.stack) <= m.fence() {
		return nil, m.fail(ErrMalformed, "unpickling stack underflow")
	}
	v := m.stack[len(m.stack)-1]
	m.stack[len(m.stack)-1] = nil
	m.stack = m.stack[:len(m.stack)-1]
	return v, nil
}

// popMark removes the items above the top MARK and the MARK itself, and
// returns the items (a copy).
func (m *machine) popMark() ([]any, error) {
	if len(m.marks) == 0 {
		return nil, m.fail(ErrMalformed, "could not find MARK")
	}
	k := m.marks[len(m.marks)-1]
	m.marks = m.marks[:len(m.marks)-1]
	items := make([]any, len(m.stack)-k)
	copy(items, m.stack[k:])
	clear(m.stack[k:])
	m.stack = m.stack[:k]
	return items, nil
}

func (m *machine) top() (any, error) {
	if len(m.stack) <= m.fence() {
		return nil, m.fail(ErrMalformed, "unpickling stack underflow")
	}
	return m.stack[len(m.stack)-1], nil
}

func (m *machine) memoPut(idx uint64) error {
	v, err := m.top()
	if err != nil {
		return err
	}
	switch {
	case idx < uint64(len(m.memo)):
		m.memo[idx] = v
	case idx == uint64(len(m.memo)):
		if len(m.memo) >= m.lim.MaxMemo {
			return m.fail(ErrLimit, "more than MaxMemo memo entries")
		}
		m.memo = append(m.memo, v)
	default:
		// Python's pickler numbers memo entries densely from 0.
		return m.fail(ErrMalformed, "memo index "+strconv.FormatUint(idx, 10)+" skips entries")
	}
	return nil
}

func (m *machine) memoGet(idx uint64) error {
	if idx >= uint64(len(m.memo)) {
		return m.fail(ErrMalformed, "memo value not found at index "+strconv.FormatUint(idx, 10))
	}
	m.push(m.memo[idx])
	return nil
}

// run executes the pickle and returns the value STOP leaves.
func (m *machine) run() (any, error) {
	for first := true; ; first = false {
		m.opPos = m.pos
		if m.pos >= len(m.data) {
			m.op = 0
			return nil, &PickleError{Kind: ErrMalformed, Offset: m.pos, Msg: "pickle exhausted before STOP"}
		}
		m.op = m.data[m.pos]
		m.pos++
		if first != (m.op == opProto) {
			if first {
				return nil, m.fail(ErrMalformed, "a pickle must start with PROTO 2..5")
			}
			return nil, m.fail(ErrMalformed, "PROTO after the start")
		}
		if m.op == opStop {
			v, err := m.pop()
			if err != nil {
				return nil, err
			}
			if len(m.stack) != 0 || len(m.marks) != 0 {
				return nil, m.fail(ErrMalformed, "STOP with more than one value or an open MARK")
			}
			if m.pos != len(m.data) {
				return nil, m.fail(ErrMalformed, "data after STOP")
			}
			return v, nil
		}
		if err := m.step(); err != nil {
			return nil, err
		}
	}
}

// step executes one opcode other than STOP.
func (m *machine) step() error {
	switch m.op {
	case opProto:
		b, ok := m.read(1)
		if !ok {
			return m.truncated()
		}
		if b[0] < 2 || b[0] > 5 {
			return m.fail(ErrMalformed, "protocol "+strconv.Itoa(int(b[0]))+" (want 2..5)")
		}
	case opFrame:
		b, ok := m.read(8)
		if !ok {
			return m.truncated()
		}
		// Like CPython's unpickler: the frame must be present in full;
		// its contents are then read as ordinary opcodes.
		if binary.LittleEndian.Uint64(b) > uint64(len(m.data)-m.pos) {
			return m.fail(ErrMalformed, "pickle exhausted before end of frame")
		}
	case opMark:
		m.marks = append(m.marks, len(m.stack))
	case opEmptyDict:
		m.push(&dictNode{})
	case opEmptyList:
		m.push(&listNode{})
	case opEmptyTuple:
		m.push(&tupleNode{})
	case opNone:
		m.push(nil)
	case opNewTrue:
		m.push(true)
	case opNewFalse:
		m.push(false)
	case opBinInt1:
		b, ok := m.read(1)
		if !ok {
			return m.truncated()
		}
		m.push(int64(b[0]))
	case opBinInt2:
		b, ok := m.read(2)
		if !ok {
			return m.truncated()
		}
		m.push(int64(binary.LittleEndian.Uint16(b)))
	case opBinInt:
		b, ok := m.read(4)
		if !ok {
			return m.truncated()
		}
		m.push(int64(int32(binary.LittleEndian.Uint32(b))))
	case opLong1:
		n, ok := m.read(1)
		if !ok {
			return m.truncated()
		}
		b, ok := m.read(uint64(n[0]))
		if !ok {
			return m.truncated()
		}
		m.push(decodeLong(b))
	case opBinFloat:
		b, ok := m.read(8)
		if !ok {
			return m.truncated()
		}
		m.push(math.Float64frombits(binary.BigEndian.Uint64(b)))
	case opShortBinUnicod, opBinUnicode, opBinUnicode8:
		b, err := m.readCounted()
		if err != nil {
			return err
		}
		if !validSurrogatePass(b) {
			return m.fail(ErrMalformed, "str is not UTF-8 (surrogatepass)")
		}
		m.push(string(b))
	case opShortBinBytes, opBinBytes:
		b, err := m.readCounted()
		if err != nil {
			return err
		}
		m.push(&bytesNode{b: b})
	case opMemoize:
		return m.memoPut(uint64(len(m.memo)))
	case opBinPut:
		b, ok := m.read(1)
		if !ok {
			return m.truncated()
		}
		return m.memoPut(uint64(b[0]))
	case opLongBinPut:
		b, ok := m.read(4)
		if !ok {
			return m.truncated()
		}
		return m.memoPut(uint64(binary.LittleEndian.Uint32(b)))
	case opBinGet:
		b, ok := m.read(1)
		if !ok {
			return m.truncated()
		}
		return m.memoGet(uint64(b[0]))
	case opLongBinGet:
		b, ok := m.read(4)
		if !ok {
			return m.truncated()
		}
		return m.memoGet(uint64(binary.LittleEndian.Uint32(b)))
	case opTuple:
		items, err := m.popMark()
		if err != nil {
			return err
		}
		m.push(&tupleNode{items: items})
	case opTuple1, opTuple2, opTuple3:
		n := int(m.op-opTuple1) + 1
		if len(m.stack)-n < m.fence() {
			return m.fail(ErrMalformed, "unpickling stack underflow")
		}
		items := make([]any, n)
		copy(items, m.stack[len(m.stack)-n:])
		clear(m.stack[len(m.stack)-n:])
		m.stack = m.stack[:len(m.stack)-n]
		m.push(&tupleNode{items: items})
	case opAppend:
		v, err := m.pop()
		if err != nil {
			return err
		}
		l, err := m.targetList(len(m.stack))
		if err != nil {
			return err
		}
		l.items = append(l.items, v)
	case opAppends:
		items, err := m.popMark()
		if err != nil {
			return err
		}
		l, err := m.targetList(len(m.stack))
		if err != nil {
			return err
		}
		l.items = append(l.items, items...)
	case opSetItem:
		v, err := m.pop()
		if err != nil {
			return err
		}
		k, err := m.pop()
		if err != nil {
			return err
		}
		d, err := m.targetDict()
		if err != nil {
			return err
		}
		return m.setItem(d, k, v)
	case opSetItems:
		items, err := m.popMark()
		if err != nil {
			return err
		}
		if len(items)%2 != 0 {
			return m.fail(ErrMalformed, "odd number of items for SETITEMS")
		}
		d, err := m.targetDict()
		if err != nil {
			return err
		}
		for i := 0; i < len(items); i += 2 {
			if err := m.setItem(d, items[i], items[i+1]); err != nil {
				return err
			}
		}
	default:
		return m.fail(ErrUnsupportedOpcode, "only plain data (dict, list, tuple, str, bytes, int, float, bool, None) is accepted; objects are never constructed")
	}
	return nil
}

// readCounted reads the length argument of a str or bytes opcode and then
// that many bytes.
func (m *machine) readCounted() ([]byte, error) {
	var n uint64
	switch m.op {
	case opShortBinUnicod, opShortBinBytes:
		b, ok := m.read(1)
		if !ok {
			return nil, m.truncated()
		}
		n = uint64(b[0])
	case opBinUnicode, opBinBytes:
		b, ok := m.read(4)
		if !ok {
			return nil, m.truncated()
		}
		n = uint64(binary.LittleEndian.Uint32(b))
	default: // BINUNICODE8
		b, ok := m.read(8)
		if !ok {
			return nil, m.truncated()
		}
		n = binary.LittleEndian.Uint64(b)
	}
	b, ok := m.read(n)
	if !ok {
		return nil, m.truncated()
	}
	return b, nil
}

// targetList returns the list below stack position at (APPEND's target).
func (m *machine) targetList(at int) (*listNode, error) {
	if at == 0 || at <= m.fence() {
		return nil, m.fail(ErrMalformed, "unpickling stack underflow")
	}
	l, ok := m.stack[at-1].(*listNode)
	if !ok {
		return nil, m.fail(ErrMalformed, "APPEND to "+nodeType(m.stack[at-1]))
	}
	return l, nil
}

func (m *machine) targetDict() (*dictNode, error) {
	if len(m.stack) == 0 || len(m.stack) <= m.fence() {
		return nil, m.fail(ErrMalformed, "unpickling stack underflow")
	}
	d, ok := m.stack[len(m.stack)-1].(*dictNode)
	if !ok {
		return nil, m.fail(ErrMalformed, "SETITEM on "+nodeType(m.stack[len(m.stack)-1]))
	}
	return d, nil
}

// setItem is d[k] = v: a new key goes last, an existing one keeps its
// place, as in a Python dict.
func (m *machine) setItem(d *dictNode, k, v any) error {
	key, ok := k.(string)
	if !ok {
		return m.fail(ErrUnsupportedValue, "dict key of type "+nodeType(k)+"; only str keys are supported")
	}
	if d.index == nil {
		d.index = make(map[string]int)
	}
	if i, ok := d.index[key]; ok {
		d.items[i].Value = v
		return nil
	}
	d.index[key] = len(d.items)
	d.items = append(d.items, Item{Key: key, Value: v})
	return nil
}

// nodeType names the Python type of a stack value.
func nodeType(v any) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case int64, *big.Int:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case *bytesNode:
		return "bytes"
	case *listNode:
		return "list"
	case *dictNode:
		return "dict"
	case *tupleNode:
		return "tuple"
	}
	return "?"
}

// decodeLong reads a little-endian two's-complement integer (LONG1's
// argument; empty means 0).
func decodeLong(b []byte) any {
	if len(b) <= 8 {
		var u uint64
		for i := len(b) - 1; i >= 0; i-- {
			u = u<<8 | uint64(b[i])
		}
		if len(b) > 0 && len(b) < 8 && b[len(b)-1]&0x80 != 0 {
			u |= ^uint64(0) << (8 * len(b)) // sign-extend
		}
		return int64(u)
	}
	be := make([]byte, len(b))
	for i, c := range b {
		be[len(b)-1-i] = c
	}
	n := new(big.Int).SetBytes(be)
	if b[len(b)-1]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	if n.IsInt64() {
		return n.Int64()
	}
	return n
}

// validSurrogatePass reports whether Python's
// bytes.decode("utf-8", "surrogatepass") accepts b: UTF-8, plus the 3-byte
// encodings of surrogate code points.
func validSurrogatePass(b []byte) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			i++
			continue
		}
		if r, size := utf8.DecodeRune(b[i:]); r != utf8.RuneError || size != 1 {
			i += size
			continue
		}
		if i+2 < len(b) && c == 0xED && b[i+1]&0xE0 == 0xA0 && b[i+2]&0xC0 == 0x80 {
			i += 3
			continue
		}
		return false
	}
	return true
}

// builder turns the node left by the machine into a model value. Every
// reference to a shared node is built again (the result is a tree), within
// the Items and Expanded budgets; a node met again while it is being built
// is a cycle.
type builder struct {
	lim      Limits
	keep     bool
	items    int
	expanded int
}

func (b *builder) fail(kind error, msg string) error {
	return &PickleError{Kind: kind, Offset: -1, Msg: msg}
}

func (b *builder) count(n int) error {
	b.items++
	b.expanded += n
	if b.items > b.lim.MaxItems {
		return b.fail(ErrLimit, "more than MaxItems values")
	}
	if b.expanded > b.lim.MaxExpanded {
		return b.fail(ErrLimit, "more than MaxExpanded bytes of str and bytes")
	}
	return nil
}

var errCycle = &PickleError{Kind: ErrUnsupportedValue, Offset: -1, Msg: "recursive structure (a container that contains itself)"}

func (b *builder) build(v any, depth int) (any, error) {
	switch x := v.(type) {
	case string:
		return x, b.count(len(x))
	case *bytesNode:
		if err := b.count(len(x.b)); err != nil {
			return nil, err
		}
		out := make([]byte, len(x.b))
		copy(out, x.b)
		return out, nil
	case *listNode:
		if err := b.enter(&x.visiting, depth); err != nil {
			return nil, err
		}
		defer func() { x.visiting = false }()
		out := make([]any, len(x.items))
		for i, e := range x.items {
			var err error
			if out[i], err = b.build(e, depth+1); err != nil {
				return nil, err
			}
		}
		return out, nil
	case *tupleNode:
		if err := b.enter(&x.visiting, depth); err != nil {
			return nil, err
		}
		defer func() { x.visiting = false }()
		out := make(taggedjson.Tuple, len(x.items))
		for i, e := range x.items {
			var err error
			if out[i], err = b.build(e, depth+1); err != nil {
				return nil, err
			}
		}
		return out, nil
	case *dictNode:
		if err := b.enter(&x.visiting, depth); err != nil {
			return nil, err
		}
		defer func() { x.visiting = false }()
		if b.keep {
			out := make(OrderedDict, len(x.items))
			for i, it := range x.items {
				if err := b.count(len(it.Key)); err != nil {
					return nil, err
				}
				v, err := b.build(it.Value, depth+1)
				if err != nil {
					return nil, err
				}
				out[i] = Item{Key: it.Key, Value: v}
			}
			return out, nil
		}
		out := make(map[string]any, len(x.items))
		for _, it := range x.items {
			if err := b.count(len(it.Key)); err != nil {
				return nil, err
			}
			v, err := b.build(it.Value, depth+1)
			if err != nil {
				return nil, err
			}
			out[it.Key] = v
		}
		return out, nil
	}
	// int64, *big.Int, float64, bool, nil
	return v, b.count(0)
}

func (b *builder) enter(visiting *bool, depth int) error {
	if *visiting {
		return errCycle
	}
	if depth > b.lim.MaxDepth {
		return b.fail(ErrLimit, "containers nest deeper than MaxDepth")
	}
	if err := b.count(0); err != nil {
		return err
	}
	*visiting = true
	return nil
}
