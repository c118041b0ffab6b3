// Package sqlident checks the table names the SQL stores splice into their
// statements: only a plain identifier can be quoted safely in every engine
// they support, so anything else is refused before a statement is built.
package sqlident

// Valid reports whether s matches [A-Za-z_][A-Za-z0-9_]* and is 1 to max
// bytes long.
func Valid(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
