package signing

import (
	"encoding/binary"
	"hash/adler32"
	"math/bits"
	"sync"
)

// A small zlib compressor for session-sized payloads.
//
// compress/flate spends 5-10 µs per stream building its Huffman tables
// whatever the input size (and a level above BestSpeed also clears 640 KB of
// match tables on every Reset), which is more than signing and encoding a
// cookie altogether. Since CompressAuto must compress every payload to know
// whether compression pays, this encoder does the same job for small inputs
// in a fraction of that: greedy LZ77 matching with a one-entry-per-bucket
// hash table, then a single Huffman block, dynamic or fixed, whichever is
// smaller. It computes the exact size of the stream before writing it, so a
// payload that does not compress costs only the analysis. The output is an
// ordinary RFC 1950 zlib stream that Python's zlib.decompress and
// compress/zlib read; the tests check it against compress/zlib.

const (
	// maxSmallDeflate is the largest payload this encoder takes; larger
	// ones go to compress/zlib, where the per-stream setup is amortized.
	maxSmallDeflate = 256 << 10
	hashBits        = 12 // plenty for cookie-sized inputs, and cache-friendly
	minMatch        = 4  // the hash covers 4 bytes
	maxMatch        = 258
	maxDistance     = 32768
)

// deflateEncoder holds the reusable state; one per goroutine via a pool.
type deflateEncoder struct {
	// table maps a hash of 4 bytes to the last position seen, plus base.
	// base grows by len(input) per use, so entries from earlier inputs
	// fall below it and are ignored without clearing the table.
	table [1 << hashBits]int32
	base  int32

	tokens []token

	litFreq  [numLitLen]uint32
	distFreq [numDist]uint32
	cgFreq   [numCodeLen]uint32
	litLen   [numLitLen]uint8
	distLen  [numDist]uint8
	cgLen    [numCodeLen]uint8
	litCode  [numLitLen]uint16
	distCode [numDist]uint16
	cgCode   [numCodeLen]uint16

	// lengths is the literal/length code lengths followed by the distance
	// code lengths; cg is their run-length encoding (symbol | extra<<8).
	lengths [numLitLen + numDist]uint8
	cg      [numLitLen + numDist]uint16

	nlit, ndist, nclen, ncg int  // sizes planned by plan
	fixed                   bool // plan chose a fixed-Huffman block

	scratch huffScratch
}

// token is a literal byte (bit 31 clear) or a match: bit 31 set, length-3 in
// bits 0-7, distance-1 in bits 8-22.
type token uint32

const matchFlag = 1 << 31

// codeLenExtra is the number of extra bits after each code-length symbol.
var codeLenExtra = [numCodeLen]uint8{16: 2, 17: 3, 18: 7}

var deflateEncoders = sync.Pool{New: func() any { return &deflateEncoder{base: 1} }}

// appendZlibIfShorter appends the zlib stream of src to dst and reports true
// if it is shorter than limit bytes; otherwise it returns dst unchanged and
// false, without having written anything.
func appendZlibIfShorter(dst, src []byte, limit int) ([]byte, bool) {
	if len(src) > maxSmallDeflate {
		z := appendStdZlib(dst, src)
		if len(z)-len(dst) < limit {
			return z, true
		}
		return dst, false
	}
	e := deflateEncoders.Get().(*deflateEncoder)
	defer func() {
		if cap(e.tokens) > maxPooledBuffer {
			e.tokens = nil // do not pin a big buffer in the pool
		}
		deflateEncoders.Put(e)
	}()
	e.findMatches(src)
	size := e.plan()
	if 2+size+4 >= limit {
		return dst, false
	}
	// deflate, 32 KB window, and the "default level" label that Python's
	// zlib.compress writes: the label is informational, and using Python's
	// makes our stream byte-identical to its own wherever the deflate data
	// agree (short, incompressible-looking payloads often do).
	dst = append(dst, 0x78, 0x9c)
	dst = e.write(dst)
	return binary.BigEndian.AppendUint32(dst, adler32.Checksum(src)), true
}

// appendZlib appends the zlib stream of src to dst, whatever its size.
func appendZlib(dst, src []byte) []byte {
	out, _ := appendZlibIfShorter(dst, src, int(^uint(0)>>1))
	return out
}

func hash4(u uint32) uint32 { return u * 0x1e35a7bd >> (32 - hashBits) }

