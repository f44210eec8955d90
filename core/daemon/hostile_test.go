package daemon

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/core/config"
	"github.com/seed-e9b80cf6/heartbeat/core/dispatch"
)

// failsafe turns a hang into a failure; it never decides an outcome.
const failsafe = 30 * time.Second

// hostileDir builds the log plugin and the hostile test plugin of
// cmd/heartbeat/testdata into a new plugin directory.
func hostileDir(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs plugin binaries")
	}
	dir := filepath.Join(t.TempDir(), "plugins")
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	for name, pkg := range map[string]string{"log": "./plugins/log", "hostile": "./cmd/heartbeat/testdata/hostile"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "heartbeat-target-"+name), pkg)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, out)
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func parseConfig(t testing.TB, yaml string) *config.Config {
	t.Helper()
	path := filepath.Join(t.TempDir(), "heartbeat.yaml")
	cfg, err := config.Parse(path, []byte(yaml), config.Options{})
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// reloads records what the daemon tells its observer of reloads.
type reloads struct {
	mu   sync.Mutex
	errs []error
}

func (r *reloads) Outcome(dispatch.Outcome) {}

func (r *reloads) Reload(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, err)
}

func (r *reloads) seen() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.errs...)
}

const stuckConfig = `
targets:
  console: { plugin: log }
  stuck: { plugin: hostile, config: { hang_configure: true } }
heartbeats:
  - { name: both, frequency: every 1 hour, targets: [console, stuck] }
`

// Start gives up when its context ends, even while a plugin hangs.
func TestStartHonoursItsContext(t *testing.T) {
	dir := hostileDir(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(500*time.Millisecond, cancel)
	done := make(chan error, 1)
	go func() {
		d, err := Start(ctx, parseConfig(t, stuckConfig), Options{PluginDir: dir, CallTimeout: 10 * failsafe})
		if d != nil {
			d.Stop()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Start = %v; want an error wrapping context.Canceled", err)
		}
	case <-time.After(failsafe):
		t.Fatal("Start waits for a hung plugin after its context ended")
	}
}

// At start-up a target whose plugin misses its deadline is pending for
// run (other targets beat; beats to it fail as temporary; reported once)
// and an error for the other commands.
func TestStartWithATimedOutTarget(t *testing.T) {
	dir := hostileDir(t)
	t.Run("retried", func(t *testing.T) {
		logs := &syncBuffer{}
		d, err := Start(context.Background(), parseConfig(t, stuckConfig), Options{
			PluginDir: dir, CallTimeout: time.Second, RetryTimedOut: true,
			Logger: hclog.New(&hclog.LoggerOptions{Output: logs}),
		})
		if err != nil {
			t.Fatalf("Start: %v", err)
		}
		defer d.Stop()
		ctx, cancel := context.WithTimeout(context.Background(), failsafe)
		defer cancel()
		outcomes, err := d.Send(ctx, "both")
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range outcomes {
			switch o.Target {
			case "console":
				if o.Err != nil {
					t.Errorf("the healthy target failed: %v", o.Err)
				}
			case "stuck":
				if o.Err == nil || o.Kind() != "temporary" || !strings.Contains(o.Err.Error(), "not ready") {
					t.Errorf("beat to the pending target = %v (%s); want a temporary error saying it is not ready", o.Err, o.Kind())
				}
			}
		}
		// A few retries later it is still reported once.
		time.Sleep(3 * time.Second)
		if n := strings.Count(logs.String(), "target not ready"); n != 1 {
			t.Errorf("reported %d times, want once:\n%s", n, logs)
		}
	})
	t.Run("an error without retries", func(t *testing.T) {
		_, err := Start(context.Background(), parseConfig(t, stuckConfig), Options{PluginDir: dir, CallTimeout: time.Second})
		var errs config.Errors
		if !errors.As(err, &errs) || !strings.Contains(err.Error(), "did not answer Configure") {
			t.Errorf("Start = %v; want a config error naming the timeout", err)
		}
	})
}

// A reload whose plugin hangs fails, is counted, and leaves later reloads
// working.
func TestReloadWithAHungPlugin(t *testing.T) {
	dir := hostileDir(t)
	config := func(settings string) string {
		return "targets:\n  x: { plugin: hostile, config: { " + settings + " } }\n" +
			"heartbeats:\n  - { name: a, frequency: every 1 hour, targets: [x] }\n"
	}
	obs := &reloads{}
	d, err := Start(context.Background(), parseConfig(t, config("detail_bytes: 1")), Options{PluginDir: dir, CallTimeout: time.Second, Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	ctx := context.Background()
	if err := d.Reload(ctx, parseConfig(t, config("hang_configure: true"))); err == nil || !strings.Contains(err.Error(), "did not answer Configure") {
		t.Errorf("reload with a hung plugin = %v; want a timeout", err)
	}
	if err := d.Reload(ctx, parseConfig(t, config("detail_bytes: 2"))); err != nil {
		t.Errorf("the next reload: %v", err)
	}
	if seen := obs.seen(); len(seen) != 2 || seen[0] == nil || seen[1] != nil {
		t.Errorf("observer saw %v; want a failure, then a success", seen)
	}
}
