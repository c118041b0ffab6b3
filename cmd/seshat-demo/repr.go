package main

import (
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/seshat-go/seshat/taggedjson"
)

// pyRepr shows a session value the way Python's repr would, so the home
// page reads like print(session) in a Flask app.
func pyRepr(v any) string {
	var b strings.Builder
	writeRepr(&b, v, 0)
	return b.String()
}

func writeRepr(b *strings.Builder, v any, depth int) {
	if depth > 8 {
		b.WriteString("...")
		return
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		if x {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case *big.Int:
		b.WriteString(x.String())
	case float64:
		b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
	case string:
		b.WriteString(pyQuote(x))
	case taggedjson.Markup:
		b.WriteString("Markup(" + pyQuote(string(x)) + ")")
	case []byte:
		b.WriteString("b" + pyQuote(string(x)))
	case time.Time:
		b.WriteString(x.UTC().Format("datetime(2006, 1, 2, 15, 4, 5)"))
	case []any:
		writeSeq(b, "[", "]", x, depth)
	case taggedjson.Tuple:
		writeSeq(b, "(", ")", x, depth)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString("{")
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(pyQuote(k) + ": ")
			writeRepr(b, x[k], depth+1)
		}
		b.WriteString("}")
	default:
		fmt.Fprint(b, x)
	}
}

func writeSeq(b *strings.Builder, open, close string, xs []any, depth int) {
	b.WriteString(open)
	for i, e := range xs {
		if i > 0 {
			b.WriteString(", ")
		}
		writeRepr(b, e, depth+1)
	}
	if open == "(" && len(xs) == 1 {
		b.WriteString(",")
	}
	b.WriteString(close)
}

// pyQuote quotes s with single quotes, as repr does for most strings.
func pyQuote(s string) string {
	q := strconv.Quote(s)
	q = strings.ReplaceAll(q[1:len(q)-1], `\"`, `"`)
	return "'" + strings.ReplaceAll(q, "'", `\'`) + "'"
}
