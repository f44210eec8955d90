package sdk

import (
	"strings"
	"testing"
)

func TestVersionComputedOnce(t *testing.T) {
	if got, want := Version(), readVersion(); got != want {
		t.Errorf("Version() = %q, want %q", got, want)
	}
	if got, want := Commit(), readCommit(); got != want {
		t.Errorf("Commit() = %q, want %q", got, want)
	}
	if got, want := UserAgent(), "heartbeat/"+Version(); got != want {
		t.Errorf("UserAgent() = %q, want %q", got, want)
	}
	if strings.ContainsAny(UserAgent(), " \t\r\n") {
		t.Errorf("UserAgent() = %q holds white space", UserAgent())
	}
	// Reading the build information allocates; a value worked out once
	// does not.
	for name, f := range map[string]func() string{"Version": Version, "Commit": Commit, "UserAgent": UserAgent} {
		if n := testing.AllocsPerRun(100, func() { _ = f() }); n != 0 {
			t.Errorf("%s allocates %v times per call: want its value worked out once", name, n)
		}
	}
}
