package check

import (
	"context"
	"strings"
	"testing"
	"time"
)

// On Windows a check command runs in a job object: its exit code is
// reported, and its timeout ends it and the children it started, so the
// check returns although a child holds the output open. (Compiled on
// every change, run on Windows only.)
func TestCommandCheckWindows(t *testing.T) {
	tests := []struct {
		name     string
		argv     []string
		timeout  time.Duration
		ok       bool
		exitCode int // -1: none
		message  string
	}{
		{"exit 0", []string{"cmd.exe", "/c", "echo fine"}, 0, true, 0, "succeeded"},
		{"exit 3", []string{"cmd.exe", "/c", "exit 3"}, 0, false, 3, "exited with status 3"},
		{"hangs with a child", []string{"cmd.exe", "/c", "start /b ping -n 60 127.0.0.1 & ping -n 60 127.0.0.1"}, 500 * time.Millisecond, false, -1, "did not finish within 500ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			res := Runner{}.Run(context.Background(), Spec{Command: tt.argv, Timeout: tt.timeout})
			if res.OK != tt.ok || !strings.Contains(res.Message, tt.message) {
				t.Errorf("got ok=%v %q, want ok=%v containing %q", res.OK, res.Message, tt.ok, tt.message)
			}
			switch {
			case tt.exitCode < 0 && res.ExitCode != nil:
				t.Errorf("exit code %d, want none", *res.ExitCode)
			case tt.exitCode >= 0 && (res.ExitCode == nil || *res.ExitCode != tt.exitCode):
				t.Errorf("exit code %v, want %d", res.ExitCode, tt.exitCode)
			}
			if took := time.Since(start); took > 30*time.Second {
				t.Errorf("took %s", took)
			}
		})
	}
}