// findMatches turns src into tokens with greedy matching and counts the
// symbol frequencies.
func (e *deflateEncoder) findMatches(src []byte) {
	clear(e.litFreq[:])
	clear(e.distFreq[:])
	e.tokens = e.tokens[:0]
	if e.base > 1<<30 { // rarely: start over before base can overflow
		clear(e.table[:])
		e.base = 1
	}
	base := int(e.base)
	e.base += int32(len(src)) + 1
	n := len(src)
	for i := 0; i < n; {
		if i+minMatch > n {
			e.literal(src[i])
			i++
			continue
		}
		x := binary.LittleEndian.Uint32(src[i:])
		h := hash4(x)
		cand := int(e.table[h]) - base
		e.table[h] = int32(i + base)
		if cand < 0 || i-cand > maxDistance || binary.LittleEndian.Uint32(src[cand:]) != x {
			e.literal(src[i])
			i++
			continue
		}
		l := matchLen(src[cand+minMatch:], src[i+minMatch:min(n, i+maxMatch)]) + minMatch
		e.match(l, i-cand)
		// Index the positions inside the match too (the first few of a
		// long one): repeated JSON keys match better for it.
		for j := i + 1; j < min(i+l, i+16) && j+minMatch <= n; j++ {
			e.table[hash4(binary.LittleEndian.Uint32(src[j:]))] = int32(j + base)
		}
		i += l
	}
	e.litFreq[endOfBlock] = 1
}

// matchLen returns the length of the common prefix of a and b (len(b) at
// most), comparing eight bytes at a time.
func matchLen(a, b []byte) int {
	n := 0
	for len(b)-n >= 8 && len(a)-n >= 8 {
		if x := binary.LittleEndian.Uint64(a[n:]) ^ binary.LittleEndian.Uint64(b[n:]); x != 0 {
			return n + bits.TrailingZeros64(x)/8
		}
		n += 8
	}
	for n < len(b) && n < len(a) && a[n] == b[n] {
		n++
	}
	return n
}

func (e *deflateEncoder) literal(b byte) {
	e.tokens = append(e.tokens, token(b))
	e.litFreq[b]++
}

func (e *deflateEncoder) match(length, dist int) {
	e.tokens = append(e.tokens, matchFlag|token(length-3)|token(dist-1)<<8)
	e.litFreq[257+lengthSymbol(length)]++
	e.distFreq[distSymbol(dist)]++
}

// plan builds the three codes and the run-length encoded code lengths, and
// returns the size in bytes of the deflate data they give.
func (e *deflateEncoder) plan() int {
	buildLengths(e.litFreq[:], e.litLen[:], maxCodeLen, &e.scratch)
	buildLengths(e.distFreq[:], e.distLen[:], maxCodeLen, &e.scratch)
	nlit := numLitLen
	for nlit > 257 && e.litLen[nlit-1] == 0 {
		nlit--
	}
	ndist := numDist
	for ndist > 1 && e.distLen[ndist-1] == 0 {
		ndist--
	}
	seq := e.lengths[:0]
	seq = append(seq, e.litLen[:nlit]...)
	seq = append(seq, e.distLen[:ndist]...)
	ncg := e.runLengths(seq)
	buildLengths(e.cgFreq[:], e.cgLen[:], maxCLLen, &e.scratch)
	nclen := numCodeLen
	for nclen > 4 && e.cgLen[codeLenOrder[nclen-1]] == 0 {
		nclen--
	}
	assignCodes(e.litLen[:], e.litCode[:])
	assignCodes(e.distLen[:], e.distCode[:])
	assignCodes(e.cgLen[:], e.cgCode[:])

	// Size of the block both ways: the dynamic codes plus their header,
	// or the fixed codes (no header), which win for small inputs and
	// decode faster.
	dyn := 3 + 5 + 5 + 4 + 3*nclen
	for _, c := range e.cg[:ncg] {
		sym := c & 0xff
		dyn += int(e.cgLen[sym]) + int(codeLenExtra[sym])
	}
	fix := 3
	for sym, f := range e.litFreq {
		if f == 0 {
			continue
		}
		dyn += int(f) * int(e.litLen[sym])
		fix += int(f) * int(fixedCodes.litLen[sym])
		if sym > endOfBlock {
			extra := int(f) * int(lengthExtra[sym-257])
			dyn += extra
			fix += extra
		}
	}
	for sym, f := range e.distFreq {
		extra := int(f) * int(distExtra[sym])
		dyn += int(f)*int(e.distLen[sym]) + extra
		fix += int(f)*5 + extra
	}
	e.nlit, e.ndist, e.nclen, e.ncg = nlit, ndist, nclen, ncg
	e.fixed = fix <= dyn
	return (min(fix, dyn) + 7) / 8
}

