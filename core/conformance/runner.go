package conformance

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin/runner"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// procRunner starts the plugin for go-plugin (its RunnerFunc) and copies
// what the plugin writes to its real stdout into raw: go-plugin reads the
// handshake line from it and drops every later line unseen.
type procRunner struct {
	cmd     *exec.Cmd
	stdout  io.ReadCloser
	stderr  io.ReadCloser
	started func(pid int)

	once    sync.Once
	waitErr error
}

func runnerFunc(path string, raw io.Writer, started func(pid int)) func(hclog.Logger, *exec.Cmd, string) (runner.Runner, error) {
	return func(_ hclog.Logger, spec *exec.Cmd, _ string) (runner.Runner, error) {
		cmd := exec.Command(path)
		// Trace: a secret logged at any level is found.
		cmd.Env = append(spec.Env, sdk.LogLevelEnv+"=trace")
		isolate(cmd)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		stderr, err := cmd.StderrPipe()
		if err != nil {
			return nil, err
		}
		return &procRunner{cmd: cmd, stdout: teeCloser{io.TeeReader(stdout, raw), stdout}, stderr: stderr, started: started}, nil
	}
}

type teeCloser struct {
	io.Reader
	io.Closer
}

func (r *procRunner) Start(context.Context) error {
	if err := r.cmd.Start(); err != nil {
		return err
	}
	r.started(r.cmd.Process.Pid)
	return nil
}

func (r *procRunner) Wait(context.Context) error {
	r.once.Do(func() { r.waitErr = r.cmd.Wait() })
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

func (r *procRunner) ID() string {
	if r.cmd.Process == nil {
		return ""
	}
	return strconv.Itoa(r.cmd.Process.Pid)
}

func (r *procRunner) Diagnose(context.Context) string { return "" }

func (r *procRunner) PluginToHost(network, addr string) (string, string, error) {
	return network, addr, nil
}

func (r *procRunner) HostToPlugin(network, addr string) (string, string, error) {
	return network, addr, nil
}
