//go:build unix

package jobrun

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

// prepare puts the job in a process group of its own, so that forwarded
// signals and the timeout reach everything it started; when its stdin is
// heartbeat's terminal and heartbeat is in the terminal's foreground, that
// group gets the terminal (see terminal). The job is not killed when
// heartbeat dies: a job wrapper that crashes must not take a backup
// half-way down with it.
func prepare(cmd *exec.Cmd, stdin *os.File) *terminal {
	attr := &syscall.SysProcAttr{Setpgid: true}
	term := foreground(stdin)
	term.apply(attr)
	cmd.SysProcAttr = attr
	return term
}

// group is the job's process group; its id is the leader's pid.
type group struct{ pgid int }

func attach(cmd *exec.Cmd) group { return group{pgid: cmd.Process.Pid} }

func (g group) signal(s os.Signal) error {
	sig, ok := s.(syscall.Signal)
	if !ok {
		return fmt.Errorf("cannot forward %v", s)
	}
	return syscall.Kill(-g.pgid, sig)
}

// terminate asks the group to stop and names the signal it sent.
func (g group) terminate() string {
	_ = syscall.Kill(-g.pgid, syscall.SIGTERM)
	// A stopped job (Ctrl-Z, SIGSTOP) acts on SIGTERM only once continued.
	_ = syscall.Kill(-g.pgid, syscall.SIGCONT)
	return "SIGTERM"
}

// kill ends the group at once and names how.
func (g group) kill() string {
	_ = syscall.Kill(-g.pgid, syscall.SIGKILL)
	return "SIGKILL"
}

// alive reports whether any process is left in the group.
func (g group) alive() bool {
	err := syscall.Kill(-g.pgid, 0)
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	return groupRunning(g.pgid)
}

func (g group) release() {}

// exitStatus is the job's status as a shell reports it.
func exitStatus(ps *os.ProcessState) (int, string) {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	if ok && ws.Signaled() {
		return 128 + int(ws.Signal()), signalName(ws.Signal())
	}
	return ps.ExitCode(), ""
}

// signalName is the usual name of a signal ("SIGTERM").
func signalName(s os.Signal) string {
	if sig, ok := s.(syscall.Signal); ok {
		if name := unix.SignalName(sig); name != "" {
			return name
		}
		return fmt.Sprintf("signal %d", int(sig))
	}
	return s.String()
}

// classifyStart words why a program that exists could not be executed, with
// the code bash gives: 127 when a file it needs is missing (a #! interpreter
// or the dynamic loader: "required file not found"), 126 otherwise.
func classifyStart(name string, err error) (int, error) {
	n := quoteName(name)
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Op == "chdir" {
		return 126, fmt.Errorf("cannot run %s: working directory %s: %w", n, quoteName(pe.Path), pe.Err)
	}
	switch {
	case errors.Is(err, syscall.ENOENT):
		return 127, fmt.Errorf("cannot execute %s: required file not found (its #! interpreter or its dynamic loader is missing)", n)
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return 126, fmt.Errorf("permission denied: %s", n)
	case errors.Is(err, syscall.ENOEXEC):
		return 126, fmt.Errorf("exec format error: %s (not a program for this system; a script needs a #! line)", n)
	case errors.Is(err, syscall.EISDIR):
		return 126, fmt.Errorf("is a directory: %s", n)
	case errors.Is(err, syscall.ETXTBSY):
		return 126, fmt.Errorf("text file busy: %s", n)
	}
	return 126, fmt.Errorf("cannot execute %s: %w", n, unwrapPath(err))
}