// fixedCodes are the codes of a fixed-Huffman block (RFC 1951 section
// 3.2.6), bit-reversed for writing; read-only after initialization.
var fixedCodes = func() (c struct {
	litLen   [288]uint8
	litCode  [288]uint16
	distLen  [numDist]uint8
	distCode [numDist]uint16
}) {
	for i := range c.litLen {
		switch {
		case i < 144:
			c.litLen[i] = 8
		case i < 256:
			c.litLen[i] = 9
		case i < 280:
			c.litLen[i] = 7
		default:
			c.litLen[i] = 8
		}
	}
	assignCodes(c.litLen[:], c.litCode[:])
	for i := range c.distLen {
		c.distLen[i] = 5
	}
	assignCodes(c.distLen[:], c.distCode[:])
	return c
}()

// runLengths encodes seq with the code-length alphabet (16 = repeat the
// previous length 3-6 times, 17 = 3-10 zeros, 18 = 11-138 zeros) into e.cg,
// counts the symbols in e.cgFreq, and returns the number of entries.
func (e *deflateEncoder) runLengths(seq []uint8) int {
	clear(e.cgFreq[:])
	n := 0
	emit := func(sym, extra int) {
		e.cg[n] = uint16(sym | extra<<8)
		e.cgFreq[sym]++
		n++
	}
	for i := 0; i < len(seq); {
		l := seq[i]
		run := 1
		for i+run < len(seq) && seq[i+run] == l {
			run++
		}
		i += run
		if l == 0 {
			for run >= 11 {
				r := min(run, 138)
				emit(18, r-11)
				run -= r
			}
			if run >= 3 {
				emit(17, run-3)
				run = 0
			}
		} else {
			emit(int(l), 0)
			run--
			for run >= 3 {
				r := min(run, 6)
				emit(16, r-3)
				run -= r
			}
		}
		for ; run > 0; run-- {
			emit(int(l), 0)
		}
	}
	return n
}

// bitWriter accumulates bits least significant first.
type bitWriter struct {
	dst   []byte
	acc   uint64
	nbits uint
}

func (w *bitWriter) bits(v uint64, n uint) {
	w.acc |= v << w.nbits
	w.nbits += n
	if w.nbits >= 32 {
		w.dst = binary.LittleEndian.AppendUint32(w.dst, uint32(w.acc))
		w.acc >>= 32
		w.nbits -= 32
	}
}

func (w *bitWriter) flush() []byte {
	for w.nbits > 0 {
		w.dst = append(w.dst, byte(w.acc))
		w.acc >>= 8
		w.nbits -= min(8, w.nbits)
	}
	return w.dst
}

// write appends the deflate block planned by plan.
func (e *deflateEncoder) write(dst []byte) []byte {
	w := bitWriter{dst: dst}
	litCode, litLen, distCode, distLen := e.litCode[:], e.litLen[:], e.distCode[:], e.distLen[:]
	if e.fixed {
		w.bits(1|1<<1, 3) // final block, fixed Huffman
		litCode, litLen = fixedCodes.litCode[:], fixedCodes.litLen[:]
		distCode, distLen = fixedCodes.distCode[:], fixedCodes.distLen[:]
	} else {
		w.bits(1|2<<1, 3) // final block, dynamic Huffman
		w.bits(uint64(e.nlit-257), 5)
		w.bits(uint64(e.ndist-1), 5)
		w.bits(uint64(e.nclen-4), 4)
		for _, sym := range codeLenOrder[:e.nclen] {
			w.bits(uint64(e.cgLen[sym]), 3)
		}
		for _, c := range e.cg[:e.ncg] {
			sym := c & 0xff
			w.bits(uint64(e.cgCode[sym]), uint(e.cgLen[sym]))
			w.bits(uint64(c>>8), uint(codeLenExtra[sym]))
		}
	}
	for _, t := range e.tokens {
		if t&matchFlag == 0 {
			w.bits(uint64(litCode[t]), uint(litLen[t]))
			continue
		}
		length, dist := int(t&0xff)+3, int(t>>8&0x7fff)+1
		ls := lengthSymbol(length)
		w.bits(uint64(litCode[257+ls]), uint(litLen[257+ls]))
		w.bits(uint64(length-int(lengthBase[ls])), uint(lengthExtra[ls]))
		ds := distSymbol(dist)
		w.bits(uint64(distCode[ds]), uint(distLen[ds]))
		w.bits(uint64(dist-int(distBase[ds])), uint(distExtra[ds]))
	}
	w.bits(uint64(litCode[endOfBlock]), uint(litLen[endOfBlock]))
	return w.flush()
}
