package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// execMarkerEnv is set in the environment of a periodic job, so that the
// processes it leaves behind can be recognised among heartbeat's children.
const execMarkerEnv = "HEARTBEAT_EXEC_JOB"

// reapOrphans reaps the processes a periodic job left behind that were
// handed to heartbeat (it is a child subreaper, or PID 1 in a container)
// and have exited, so none stays a zombie. It must be called only between
// runs: the job itself is jobrun's to wait for. A child is the job's when
// its environment holds marker (seen alive before: a zombie's environment
// cannot be read), or when it is a zombie that leads no process group, or
// leads a session of its own: a plugin process leads its own process group
// in heartbeat's session, and go-plugin waits for it. It returns the job's
// processes still alive.
func reapOrphans(marker string, seen map[int]bool) map[int]bool {
	alive := map[int]bool{}
	want := []byte(marker)
	for _, p := range childPIDs() {
		zombie, orphanLike := procState(p)
		if !seen[p] && !(zombie && orphanLike) && !environHas(p, want) {
			continue
		}
		var ws unix.WaitStatus
		got, err := unix.Wait4(p, &ws, unix.WNOHANG, nil)
		if got == p || errors.Is(err, unix.ECHILD) {
			continue
		}
		alive[p] = true
	}
	return alive
}

// childPIDs lists heartbeat's child processes.
func childPIDs() []int {
	tasks, _ := filepath.Glob("/proc/self/task/*/children")
	var out []int
	for _, t := range tasks {
		data, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(data)) {
			if p, err := strconv.Atoi(f); err == nil {
				out = append(out, p)
			}
		}
	}
	return out
}

// procState reads whether pid is a zombie, and whether it is placed as
// no plugin process is: in another process group than its own, or leading
// a session.
func procState(pid int) (zombie, notPlugin bool) {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false, false
	}
	// pid (comm) state ppid pgrp session ...: comm may hold spaces and
	// parentheses.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return false, false
	}
	fields := strings.Fields(string(stat[i+1:]))
	if len(fields) < 4 {
		return false, false
	}
	pgrp, _ := strconv.Atoi(fields[2])
	session, _ := strconv.Atoi(fields[3])
	return fields[0] == "Z", pgrp != pid || session == pid
}

func environHas(pid int, kv []byte) bool {
	env, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "environ"))
	if err != nil {
		return false
	}
	for _, e := range bytes.Split(env, []byte{0}) {
		if bytes.Equal(e, kv) {
			return true
		}
	}
	return false
}
