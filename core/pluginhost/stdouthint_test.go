package pluginhost

import (
	"errors"
	"strings"
	"testing"
)

func TestStdoutHint(t *testing.T) {
	long := strings.Repeat("x", 5000)
	tests := []struct {
		name, in string
		want     string // substring; "" means the error is returned as it is
	}{
		{"a print before Serve", "Unrecognized remote plugin message: starting up\nThis usually means the plugin was not compiled for this architecture,\nthe plugin is missing dynamic-link libraries necessary to run,\nrun it by hand to see what it says",
			`plugin demo wrote to stdout before its handshake (first line: "starting up"): a plugin must not print to stdout`},
		{"a long line is bounded", "Unrecognized remote plugin message: " + long, "more bytes)"},
		{"control characters escaped", "Unrecognized remote plugin message: a\x1b[31mred\r", `a\\u001b[31mred\\r`},
		{"nothing written", "Unrecognized remote plugin message: \nFailed to read any lines from plugin's stdout", ""},
		{"another error", "plugin exited before we could connect", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := errors.New(tt.in)
			got := stdoutHint("demo", in)
			if tt.want == "" {
				if got != in {
					t.Fatalf("got %v, want the error unchanged", got)
				}
				return
			}
			if !strings.Contains(got.Error(), tt.want) || !errors.Is(got, ErrStdoutBeforeHandshake) {
				t.Fatalf("got %q, want it to hold %q", got, tt.want)
			}
			if strings.Contains(got.Error(), "\n") || len(got.Error()) > 600 {
				t.Fatalf("not one bounded line: %q", got)
			}
		})
	}
}
