//go:build linux

package pluginhost

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// buildHostile builds the hostile test plugin of cmd/heartbeat/testdata
// into a new plugin directory, once per name.
func buildHostile(t *testing.T, names ...string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs a plugin binary")
	}
	dir := t.TempDir()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	first := filepath.Join(dir, sdk.BinaryPrefix+names[0])
	cmd := exec.Command("go", "build", "-o", first, "./cmd/heartbeat/testdata/hostile")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data, err := os.ReadFile(first)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names[1:] {
		if err := os.WriteFile(filepath.Join(dir, sdk.BinaryPrefix+name), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func hostileFound(dir, name string) Found {
	return Found{Name: name, Path: filepath.Join(dir, sdk.BinaryPrefix+name)}
}

// A Configure that hangs times out with ErrTimeout; the plugin's other
// instances are configured as usual.
func TestConfigureTimeout(t *testing.T) {
	dir := buildHostile(t, "hostile")
	host := New(Options{CallTimeout: time.Second})
	t.Cleanup(host.Stop)
	ctx := context.Background()
	p, err := host.Start(ctx, hostileFound(dir, "hostile"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = host.Configure(ctx, p, "stuck", []byte(`{"hang_configure":true}`))
	if !errors.Is(err, ErrTimeout) || sdk.KindOf(err) != sdk.KindTemporary || !strings.Contains(err.Error(), "did not answer Configure of stuck") {
		t.Fatalf("Configure of a hanging plugin = %v (kind %s); want a temporary timeout", err, sdk.KindOf(err))
	}
	if _, ok := host.Info("stuck"); ok {
		t.Errorf("an instance that timed out is known to the host")
	}
	if desc, err := host.Configure(ctx, p, "fine", []byte(`{}`)); err != nil || desc != "hostile" {
		t.Errorf("Configure after a timeout = %q, %v", desc, err)
	}
}

// While a restart hangs in Configure, no read of the plugin's state and no
// beat to another instance waits for it; Stop ends the start.
func TestHungRestartBlocksNothing(t *testing.T) {
	dir := buildHostile(t, "hostile")
	clock := &fakeNow{t: time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)}
	host := New(Options{Now: clock.now, CallTimeout: time.Minute})
	t.Cleanup(host.Stop)
	ctx := context.Background()
	p, err := host.Start(ctx, hostileFound(dir, "hostile"))
	if err != nil {
		t.Fatal(err)
	}
	flag := filepath.Join(t.TempDir(), "started")
	for instance, settings := range map[string]string{"sticky": fmt.Sprintf(`{"hang_after_restart":%q}`, flag), "ok": `{}`} {
		if _, err := host.Configure(ctx, p, instance, []byte(settings)); err != nil {
			t.Fatalf("Configure %s: %v", instance, err)
		}
	}
	pid := p.Pid()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the host notices the exit", func() bool { return !p.Running() })
	clock.add(restartBackoffMin)

	// A beat starts the restart, which hangs configuring "sticky" again.
	restarted := make(chan error, 1)
	go func() {
		bctx, cancel := context.WithTimeout(ctx, failsafe)
		defer cancel()
		_, err := host.Beat(bctx, "sticky", sdk.Beat{Heartbeat: "h", Signal: sdk.SignalSuccess})
		restarted <- err
	}()
	starting := func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.starting != nil
	}
	waitFor(t, "the restart to begin", starting)

	if p.Running() || p.Pid() != 0 || p.Restarts() != 0 || p.Info().Name != "hostile" || len(host.Plugins()) != 1 {
		t.Errorf("state during the restart: running %v, pid %d, restarts %d, info %+v", p.Running(), p.Pid(), p.Restarts(), p.Info())
	}
	if _, ok := host.Info("ok"); !ok {
		t.Errorf("Info of an instance during the restart")
	}
	bctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	_, err = host.Beat(bctx, "ok", sdk.Beat{Heartbeat: "h", Signal: sdk.SignalSuccess})
	cancel()
	if sdk.KindOf(err) != sdk.KindTemporary || !strings.Contains(err.Error(), "still starting") {
		t.Errorf("a beat to another instance during the restart = %v; want a temporary error at its own deadline", err)
	}
	if !starting() {
		t.Fatalf("the restart ended before the state reads returned: they waited for it")
	}

	stopped := make(chan struct{})
	go func() {
		host.Stop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(failsafe):
		t.Fatalf("Stop waits for the hung restart")
	}
	if err := <-restarted; err == nil {
		t.Errorf("the beat that started the restart succeeded")
	}
	for _, pid := range markedProcesses(markerEnv + "=" + host.markerPrefix) {
		t.Errorf("process %d of the plugin is left", pid)
	}
}

// Beats to an instance waiting for its plugin fail at once as temporary.
func TestPendingInstance(t *testing.T) {
	host := New(Options{})
	host.Pending("slow", fmt.Errorf("plugin x did not answer Configure: %w", ErrTimeout))
	_, err := host.Beat(context.Background(), "slow", sdk.Beat{})
	if sdk.KindOf(err) != sdk.KindTemporary || !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "not ready") {
		t.Errorf("Beat to a pending instance = %v (kind %s)", err, sdk.KindOf(err))
	}
	host.Forget("slow")
	if _, err := host.Beat(context.Background(), "slow", sdk.Beat{}); sdk.KindOf(err) != sdk.KindPermanent {
		t.Errorf("Beat to a forgotten instance = %v (kind %s)", err, sdk.KindOf(err))
	}
}

// A plugin whose Info.Name differs from its file's name is refused.
func TestInfoNameMustMatchFile(t *testing.T) {
	dir := buildHostile(t, "misnamed")
	host := New(Options{})
	t.Cleanup(host.Stop)
	_, err := host.Start(context.Background(), hostileFound(dir, "misnamed"))
	if err == nil || sdk.KindOf(err) != sdk.KindPermanent || !strings.Contains(err.Error(), `says its name is "not-my-file"`) || !strings.Contains(err.Error(), "rename the file") {
		t.Fatalf("Start = %v (kind %s)", err, sdk.KindOf(err))
	}
	if pids := markedProcesses(markerEnv + "=" + host.markerPrefix); len(pids) > 0 {
		t.Errorf("the refused plugin runs: %v", pids)
	}
}

// A binary that does not match its pin is refused with a hint and not
// tried again until the file changes.
func TestPinRefusedUntilTheFileChanges(t *testing.T) {
	dir := buildHostile(t, "hostile")
	f := hostileFound(dir, "hostile")
	good, err := FileSHA256(f.Path)
	if err != nil {
		t.Fatal(err)
	}
	f.SHA256 = bytes.Repeat([]byte{0xab}, 32)
	logs := &syncBuffer{}
	host := New(Options{Logger: hclog.New(&hclog.LoggerOptions{Output: logs})})
	t.Cleanup(host.Stop)
	_, err = host.Start(context.Background(), f)
	if sdk.KindOf(err) != sdk.KindPermanent || !strings.Contains(err.Error(), "heartbeat plugins --sha256") || !strings.Contains(err.Error(), "sha256: ...") {
		t.Fatalf("Start = %v (kind %s)", err, sdk.KindOf(err))
	}
	p, _ := host.Plugin("hostile")
	if _, wait, again := p.ensure(); wait != nil || again == nil || again.Error() != err.Error() {
		t.Errorf("the refused binary is tried again before it changed (wait %v, err %v)", wait != nil, again)
	}
	// The file changes (a new inode): it is checked again, and matches.
	data, _ := os.ReadFile(f.Path)
	if err := os.Remove(f.Path); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.Path, data, 0o755); err != nil {
		t.Fatal(err)
	}
	f.SHA256 = good
	if _, err := host.Start(context.Background(), f); err != nil {
		t.Errorf("Start after the pin was fixed: %v", err)
	}
}

