package signing

import (
	"math/bits"
	"slices"
)

// Shared DEFLATE (RFC 1951) tables and Huffman code construction, used by the
// encoder in deflate.go and the decoder in inflate.go.

const (
	numLitLen  = 286 // literal/length symbols: 0-255, 256 = end of block, 257-285 lengths
	numDist    = 30  // distance symbols
	numCodeLen = 19  // code-length symbols
	endOfBlock = 256
	maxCodeLen = 15 // longest literal/length or distance code
	maxCLLen   = 7  // longest code-length code
)

// codeLenOrder is the order in which code-length code lengths are sent.
var codeLenOrder = [numCodeLen]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// Base values and extra-bit counts of the length symbols 257-285 and of the
// distance symbols 0-29 (RFC 1951 section 3.2.5).
var (
	lengthBase  = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [numDist]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [numDist]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
)

// lengthSymbol returns the index (0-28, symbol 257+index) of match length
// 3..258.
func lengthSymbol(length int) int {
	y := length - 3
	switch {
	case y < 8:
		return y
	case y == 255:
		return 28 // 258 has its own symbol; 284 stops at 257
	}
	l := bits.Len(uint(y))
	return 4*(l-2) + (y>>(l-3))&3
}

// distSymbol returns the distance symbol of distance 1..32768.
func distSymbol(dist int) int {
	x := dist - 1
	if x < 4 {
		return x
	}
	l := bits.Len(uint(x))
	return 2*(l-1) + (x>>(l-2))&1
}

// huffScratch is reusable space for building one code.
type huffScratch struct {
	keys  [numLitLen]uint64 // freq<<16 | symbol, sorted
	depth [numLitLen]uint32
	freq  [numLitLen]uint32
}

// buildLengths sets lens[i] to the Huffman code length of symbol i for the
// frequencies freq (0 for unused symbols), with no code longer than maxBits.
// The code is always complete: if fewer than two symbols are used, symbols 0
// and 1 are given length 1, which a decoder accepts and never sees used.
func buildLengths(freq []uint32, lens []uint8, maxBits int, s *huffScratch) {
	clear(lens)
	for {
		keys := s.keys[:0]
		for i, x := range freq {
			if x > 0 {
				keys = append(keys, uint64(x)<<16|uint64(i))
			}
		}
		for i := 0; len(keys) < 2; i++ {
			if freq[i] == 0 {
				keys = append(keys, 1<<16|uint64(i))
			}
		}
		// Sorting by frequency, then symbol, keeps the result
		// deterministic.
		slices.Sort(keys)
		d := s.depth[:len(keys)]
		for i, k := range keys {
			d[i] = uint32(k >> 16)
		}
		minimumRedundancy(d)
		// d is now the code lengths, longest first (least frequent).
		if int(d[0]) <= maxBits {
			for i, k := range keys {
				lens[uint16(k)] = uint8(d[i])
			}
			return
		}
		// Too deep: flatten the distribution and rebuild. Halving
		// (keeping every used symbol at least 1) converges quickly and
		// costs little compression; it only happens for skewed inputs
		// of thousands of symbols.
		f := s.freq[:len(freq)]
		for i, x := range freq {
			if x > 0 {
				x = x/2 | 1
			}
			f[i] = x
		}
		freq = f
	}
}

// minimumRedundancy turns a[], frequencies sorted in non-decreasing order
// (len(a) >= 2), into optimal prefix-code lengths in place, using the
// in-place algorithm of Moffat and Katajainen (1995): one pass builds the
// tree's internal weights and parent links, a second computes internal
// depths, a third assigns leaf depths.
func minimumRedundancy(a []uint32) {
	n := len(a)
	// Phase 1: build the tree. Internal nodes are created in a[0:], each
	// replacing consumed leaves, and store their parent's index once merged.
	a[0] += a[1]
	root, leaf := 0, 2
	for next := 1; next < n-1; next++ {
		if leaf >= n || a[root] < a[leaf] {
			a[next] = a[root]
			a[root] = uint32(next)
			root++
		} else {
			a[next] = a[leaf]
			leaf++
		}
		if leaf >= n || (root < next && a[root] < a[leaf]) {
			a[next] += a[root]
			a[root] = uint32(next)
			root++
		} else {
			a[next] += a[leaf]
			leaf++
		}
	}
	// Phase 2: depths of internal nodes, from the root (a[n-2]) down.
	a[n-2] = 0
	for next := n - 3; next >= 0; next-- {
		a[next] = a[a[next]] + 1
	}
	// Phase 3: leaf depths. At each depth, the available slots not taken
	// by internal nodes are leaves, assigned right to left.
	avail, used, depth := 1, 0, uint32(0)
	root, next := n-2, n-1
	for avail > 0 {
		for root >= 0 && a[root] == depth {
			used++
			root--
		}
		for avail > used {
			a[next] = depth
			next--
			avail--
		}
		avail, used = 2*used, 0
		depth++
	}
}

// assignCodes fills codes with the canonical codes (RFC 1951 section 3.2.2)
// for lens, bit-reversed so they can be written least significant bit first.
func assignCodes(lens []uint8, codes []uint16) {
	var count [maxCodeLen + 1]uint16
	for _, l := range lens {
		// Skipping zeros avoids a chain of increments of count[0],
		// each waiting for the previous store.
		if l != 0 {
			count[l]++
		}
	}
	var next [maxCodeLen + 1]uint16
	code := uint16(0)
	for l := 1; l <= maxCodeLen; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
	for i, l := range lens {
		if l == 0 {
			codes[i] = 0
			continue
		}
		codes[i] = bits.Reverse16(next[l]) >> (16 - l)
		next[l]++
	}
}
