package config

import (
	"regexp"
	"strings"
	"testing"
)

// plainToken answers as the regexps it replaces did.
func TestPlainTokenMatchesTheRegexps(t *testing.T) {
	nameRE := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	hostRE := regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})?$`)
	inputs := []string{
		"", "a", "Z9", "-a", ".a", "_a", "a-b.c_d", "a b", "a\n", "é", "aé", "a/b", "a:b",
		"127.0.0.1", "localhost", "my-host.example.com", "host_name",
		strings.Repeat("a", 64), strings.Repeat("a", 65),
		strings.Repeat("a", 253), strings.Repeat("a", 254), "a" + strings.Repeat(".", 252),
	}
	for _, s := range inputs {
		if got, want := validName(s), nameRE.MatchString(s); got != want {
			t.Errorf("validName(%q) = %v, the regexp says %v", s, got, want)
		}
		if got, want := plainToken(s, 252, ".-"), hostRE.MatchString(s); got != want {
			t.Errorf("host %q: plainToken = %v, the regexp says %v", s, got, want)
		}
	}
}
