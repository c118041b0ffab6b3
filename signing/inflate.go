package signing

import (
	"encoding/binary"
	"errors"
	"io"
	"math/bits"
	"sync"
)

// A DEFLATE (RFC 1951) decoder for the payloads DecodeURLSafeBody reads.
//
// compress/flate spends several microseconds per stream on setup, as much as
// the rest of a cookie round trip; this decoder builds small lookup tables
// (9, 6 and 7 bits, longer codes decoded canonically bit by bit), keeps its
// bit reader in registers, and writes straight into the output slice,
// enforcing the size cap as it goes. Its acceptance rules are zlib's, since the tokens come from Python:
// it rejects what zlib rejects, including a code-length code that is not
// complete, which compress/flate accepts. The tests compare it with
// compress/flate on random and mutated streams.

var (
	errInflateTruncated = errors.New("signing: deflate stream truncated")
	errInflateBlockType = errors.New("signing: invalid deflate block type")
	errInflateStored    = errors.New("signing: invalid stored block length")
	errInflateCounts    = errors.New("signing: too many length or distance symbols")
	errInflateCodeLens  = errors.New("signing: invalid code lengths set")
	// errInflateCLIncomplete is the one check zlib makes and compress/flate
	// does not: a code-length code must be complete, even a single code.
	errInflateCLIncomplete = errors.New("signing: incomplete code lengths set")
	errInflateRepeat       = errors.New("signing: invalid code length repeat")
	errInflateNoEOB        = errors.New("signing: missing end-of-block code")
	errInflateLitCodes     = errors.New("signing: invalid literal/lengths set")
	errInflateDistCodes    = errors.New("signing: invalid distances set")
	errInflateCode         = errors.New("signing: invalid literal/length or distance code")
	errInflateTooFar       = errors.New("signing: invalid distance too far back")
)

// Lookup-table sizes, as zlib chooses them: most literal/length codes are at
// most 9 bits, distance codes in small streams at most 6, and code-length
// codes never exceed 7. Smaller tables are quicker to build, which matters
// more than the rare slow-path decode for streams of a few hundred bytes.
const (
	litFastBits  = 9
	distFastBits = 6
	clFastBits   = maxCLLen
)

// huffDecoder decodes one canonical Huffman code.
type huffDecoder struct {
	// fast maps the next fastBits input bits to symbol<<4 | length for
	// codes of at most fastBits bits; 0 means "use the slow path".
	fast     [1 << litFastBits]uint16
	fastBits uint
	count    [maxCodeLen + 1]uint16 // number of codes of each length
	symbols  [288]uint16            // symbols ordered by code
}

type codeKind int

const (
	kindCodeLens codeKind = iota // must be complete (zlib's CODES)
	kindLitLen                   // may be a single one-bit code
	kindDist                     // likewise; may also be empty
)

// build prepares h for the code lengths lens, with zlib's checks:
// over-subscribed codes are always invalid; incomplete ones only when they
// are a single one-bit literal/length or distance code; an empty code is
// accepted (using it is an error).
func (h *huffDecoder) build(lens []uint8, kind codeKind) error {
	h.fastBits = litFastBits
	switch kind {
	case kindDist:
		h.fastBits = distFastBits
	case kindCodeLens:
		h.fastBits = clFastBits
	}
	fast := h.fast[:1<<h.fastBits]
	clear(h.count[:])
	for _, l := range lens {
		if l != 0 { // see assignCodes
			h.count[l]++
		}
	}
	maxLen := 0
	left := 1
	for l := 1; l <= maxCodeLen; l++ {
		if h.count[l] != 0 {
			maxLen = l
		}
		left = left<<1 - int(h.count[l])
		if left < 0 {
			return errInflateCodeLens
		}
	}
	clear(fast)
	if maxLen == 0 {
		return nil
	}
	if left > 0 && (kind == kindCodeLens || maxLen != 1) {
		switch {
		case kind == kindLitLen:
			return errInflateLitCodes
		case kind == kindDist:
			return errInflateDistCodes
		case maxLen == 1:
			return errInflateCLIncomplete
		}
		return errInflateCodeLens
	}
	var offs [maxCodeLen + 2]uint16
	for l := 1; l <= maxCodeLen; l++ {
		offs[l+1] = offs[l] + h.count[l]
	}
	for sym, l := range lens {
		if l != 0 {
			h.symbols[offs[l]] = uint16(sym)
			offs[l]++
		}
	}
	// Fill the lookup table in canonical code order.
	code, idx := 0, 0
	for l := 1; l <= int(h.fastBits); l++ {
		for n := 0; n < int(h.count[l]); n++ {
			entry := h.symbols[idx]<<4 | uint16(l)
			rev := int(bits.Reverse16(uint16(code)) >> (16 - l))
			for i := rev; i < len(fast); i += 1 << l {
				fast[i] = entry
			}
			code++
			idx++
		}
		code <<= 1
	}
	return nil
}

