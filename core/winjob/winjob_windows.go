package winjob

import (
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Job is a job object. The zero value is no job: its methods do nothing.
type Job struct {
	h windows.Handle
}

// Create makes a job object. With killOnClose, closing it (Close, or the
// handle closed by Windows when heartbeat dies) ends every process left
// in it (JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE).
func Create(killOnClose bool) (*Job, error) {
	h, err := windows.CreateJobObject(nil, nil)
	if err != nil {
		return nil, fmt.Errorf("creating a job object: %w", err)
	}
	if killOnClose {
		info := windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION{}
		info.BasicLimitInformation.LimitFlags = windows.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
		if _, err := windows.SetInformationJobObject(h, windows.JobObjectExtendedLimitInformation,
			uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info))); err != nil {
			windows.CloseHandle(h)
			return nil, fmt.Errorf("setting the job object to end its processes when closed: %w", err)
		}
	}
	return &Job{h: h}, nil
}

// Start starts cmd suspended (CREATE_SUSPENDED is added to its creation
// flags), assigns it to j, then resumes it: the process cannot start a
// child before it is in the job. On an error cmd is not running (a
// process that cannot be resumed is killed and waited for). inJob is
// false when the process runs outside the job (j is nil, or Windows
// refused to assign it); the caller must then end it on its own.
func Start(cmd *exec.Cmd, j *Job) (inJob bool, err error) {
	if j == nil || j.h == 0 {
		return false, cmd.Start()
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.CreationFlags |= windows.CREATE_SUSPENDED
	if err := cmd.Start(); err != nil {
		return false, err
	}
	pid := cmd.Process.Pid
	inJob = j.Assign(pid) == nil
	if err := Resume(pid); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return false, err
	}
	return inJob, nil
}

// Assign puts the process pid in the job.
func (j *Job) Assign(pid int) error {
	if j == nil || j.h == 0 {
		return errors.New("no job object")
	}
	h, err := windows.OpenProcess(windows.PROCESS_SET_QUOTA|windows.PROCESS_TERMINATE, false, uint32(pid))
	if err != nil {
		return fmt.Errorf("opening process %d: %w", pid, err)
	}
	defer windows.CloseHandle(h)
	if err := windows.AssignProcessToJobObject(j.h, h); err != nil {
		return fmt.Errorf("assigning process %d to its job object: %w", pid, err)
	}
	return nil
}

// Terminate ends every process in the job at once, each with exit code
// code.
func (j *Job) Terminate(code uint32) error {
	if j == nil || j.h == 0 {
		return errors.New("no job object")
	}
	return windows.TerminateJobObject(j.h, code)
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

// Active reports whether a process is left in the job.
func (j *Job) Active() bool {
	if j == nil || j.h == 0 {
		return false
	}
	var info basicAccounting
	err := windows.QueryInformationJobObject(j.h, windows.JobObjectBasicAccountingInformation,
		uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info)), nil)
	return err == nil && info.ActiveProcesses > 0
}

// Close closes the job object: the processes left in it are ended when it
// was created with killOnClose, and keep running otherwise.
func (j *Job) Close() {
	if j != nil && j.h != 0 {
		windows.CloseHandle(j.h)
		j.h = 0
	}
}

// Resume resumes the threads of process pid, started suspended
// (CREATE_SUSPENDED): its one thread, since a suspended process has
// started none of its own. os/exec
// does not keep the thread handle CreateProcess returns, so the thread is
// found in a snapshot of the system's threads.
func Resume(pid int) error {
	snap, err := windows.CreateToolhelp32Snapshot(windows.TH32CS_SNAPTHREAD, 0)
	if err != nil {
		return fmt.Errorf("resuming process %d: listing threads: %w", pid, err)
	}
	defer windows.CloseHandle(snap)
	entry := windows.ThreadEntry32{Size: uint32(unsafe.Sizeof(windows.ThreadEntry32{}))}
	resumed := 0
	for err = windows.Thread32First(snap, &entry); err == nil; err = windows.Thread32Next(snap, &entry) {
		if entry.OwnerProcessID != uint32(pid) {
			continue
		}
		t, err := windows.OpenThread(windows.THREAD_SUSPEND_RESUME, false, entry.ThreadID)
		if err != nil {
			return fmt.Errorf("opening thread %d: %w", entry.ThreadID, err)
		}
		_, err = windows.ResumeThread(t)
		windows.CloseHandle(t)
		if err != nil {
			return fmt.Errorf("resuming thread %d: %w", entry.ThreadID, err)
		}
		resumed++
	}
	if !errors.Is(err, windows.ERROR_NO_MORE_FILES) {
		return fmt.Errorf("listing threads: %w", err)
	}
	if resumed == 0 {
		return fmt.Errorf("process %d has no thread to resume", pid)
	}
	return nil
}
