package jobrun

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/windows"

	"github.com/seed-e9b80cf6/heartbeat/core/winjob"
)

// Windows has no process groups to signal. The job is started in a new
// console process group (CREATE_NEW_PROCESS_GROUP), so that CTRL_BREAK can
// be sent to it and its console children, and is put in a job object so
// that a timeout ends everything it started (TerminateJobObject). It is
// started suspended and resumed once it is in the job (winjob), so nothing
// it starts escapes. Forwarded signals of any kind become CTRL_BREAK, the
// only console event that can be sent to one process group; a job without
// a console of its own may not receive it.

// killedCode is the exit code given to processes ended by the timeout:
// what a unix shell reports for SIGKILL.
const killedCode = 128 + 9

func prepare(cmd *exec.Cmd, _ *os.File) *terminal {
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: windows.CREATE_NEW_PROCESS_GROUP | windows.CREATE_SUSPENDED}
	return nil
}

type group struct {
	pid int
	job *winjob.Job // nil when no job object could be made
}

// attach puts the job, started suspended, in a job object and resumes it.
// The job object does not end its processes when closed: on a job's
// normal exit, or when heartbeat dies, nothing it started is killed.
func attach(cmd *exec.Cmd) group {
	g := group{pid: cmd.Process.Pid}
	if job, err := winjob.Create(false); err == nil {
		if job.Assign(g.pid) == nil {
			g.job = job
		} else {
			job.Close()
		}
	}
	if winjob.Resume(g.pid) != nil {
		// It cannot run: end it rather than leave it suspended for ever.
		_ = cmd.Process.Kill()
	}
	return g
}

func (g group) signal(os.Signal) error {
	return windows.GenerateConsoleCtrlEvent(windows.CTRL_BREAK_EVENT, uint32(g.pid))
}

func (g group) terminate() string {
	_ = g.signal(os.Interrupt)
	return "CTRL_BREAK"
}

// kill ends the job object's processes at once and names how.
func (g group) kill() string {
	if g.job != nil && g.job.Terminate(killedCode) == nil {
		return "TerminateJobObject"
	}
	if p, err := os.FindProcess(g.pid); err == nil {
		_ = p.Kill()
	}
	return "TerminateProcess"
}

// alive reports whether a process is left in the job object.
func (g group) alive() bool { return g.job.Active() }

// release closes the job object without ending what is left in it: on a
// job's normal exit nothing it started is killed.
func (g group) release() { g.job.Close() }

func exitStatus(ps *os.ProcessState) (int, string) { return ps.ExitCode(), "" }

func signalName(s os.Signal) string {
	switch s {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	case syscall.SIGQUIT:
		return "SIGQUIT"
	case os.Kill:
		return "SIGKILL"
	}
	return s.String()
}

// classifyStart words why a program that exists could not be executed:
// 126 as a shell reports it.
func classifyStart(name string, err error) (int, error) {
	n := quoteName(name)
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Op == "chdir" {
		return 126, fmt.Errorf("cannot run %s: working directory %s: %w", n, quoteName(pe.Path), pe.Err)
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return 127, fmt.Errorf("no such file or directory: %s", n)
	case errors.Is(err, fs.ErrPermission):
		return 126, fmt.Errorf("permission denied: %s", n)
	case errors.Is(err, windows.ERROR_BAD_EXE_FORMAT):
		return 126, fmt.Errorf("exec format error: %s (not a program for this system)", n)
	}
	return 126, fmt.Errorf("cannot execute %s: %w", n, unwrapPath(err))
}