// inflater reads bits least significant first from in.
type inflater struct {
	in     []byte
	pos    int
	bitbuf uint64
	nbits  uint
	out    []byte
	max    int

	lit, dist, codeLens huffDecoder
	lens                [numLitLen + numDist]uint8
}

var inflaters = sync.Pool{New: func() any { return new(inflater) }}

// fixedLit and fixedDist are the codes of fixed-Huffman blocks (read-only
// after initialization).
var fixedLit, fixedDist = func() (*huffDecoder, *huffDecoder) {
	var lens [288]uint8
	for i := range lens {
		switch {
		case i < 144:
			lens[i] = 8
		case i < 256:
			lens[i] = 9
		case i < 280:
			lens[i] = 7
		default:
			lens[i] = 8
		}
	}
	lit, dist := new(huffDecoder), new(huffDecoder)
	lit.build(lens[:], kindLitLen)
	for i := range 32 {
		lens[i] = 5
	}
	dist.build(lens[:32], kindDist)
	return lit, dist
}()

func (f *inflater) refill() {
	for f.nbits <= 56 && f.pos < len(f.in) {
		f.bitbuf |= uint64(f.in[f.pos]) << f.nbits
		f.pos++
		f.nbits += 8
	}
}

func (f *inflater) bits(n uint) (int, error) {
	if f.nbits < n {
		f.refill()
		if f.nbits < n {
			return 0, errInflateTruncated
		}
	}
	v := int(f.bitbuf & (1<<n - 1))
	f.bitbuf >>= n
	f.nbits -= n
	return v, nil
}

// sym decodes one symbol of h.
func (f *inflater) sym(h *huffDecoder) (int, error) {
	if f.nbits < maxCodeLen {
		f.refill()
	}
	if e := h.fast[f.bitbuf&(1<<h.fastBits-1)]; e != 0 {
		n := uint(e & 15)
		if n > f.nbits {
			return 0, errInflateTruncated
		}
		f.bitbuf >>= n
		f.nbits -= n
		return int(e >> 4), nil
	}
	sym, n := h.slow(f.bitbuf, f.nbits)
	if n == 0 {
		if f.nbits < maxCodeLen && f.pos >= len(f.in) {
			return 0, errInflateTruncated
		}
		return 0, errInflateCode
	}
	f.bitbuf >>= n
	f.nbits -= n
	return sym, nil
}

// grow makes room for n more output bytes, within the cap: growth doubles,
// and jumps to the cap once doubling again would pass half of it, so the
// total allocated stays under twice the cap.
func (f *inflater) grow(n int) error {
	need := len(f.out) + n
	if need > f.max {
		return errTooLarge
	}
	if need <= cap(f.out) {
		return nil
	}
	c := max(2*cap(f.out), need, 256)
	if 2*c > f.max {
		c = f.max
	}
	grown := make([]byte, len(f.out), c)
	copy(grown, f.out)
	f.out = grown
	return nil
}

