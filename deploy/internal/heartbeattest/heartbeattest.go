// Package heartbeattest builds heartbeat and its bundled plugins from the
// repository around this module and runs them, for the tests of the
// deployment files: a manifest is only right if the real binary accepts
// the command and the config it gives.
//
// The deploy module does not import the root module; it builds it with the
// go command instead. When the repository or the go command is not there,
// the tests that need a binary are skipped with the reason.
package heartbeattest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// rootModule is the module path of the repository's root module.
const rootModule = "github.com/seed-e9b80cf6/heartbeat"

// Bin is a heartbeat binary with its bundled plugins in Dir/plugins, where
// heartbeat finds them by default.
type Bin struct {
	Heartbeat string
	Dir       string
}

// RepoRoot returns the directory of the root module's go.mod, looking up
// from the working directory, or "" when there is none.
func RepoRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && modulePath(data) == rootModule {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

func modulePath(gomod []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

func goCommand() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err != nil {
		return "", errors.New("no go command on $PATH or in GOROOT")
	}
	return p, nil
}

// BinDirEnv names a directory holding heartbeat and plugins/ already
// built (`make build` writes bin/ so): Build then uses it instead of
// building again.
const BinDirEnv = "DEPLOY_TEST_BIN_DIR"

// Build builds cmd/heartbeat and the named bundled plugins into a
// temporary directory, laid out as a release archive is (heartbeat, and
// plugins/heartbeat-target-<name>). It skips the test when the repository
// or the go command is missing, and fails it when the build fails.
func Build(t testing.TB, plugins ...string) Bin {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the deployment tests run heartbeat on Unix only")
	}
	if dir := os.Getenv(BinDirEnv); dir != "" {
		dir, err := filepath.Abs(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range append([]string{"heartbeat"}, prefixed(plugins)...) {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Fatalf("$%s: %v", BinDirEnv, err)
			}
		}
		return Bin{Heartbeat: filepath.Join(dir, "heartbeat"), Dir: dir}
	}
	root := RepoRoot()
	if root == "" {
		t.Skipf("skipping the run of the real heartbeat: no go.mod of %s above this directory", rootModule)
	}
	goCmd, err := goCommand()
	if err != nil {
		t.Skipf("skipping the run of the real heartbeat: %v", err)
	}
	dir := t.TempDir()
	pluginDir := filepath.Join(dir, "plugins")
	if err := os.Mkdir(pluginDir, 0o755); err != nil {
		t.Fatal(err)
	}
	build := func(out, pkg string) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, goCmd, "build", "-o", out, pkg)
		cmd.Dir = root
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s in %s: %v\n%s", pkg, root, err, bound(b))
		}
	}
	build(filepath.Join(dir, "heartbeat"), "./cmd/heartbeat")
	for _, p := range plugins {
		build(filepath.Join(pluginDir, "heartbeat-target-"+p), "./plugins/"+p)
	}
	// heartbeat refuses plugins that group or others may write, whatever
	// the umask was.
	for _, p := range []string{dir, pluginDir} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return Bin{Heartbeat: filepath.Join(dir, "heartbeat"), Dir: dir}
}

func prefixed(plugins []string) []string {
	var fs []string
	for _, p := range plugins {
		fs = append(fs, filepath.Join("plugins", "heartbeat-target-"+p))
	}
	return fs
}

// Result is how a command ended.
type Result struct {
	Stdout, Stderr string
	ExitCode       int
}

// Run runs heartbeat with args and waits at most timeout.
func (b Bin) Run(t testing.TB, timeout time.Duration, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.Heartbeat, args...)
	cmd.Env = cleanEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("heartbeat %s did not end within %v\nstderr: %s", strings.Join(args, " "), timeout, bound(stderr.Bytes()))
	}
	code := 0
	if err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Fatalf("heartbeat %s: %v", strings.Join(args, " "), err)
		}
		code = exit.ExitCode()
	}
	return Result{Stdout: stdout.String(), Stderr: stderr.String(), ExitCode: code}
}

// cleanEnv is the test's environment without the variables that would
// change what heartbeat reads.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "HEARTBEAT_"),
			name == "CHECK_UUID", name == "CHECK_SLUG", name == "PING_KEY",
			name == "HC_PING_KEY", name == "HC_API_URL", name == "NO_COLOR":
			continue
		}
		env = append(env, kv)
	}
	return env
}

// Daemon is a running heartbeat process.
type Daemon struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error
}

// Start starts heartbeat with args; it is stopped when the test ends.
func (b Bin) Start(t testing.TB, args ...string) *Daemon {
	t.Helper()
	cmd := exec.Command(b.Heartbeat, args...)
	cmd.Env = cleanEnv()
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting heartbeat %s: %v", strings.Join(args, " "), err)
	}
	d := &Daemon{cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		d.err = cmd.Wait()
		close(d.done)
	}()
	t.Cleanup(func() {
		if err := d.Stop(30 * time.Second); err != nil {
			t.Errorf("stopping heartbeat: %v\noutput:\n%s", err, d.Output())
		}
	})
	return d
}

// Output is what the daemon wrote so far (stdout and stderr), bounded.
func (d *Daemon) Output() string { return d.out.String() }

// Exited reports whether the process has ended.
func (d *Daemon) Exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// Stop sends SIGTERM and waits up to grace for a clean exit (status 0),
// then kills the process. Stopping a stopped daemon is a no-op.
func (d *Daemon) Stop(grace time.Duration) error {
	select {
	case <-d.done:
		return nil
	default:
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
		var exit *exec.ExitError
		if errors.As(d.err, &exit) {
			return fmt.Errorf("heartbeat exited with status %d after SIGTERM", exit.ExitCode())
		}
		return nil
	case <-time.After(grace):
		_ = d.cmd.Process.Kill()
		<-d.done
		return fmt.Errorf("heartbeat did not exit within %v of SIGTERM", grace)
	}
}

// WaitFor polls cond every 50 ms until it holds or timeout passes.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// FreeAddr returns a 127.0.0.1 address whose port was free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// maxOutput bounds what a test keeps of a process's output.
const maxOutput = 1 << 20

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if room := maxOutput - s.buf.Len(); room > 0 {
		s.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

func bound(b []byte) string {
	const max = 8 << 10
	if len(b) > max {
		return "…" + string(b[len(b)-max:])
	}
	return string(b)
}
