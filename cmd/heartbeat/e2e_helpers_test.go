//go:build unix

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binaries are the real heartbeat and plugin executables, built once for
// all end-to-end tests of this package.
type binaries struct {
	core      string
	pluginDir string
}

var buildOnce struct {
	sync.Once
	bins binaries
	err  error
	dir  string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildOnce.dir != "" {
		_ = os.RemoveAll(buildOnce.dir)
	}
	os.Exit(code)
}

// buildBinaries compiles the core and every bundled plugin.
func buildBinaries(t testing.TB) binaries {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: builds the binaries")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "heartbeat-e2e-")
		if err != nil {
			buildOnce.err = err
			return
		}
		buildOnce.dir = dir
		root := repoRoot(t)
		pluginDir := filepath.Join(dir, "plugins")
		pkgs := map[string]string{filepath.Join(dir, "heartbeat"): "./cmd/heartbeat"}
		mains, _ := filepath.Glob(filepath.Join(root, "plugins", "*", "main.go"))
		for _, m := range mains {
			name := filepath.Base(filepath.Dir(m))
			pkgs[filepath.Join(pluginDir, "heartbeat-target-"+name)] = "./plugins/" + name
		}
		for out, pkg := range pkgs {
			cmd := exec.Command("go", "build", "-o", out, pkg)
			cmd.Dir = root
			if b, err := cmd.CombinedOutput(); err != nil {
				buildOnce.err = &buildError{pkg: pkg, out: string(b), err: err}
				return
			}
		}
		// heartbeat refuses plugins writable by group or others; a umask of
		// 002 would otherwise make every test fail.
		for out := range pkgs {
			_ = os.Chmod(out, 0o755)
		}
		_ = os.Chmod(pluginDir, 0o755)
		buildOnce.bins = binaries{core: filepath.Join(dir, "heartbeat"), pluginDir: pluginDir}
	})
	if buildOnce.err != nil {
		t.Fatalf("building binaries: %v", buildOnce.err)
	}
	return buildOnce.bins
}

type buildError struct {
	pkg, out string
	err      error
}

func (e *buildError) Error() string { return e.pkg + ": " + e.err.Error() + "\n" + e.out }

// syncBuffer is a bytes.Buffer safe for a process writing while the test reads.
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

// writeConfig writes a config file into a temporary directory.
func writeConfig(t testing.TB, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "heartbeat.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// runCLI runs the core to completion and returns its output and exit code.
func runCLI(t testing.TB, bins binaries, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(bins.core, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("heartbeat %s did not finish within 60s\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), out.String(), errOut.String())
	}
	return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
}

// daemonProcess is a running `heartbeat run`.
type daemonProcess struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan struct{}
}

func startDaemon(t testing.TB, bins binaries, args ...string) *daemonProcess {
	t.Helper()
	return startDaemonEnv(t, bins, nil, args...)
}

// startDaemonEnv is startDaemon with the environment env (nil: the
// test's own).
func startDaemonEnv(t testing.TB, bins binaries, env []string, args ...string) *daemonProcess {
	t.Helper()
	cmd := exec.Command(bins.core, append([]string{"run", "--plugin-dir", bins.pluginDir}, args...)...)
	cmd.Env = env
	d := &daemonProcess{cmd: cmd, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = d.stderr, d.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(d.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-d.done
		if t.Failed() {
			t.Logf("daemon output:\n%s", d.stderr.String())
		}
	})
	return d
}

// stop sends sig and waits for the exit code.
func (d *daemonProcess) stop(t testing.TB, sig syscall.Signal) int {
	t.Helper()
	_ = d.cmd.Process.Signal(sig)
	select {
	case <-d.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("daemon did not exit within 30s of %v", sig)
	}
	return d.cmd.ProcessState.ExitCode()
}

// pluginProcesses lists the pids of running processes started from dir.
func pluginProcesses(t testing.TB, dir string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip("needs /proc")
	}
	var pids []int
	for _, e := range entries {
		var pid int
		if _, err := fmtSscan(e.Name(), &pid); err != nil {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err != nil {
			continue
		}
		if strings.HasPrefix(exe, dir+string(filepath.Separator)) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", timeout, what)
}

func fmtSscan(s string, pid *int) (int, error) { return fmt.Sscan(s, pid) }