// inflateRaw decodes the deflate stream at the start of in into a new slice
// of at most maxSize bytes and returns it with the number of input bytes the
// stream used (rounded up to a whole byte).
func inflateRaw(in []byte, maxSize int, sizeHint int) ([]byte, int, error) {
	f := inflaters.Get().(*inflater)
	defer func() {
		f.in, f.out = nil, nil // keep no references in the pool
		inflaters.Put(f)
	}()
	f.in, f.pos, f.bitbuf, f.nbits, f.max = in, 0, 0, 0, maxSize
	f.out = make([]byte, 0, min(maxSize, max(256, sizeHint)))
	for {
		final, err := f.bits(1)
		if err != nil {
			return nil, 0, err
		}
		typ, err := f.bits(2)
		if err != nil {
			return nil, 0, err
		}
		switch typ {
		case 0:
			err = f.stored()
		case 1:
			err = f.huffmanBlock(fixedLit, fixedDist)
		case 2:
			if err = f.dynamicHeader(); err == nil {
				err = f.huffmanBlock(&f.lit, &f.dist)
			}
		default:
			err = errInflateBlockType
		}
		if err != nil {
			return nil, 0, err
		}
		if final == 1 {
			// Whole bytes still in the bit buffer were not used.
			return f.out, f.pos - int(f.nbits/8), nil
		}
	}
}

func (f *inflater) stored() error {
	f.bitbuf >>= f.nbits % 8 // skip to a byte boundary
	f.nbits -= f.nbits % 8
	length, err := f.bits(16)
	if err != nil {
		return err
	}
	nlength, err := f.bits(16)
	if err != nil {
		return err
	}
	if length != ^nlength&0xffff {
		return errInflateStored
	}
	// Hand the whole bytes in the bit buffer back to the input.
	f.pos -= int(f.nbits / 8)
	f.bitbuf, f.nbits = 0, 0
	if len(f.in)-f.pos < length {
		return errInflateTruncated
	}
	if err := f.grow(length); err != nil {
		return err
	}
	f.out = append(f.out, f.in[f.pos:f.pos+length]...)
	f.pos += length
	return nil
}

func (f *inflater) dynamicHeader() error {
	v, err := f.bits(14)
	if err != nil {
		return err
	}
	nlit, ndist, nclen := v&0x1f+257, v>>5&0x1f+1, v>>10+4
	if nlit > numLitLen || ndist > numDist {
		return errInflateCounts
	}
	var clLens [numCodeLen]uint8
	for _, sym := range codeLenOrder[:nclen] {
		l, err := f.bits(3)
		if err != nil {
			return err
		}
		clLens[sym] = uint8(l)
	}
	if err := f.codeLens.build(clLens[:], kindCodeLens); err != nil {
		return err
	}
	lens := f.lens[:nlit+ndist]
	for i := 0; i < len(lens); {
		sym, err := f.sym(&f.codeLens)
		if err != nil {
			return err
		}
		if sym < 16 {
			lens[i] = uint8(sym)
			i++
			continue
		}
		var rep int
		val := uint8(0)
		switch sym {
		case 16:
			if i == 0 {
				return errInflateRepeat
			}
			val = lens[i-1]
			rep, err = f.bits(2)
			rep += 3
		case 17:
			rep, err = f.bits(3)
			rep += 3
		default:
			rep, err = f.bits(7)
			rep += 11
		}
		if err != nil {
			return err
		}
		if i+rep > len(lens) {
			return errInflateRepeat
		}
		for ; rep > 0; rep-- {
			lens[i] = val
			i++
		}
	}
	if lens[endOfBlock] == 0 {
		return errInflateNoEOB
	}
	if err := f.lit.build(lens[:nlit], kindLitLen); err != nil {
		return err
	}
	return f.dist.build(lens[nlit:], kindDist)
}

// refillBits tops the bit buffer up to at least 56 bits when the input
// allows. Reading 8 bytes at once can also load bits beyond the counted ones;
// they are the next input bits, so loading them again later ORs in the same
// values.
func refillBits(in []byte, pos int, bb uint64, nb uint) (int, uint64, uint) {
	if pos+8 <= len(in) {
		bb |= binary.LittleEndian.Uint64(in[pos:]) << nb
		return pos + int(63-nb)>>3, bb, nb | 56
	}
	for nb <= 56 && pos < len(in) {
		bb |= uint64(in[pos]) << nb
		pos++
		nb += 8
	}
	return pos, bb, nb
}

