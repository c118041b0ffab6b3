package sqlident

import (
	"strings"
	"testing"
)

func TestValid(t *testing.T) {
	for s, want := range map[string]bool{
		"sessions": true, "_s": true, "S_1": true, strings.Repeat("a", 48): true,
		"": false, "1s": false, "a-b": false, "a.b": false, "a b": false, `a"b`: false,
		"é": false, "a;drop": false, strings.Repeat("a", 49): false,
	} {
		if got := Valid(s, 48); got != want {
			t.Errorf("Valid(%q) = %v, want %v", s, got, want)
		}
	}
}
