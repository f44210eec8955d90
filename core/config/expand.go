package config

import (
	"fmt"
	"strings"
)

// LookupEnv finds an environment variable; os.LookupEnv in production,
// a map in tests.
type LookupEnv func(name string) (string, bool)

// maxEnvMessage bounds the message of ${NAME:?message} in an error.
const maxEnvMessage = 120

// expandEnv replaces variable references in s, as a POSIX shell does:
//
//	${NAME}            the value; an error when NAME is not set
//	${NAME:-default}   default when NAME is not set or empty
//	${NAME-default}    default when NAME is not set
//	${NAME:?message}   an error with message when NAME is not set or empty
//	${NAME?message}    an error with message when NAME is not set
//
// "$$" is a literal "$"; a "$" not followed by "{" or "$" stays as it is,
// so URLs and passwords with a lone "$" need no escaping. Errors name the
// variable, never its value; col is the byte offset of the reference.
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
			return "", i, fmt.Errorf("%s is not closed: write ${NAME} (or $$ for a literal $)", excerpt(s[i:]))
		}
		expr := s[i+2 : i+end]
		name, op, arg := splitReference(expr)
		if !validEnvName(name) || (op == "" && arg != "") {
			return "", i, fmt.Errorf("%s is not a valid variable reference: write ${NAME}, ${NAME:-default} or ${NAME:?message}, NAME made of letters, digits and _", excerpt("${"+expr+"}"))
		}
		val, set := lookup(name)
		empty := !set || val == ""
		switch {
		case op == ":-" && empty, op == "-" && !set:
			b.WriteString(arg)
		case op == ":?" && empty, op == "?" && !set:
			return "", i, envRequiredError(name, set, arg)
		case op == "" && !set:
			return "", i, fmt.Errorf("environment variable %s is not set: set it, or write ${%s:-default} to give a default", name, name)
		default:
			b.WriteString(val)
		}
		i += end + 1
	}
	return b.String(), 0, nil
}

// splitReference splits the inside of ${...} into the name, the operator
// (":-", "-", ":?", "?" or "") and its argument.
func splitReference(expr string) (name, op, arg string) {
	n := 0
	for n < len(expr) && (expr[n] == '_' || expr[n] >= 'A' && expr[n] <= 'Z' || expr[n] >= 'a' && expr[n] <= 'z' || expr[n] >= '0' && expr[n] <= '9') {
		n++
	}
	name, rest := expr[:n], expr[n:]
	for _, o := range []string{":-", ":?", "-", "?"} {
		if strings.HasPrefix(rest, o) {
			return name, o, rest[len(o):]
		}
	}
	return name, "", rest
}

// envRequiredError is the error of ${NAME:?message}: the variable and the
// config author's message, bounded, and never the value.
func envRequiredError(name string, set bool, msg string) error {
	state := "is not set"
	if set {
		state = "is empty"
	}
	if msg == "" {
		return fmt.Errorf("environment variable %s %s; it must be set to a non-empty value", name, state)
	}
	return fmt.Errorf("environment variable %s %s: %s", name, state, plainExcerpt(msg, maxEnvMessage))
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