// decodeSym decodes one symbol of h from a buffer holding nb valid bits,
// returning the symbol and its code length (0 for an invalid or truncated
// code).
func decodeSym(h *huffDecoder, bb uint64, nb uint) (int, uint) {
	if e := h.fast[bb&(1<<h.fastBits-1)]; e != 0 {
		if n := uint(e & 15); n <= nb {
			return int(e >> 4), n
		}
		return 0, 0
	}
	return h.slow(bb, nb)
}

// huffmanBlock decodes one Huffman-coded block. The bit reader and the
// output live in local variables for the loop (written back at the end), and
// every step takes and returns them by value, so they stay in registers.
func (f *inflater) huffmanBlock(lit, dist *huffDecoder) error {
	in, pos, bb, nb, out := f.in, f.pos, f.bitbuf, f.nbits, f.out
	var err error // set by every exit from the loop
	for {
		if nb < 48 {
			pos, bb, nb = refillBits(in, pos, bb, nb)
		}
		sym, n := decodeSym(lit, bb, nb)
		if n == 0 {
			err = badCode(nb)
			break
		}
		bb >>= n
		nb -= n
		if sym < 256 {
			if len(out) == cap(out) {
				f.out = out
				if err = f.grow(1); err != nil {
					break
				}
				out = f.out
			}
			out = append(out, byte(sym))
			continue
		}
		if sym == endOfBlock {
			break // err is nil
		}
		// A match: at most 5 + 15 + 13 more bits.
		sym -= 257
		if sym >= len(lengthBase) {
			err = errInflateCode
			break
		}
		if nb < 33 {
			pos, bb, nb = refillBits(in, pos, bb, nb)
		}
		eb := uint(lengthExtra[sym])
		if nb < eb {
			err = errInflateTruncated
			break
		}
		length := int(lengthBase[sym]) + int(bb&(1<<eb-1))
		bb >>= eb
		nb -= eb
		dsym, n := decodeSym(dist, bb, nb)
		if n == 0 {
			err = badCode(nb)
			break
		}
		bb >>= n
		nb -= n
		if dsym >= numDist {
			err = errInflateCode
			break
		}
		eb = uint(distExtra[dsym])
		if nb < eb {
			err = errInflateTruncated
			break
		}
		d := int(distBase[dsym]) + int(bb&(1<<eb-1))
		bb >>= eb
		nb -= eb
		n0 := len(out)
		if d > n0 {
			err = errInflateTooFar
			break
		}
		if n0+length > cap(out) {
			f.out = out
			if err = f.grow(length); err != nil {
				break
			}
			out = f.out
		}
		// Copy the match; when it overlaps itself (d < length) each
		// copy doubles the span already repeated.
		out = out[:n0+length]
		for done := 0; done < length; {
			done += copy(out[n0+done:], out[n0-d:n0+done])
		}
	}
	f.pos, f.bitbuf, f.nbits, f.out = pos, bb, nb, out
	return err
}

// badCode is the error for a code decodeSym could not read from nb bits: the
// input ran out (the buffer is only short at the end of the input) or the
// bits are no code at all.
func badCode(nb uint) error {
	if nb < maxCodeLen {
		return errInflateTruncated
	}
	return errInflateCode
}

// slow decodes a code longer than h.fastBits (or reports an invalid one) by
// walking the canonical code one bit at a time: code-first is the rank of
// the code among those of length l. It returns the symbol and the code
// length, or length 0 if no code matches the available bits.
func (h *huffDecoder) slow(bb uint64, nb uint) (sym int, n uint) {
	code, first, index := 0, 0, 0
	for l := uint(1); l <= maxCodeLen && l <= nb; l++ {
		code |= int(bb>>(l-1)) & 1
		count := int(h.count[l])
		if code-first < count {
			return int(h.symbols[index+code-first]), l
		}
		index += count
		first = (first + count) << 1
		code <<= 1
	}
	return 0, 0
}

// inflateEOF adapts errors at the zlib level: a stream cut short anywhere is
// io.ErrUnexpectedEOF, as compress/zlib reports it.
func inflateEOF(err error) error {
	if err == errInflateTruncated {
		return io.ErrUnexpectedEOF
	}
	return err
}
