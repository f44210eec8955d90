package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin/runner"
)

// markerEnv marks a plugin process and, through inheritance, everything it
// starts, so stopping the plugin finds its descendants wherever they went.
const markerEnv = "HEARTBEAT_PLUGIN_RUN"

// Limits are the optional resource limits of one plugin process.
type Limits struct {
	// Memory caps the process's data segment (heap) in bytes; 0: none.
	Memory int64
	// CPU caps the process's total CPU time; 0: none.
	CPU time.Duration
}

// procRunner starts a plugin process for go-plugin (its RunnerFunc): the
// process gets its own process group, the marker and its rlimits before
// the handshake begins.
type procRunner struct {
	cmd    *exec.Cmd
	stdout io.ReadCloser
	stderr io.ReadCloser
	limits Limits
	// started is called as soon as the process runs, exited when it ended.
	started, ended func(*procRunner)

	pid     int
	once    sync.Once
	exited  chan struct{}
	state   *os.ProcessState
	waitErr error
}

func newProcRunner(path string, env []string, limits Limits, started, ended func(*procRunner)) (*procRunner, error) {
	cmd := exec.Command(path)
	cmd.Env = env
	isolate(cmd)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	return &procRunner{cmd: cmd, stdout: stdout, stderr: stderr, limits: limits, started: started, ended: ended, exited: make(chan struct{})}, nil
}

func (r *procRunner) Start(context.Context) error {
	if err := r.cmd.Start(); err != nil {
		return err
	}
	r.pid = r.cmd.Process.Pid
	if err := applyLimits(r.pid, r.limits); err != nil {
		_ = r.cmd.Process.Kill()
		_ = r.Wait(context.Background())
		return fmt.Errorf("setting its resource limits: %w", err)
	}
	r.started(r)
	return nil
}

func (r *procRunner) Wait(context.Context) error {
	r.once.Do(func() {
		r.waitErr = r.cmd.Wait()
		r.state = r.cmd.ProcessState
		close(r.exited)
		r.ended(r)
	})
	<-r.exited
	return r.waitErr
}

func (r *procRunner) Kill(context.Context) error {
	if r.cmd.Process == nil {
		return nil
	}
	if err := r.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}

func (r *procRunner) Stdout() io.ReadCloser { return r.stdout }
func (r *procRunner) Stderr() io.ReadCloser { return r.stderr }
func (r *procRunner) Name() string          { return r.cmd.Path }
func (r *procRunner) ID() string            { return strconv.Itoa(r.pid) }

func (r *procRunner) Diagnose(context.Context) string {
	return "run it by hand to see what it says"
}

func (r *procRunner) PluginToHost(network, addr string) (string, string, error) {
	return network, addr, nil
}

func (r *procRunner) HostToPlugin(network, addr string) (string, string, error) {
	return network, addr, nil
}

// exitReason says why the process ended, naming a limit it reached where
// that is knowable: the kernel kills at the CPU limit; the Go runtime
// reports running out of memory on its stderr.
func (r *procRunner) exitReason(outOfMemory bool) string {
	select {
	case <-r.exited:
	case <-time.After(100 * time.Millisecond):
		return "it exited"
	}
	st := r.state
	if st == nil {
		return "it exited"
	}
	return exitDetail(st, r.limits, outOfMemory)
}

// cpuLimitSeconds is the CPU limit as the kernel applies it: whole
// seconds, at least one; 0 when there is none.
func cpuLimitSeconds(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return max(time.Second, d.Round(time.Second))
}

// runnerFunc adapts newProcRunner to go-plugin, which passes the
// environment it built for the handshake in spec.
func runnerFunc(path string, extraEnv []string, limits Limits, started, ended func(*procRunner)) func(hclog.Logger, *exec.Cmd, string) (runner.Runner, error) {
	return func(_ hclog.Logger, spec *exec.Cmd, _ string) (runner.Runner, error) {
		return newProcRunner(path, append(spec.Env, extraEnv...), limits, started, ended)
	}
}

// sameFile reports whether the file at path is still the one a describes:
// same inode, size and modification time.
func sameFile(a os.FileInfo, path string) bool {
	b, err := os.Stat(path)
	return err == nil && a != nil && os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}
