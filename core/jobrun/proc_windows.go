package jobrun

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Windows has no process groups to signal. The job is started in a new
// console process group (CREATE_NEW_PROCESS_GROUP), so that CTRL_BREAK can
// be sent to it and its console children, and is put in a job object so
// that a timeout ends everything it started (TerminateJobObject). The
// children it starts in the instant before it joins the job object are
// not in it. Forwarded signals of any kind become CTRL_BREAK, the only
// console event that can be sent to one process group; a job without a
// console of its own may not receive it.

// killedCode is the exit code given to processes ended by the timeout:
// what a unix shell reports for SIGKILL.
const killedCode = 128 + 9

func prepare(cmd *exec.Cmd, _ *os.File) *terminal {
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: windows.CREATE_NEW_PROCESS_GROUP}
	return nil
}

type group struct {
	pid int
	job windows.Handle // 0 when no job object could be made
}

func attach(cmd *exec.Cmd) group {
	g := group{pid: cmd.Process.Pid}
	job, err := windows.CreateJobObject(nil, nil)
	if err != nil {
		return g
	}
	h, err := windows.OpenProcess(windows.PROCESS_SET_QUOTA|windows.PROCESS_TERMINATE, false, uint32(g.pid))
	if err != nil {
		windows.CloseHandle(job)
		return g
	}
	defer windows.CloseHandle(h)
	if err := windows.AssignProcessToJobObject(job, h); err != nil {
		windows.CloseHandle(job)
		return g
	}
	g.job = job
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
	if g.job != 0 && windows.TerminateJobObject(g.job, killedCode) == nil {
		return "TerminateJobObject"
	}
	if p, err := os.FindProcess(g.pid); err == nil {
		_ = p.Kill()
	}
	return "TerminateProcess"
}

// basicAccounting is JOBOBJECT_BASIC_ACCOUNTING_INFORMATION.
type basicAccounting struct {
	TotalUserTime             int64
	TotalKernelTime           int64
	ThisPeriodTotalUserTime   int64
	ThisPeriodTotalKernelTime int64
	TotalPageFaultCount       uint32
	TotalProcesses            uint32
	ActiveProcesses           uint32
	TotalTerminatedProcesses  uint32
}

// alive reports whether a process is left in the job object.
func (g group) alive() bool {
	if g.job == 0 {
		return false
	}
	var info basicAccounting
	err := windows.QueryInformationJobObject(g.job, windows.JobObjectBasicAccountingInformation,
		uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info)), nil)
	return err == nil && info.ActiveProcesses > 0
}

// release closes the job object without ending what is left in it: on a
// job's normal exit nothing it started is killed.
func (g group) release() {
	if g.job != 0 {
		windows.CloseHandle(g.job)
	}
}

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
