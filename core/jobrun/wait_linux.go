package jobrun

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// si_code values of a SIGCHLD (waitid's Siginfo.Code).
const cldStopped = 5

// awaitExit blocks until the job's leader has exited and returns the
// function that reaps it. The leader is left a zombie until then, so its
// pid, which is also the group's id, cannot be reused while Run may still
// signal the group. With a terminal, a job stopped from it (Ctrl-Z) stops
// heartbeat too (terminal.suspend).
func awaitExit(cmd *exec.Cmd, term *terminal) func() error {
	pid := cmd.Process.Pid
	opts := unix.WEXITED | unix.WNOWAIT
	if term != nil {
		opts |= unix.WSTOPPED
	}
	for {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_PID, pid, &info, opts, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			// Not expected; reap it here, as on other systems.
			err := cmd.Wait()
			term.reclaim(pid)
			return func() error { return err }
		}
		if term != nil && info.Code == cldStopped {
			// Consume the stop (WNOWAIT left it), then follow it.
			var again unix.Siginfo
			_ = unix.Waitid(unix.P_PID, pid, &again, unix.WSTOPPED|unix.WNOHANG, nil)
			term.suspend(pid)
			continue
		}
		return func() error {
			err := cmd.Wait()
			term.reclaim(pid)
			return err
		}
	}
}

// groupRunning reports whether a process of the group is still running,
// after reaping the group's zombies that are heartbeat's children (it
// adopts orphans as PID 1 of a container or as a subreaper). A zombie
// whose parent never reaps it (an init that does not) stays in its group
// but holds nothing: it does not count.
func groupRunning(pgid int) bool {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-pgid, &ws, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			break
		}
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return true
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		state, group, ok := procState(pid)
		if ok && group == pgid && state != 'Z' && state != 'X' {
			return true
		}
	}
	return false
}

// procState reads a process's state and group from /proc/PID/stat.
func procState(pid int) (byte, int, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	// "pid (comm) state ppid pgrp ...": comm may hold spaces and
	// parentheses, so fields are counted from the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 3 || len(f[0]) != 1 {
		return 0, 0, false
	}
	group, err := strconv.Atoi(f[2])
	if err != nil {
		return 0, 0, false
	}
	return f[0][0], group, true
}
