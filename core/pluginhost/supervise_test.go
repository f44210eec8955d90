//go:build linux

package pluginhost

import (
	"context"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// A plugin killed while nothing needs it is started again by Supervise
// alone, the second time after the restart backoff, with no beat asking.
func TestSuperviseRestartsAKilledPlugin(t *testing.T) {
	dir := buildLogPlugin(t)
	found, err := Discover(dir)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := Lookup(found, "log")
	logs := &syncBuffer{}
	host := New(Options{Logger: hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Debug})})
	t.Cleanup(host.Stop)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, err := host.Start(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := host.Configure(ctx, p, "watch", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); host.Supervise(ctx) }()
	for i := 1; i <= 2; i++ {
		pid := p.Pid()
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "restart "+strconv.Itoa(i)+" without a beat", func() bool {
			return p.Restarts() == i && p.Running() && p.Pid() != pid
		})
	}
	if _, ok := host.Info("watch"); !ok {
		t.Error("the restarted plugin lost its instance")
	}
	if n := strings.Count(logs.String(), "plugin restarted"); n != 2 {
		t.Errorf("%d restarts logged, want 2:\n%s", n, logs.String())
	}
	cancel()
	select {
	case <-done:
	case <-time.After(failsafe):
		t.Fatal("Supervise did not return after its context was cancelled")
	}
}

// An orphan handed to the core (a child subreaper) that exits before the
// core ever saw it alive is reaped all the same: no zombie stays.
func TestSuperviseReapsAnUnseenOrphan(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("child subreapers are a Linux feature")
	}
	host := New(Options{Subreaper: true})
	t.Cleanup(host.Stop)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go host.Supervise(ctx)
	tests := []struct{ name, script string }{
		{"own session", `(setsid sh -c 'echo $$; exec sleep 0.3' &); exit 0`},
		{"left in the group", `(sh -c 'echo $$; exec sleep 0.3' &); exit 0`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Output returns once the orphan, which holds stdout, exited.
			out, err := exec.Command("sh", "-c", tc.script).Output()
			if err != nil {
				t.Fatal(err)
			}
			pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
			if err != nil {
				t.Fatalf("orphan pid %q: %v", out, err)
			}
			if ppid := parentOf(pid); ppid != 0 && ppid != syscall.Getpid() {
				t.Fatalf("orphan %d has parent %d, not this process", pid, ppid)
			}
			waitFor(t, "the orphan reaped", func() bool { return processGone(pid) })
		})
	}
}
