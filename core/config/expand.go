package config

import (
	"fmt"
	"strings"
)

// LookupEnv finds an environment variable; os.LookupEnv in production,
// a map in tests.
type LookupEnv func(name string) (string, bool)

// expandEnv replaces ${VAR} and ${VAR:-default} in s. "$$" is a literal "$";
// a "$" not followed by "{" or "$" stays as it is, so URLs and passwords
// with a lone "$" need no escaping. A variable that is not set (and has no
// default) is an error naming it. col is the byte offset where it happened.
func expandEnv(s string, lookup LookupEnv) (out string, col int, err error) {
	if !strings.Contains(s, "$") {
		return s, 0, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		if c != '$' || i+1 >= len(s) {
			b.WriteByte(c)
			i++
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i += 2
			continue
		case '{':
		default:
			b.WriteByte(c)
			i++
			continue
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", i, fmt.Errorf("%q is not closed: write ${NAME} (or $$ for a literal $)", s[i:])
		}
		expr := s[i+2 : i+end]
		name, def, hasDef := strings.Cut(expr, ":-")
		if !validEnvName(name) {
			return "", i, fmt.Errorf("${%s} is not a valid variable reference: write ${NAME} or ${NAME:-default}, NAME made of letters, digits and _", expr)
		}
		val, ok := lookup(name)
		switch {
		case ok && (val != "" || !hasDef):
			b.WriteString(val)
		case hasDef:
			b.WriteString(def)
		default:
			return "", i, fmt.Errorf("environment variable %s is not set: set it, or write ${%s:-default} to give a default", name, name)
		}
		i += end + 1
	}
	return b.String(), 0, nil
}

func validEnvName(name string) bool {
	if name == "" {
		return false
	}
	for i, r := range name {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
