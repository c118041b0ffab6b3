//go:build timing

package seshat

import (
	"encoding/base64"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestMACTimingIndependence (T-12 b, dudect style; run with -tags timing,
// kept out of CI because timing on shared machines is noisy): cookies whose
// MAC is wrong in its first byte and cookies whose MAC is wrong in its last
// byte are verified in random interleaving; if the comparison stopped at
// the first differing byte, the first group would be faster. Welch's t of
// the two timing samples must stay under 4.5 (dudect's threshold).
func TestMACTimingIndependence(t *testing.T) {
	codec, err := NewCookieCodec([][]byte{internalKey}, DefaultSalt)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1710000000, 0)
	good, err := codec.Encode(map[string]any{"user": "alice"}, now)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.LastIndexByte(good, '.') + 1
	mac, err := base64.RawURLEncoding.DecodeString(good[i:])
	if err != nil {
		t.Fatal(err)
	}
	wrongAt := func(pos int) string {
		m := append([]byte(nil), mac...)
		m[pos] ^= 0x01
		return good[:i] + base64.RawURLEncoding.EncodeToString(m)
	}
	variants := [2]string{wrongAt(0), wrongAt(len(mac) - 1)}
	const n = 100000
	var samples [2][]float64
	for range 1000 { // warm up
		codec.Decode(variants[0], time.Hour, now)
		codec.Decode(variants[1], time.Hour, now)
	}
	for range 2 * n {
		k := rand.IntN(2)
		if len(samples[k]) == n {
			k = 1 - k
		}
		start := time.Now()
		_, err := codec.Decode(variants[k], time.Hour, now)
		d := time.Since(start)
		if err == nil {
			t.Fatal("a wrong MAC verified")
		}
		samples[k] = append(samples[k], float64(d))
	}
	// Drop the slowest 5% of each sample (scheduler, GC), as dudect does.
	for k := range samples {
		samples[k] = cropTop(samples[k], 0.95)
	}
	m0, v0 := meanVar(samples[0])
	m1, v1 := meanVar(samples[1])
	tStat := (m0 - m1) / math.Sqrt(v0/float64(len(samples[0]))+v1/float64(len(samples[1])))
	t.Logf("wrong first byte: %.1f ns, wrong last byte: %.1f ns, Welch t = %.2f", m0, m1, tStat)
	if math.Abs(tStat) >= 4.5 {
		t.Errorf("|t| = %.2f ≥ 4.5: verification time depends on where the MAC differs", tStat)
	}
}

func cropTop(x []float64, keep float64) []float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	return s[:int(float64(len(s))*keep)]
}

func meanVar(x []float64) (mean, variance float64) {
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	for _, v := range x {
		variance += (v - mean) * (v - mean)
	}
	return mean, variance / float64(len(x)-1)
}