// A plugin's descendant that made a session of its own and was reparented
// ends when the host stops.
func TestOrphansEndWithTheHost(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("orphans are ended on Linux")
	}
	dir := buildHostile(t, "hostile")
	host := New(Options{Subreaper: true})
	t.Cleanup(host.Stop)
	ctx := context.Background()
	p, err := host.Start(ctx, hostileFound(dir, "hostile"))
	if err != nil {
		t.Fatal(err)
	}
	marker := fmt.Sprintf("orphan-%d", time.Now().UnixNano())
	t.Cleanup(func() {
		for _, pid := range withArg(marker) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	if _, err := host.Configure(ctx, p, "x", []byte(fmt.Sprintf(`{"orphan":%q}`, marker))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the orphan to run", func() bool { return len(withArg(marker)) > 0 })
	// The orphan's parent is the plugin's child until that child exits,
	// which under load may take a while: adopted is what it ends as.
	adopted := func() bool {
		for _, pid := range withArg(marker) {
			if parentOf(pid) != os.Getpid() {
				return false
			}
		}
		return true
	}
	waitFor(t, "the orphan to be adopted by the host's process", adopted)
	host.Stop()
	waitFor(t, "the orphan to end", func() bool { return len(withArg(marker)) == 0 })
}

// withArg lists live processes whose command line holds arg.
func withArg(arg string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err == nil && bytes.Contains(cmdline, []byte(arg)) && !bytes.Contains(stat, []byte(") Z ")) {
			pids = append(pids, pid)
		}
	}
	return pids
}
