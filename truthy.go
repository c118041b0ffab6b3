package seshat

import (
	"math/big"
	"time"

	"github.com/seshat-go/seshat/taggedjson"
)

// truthy is Python's truth value of a model value: Flask decides whether a
// session is permanent with `if session.get("_permanent")`, so a stored 1 or
// "yes" counts as permanent just as true does.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case int64:
		return x != 0
	case float64:
		return x != 0 // NaN is truthy in Python too
	case *big.Int:
		return x.Sign() != 0
	case string:
		return x != ""
	case taggedjson.Markup:
		return x != ""
	case []byte:
		return len(x) > 0
	case []any:
		return len(x) > 0
	case taggedjson.Tuple:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	case taggedjson.UUID, time.Time:
		return true
	}
	return true
}
