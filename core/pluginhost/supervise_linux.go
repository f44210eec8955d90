package pluginhost

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// orphanZombie reports whether pid is a zombie placed as no process the
// core starts itself is: the core starts plugins and check commands each
// as the leader of its own process group in the core's session, and waits
// for them itself. A zombie that leads no process group, or leads a session,
// is an orphan the core adopted (its environment, and so its marker, can no
// longer be read), which only the core can reap: it may have been adopted
// and have exited between two looks at the core's children.
func orphanZombie(pid int) bool {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	// pid (comm) state ppid pgrp session ...: comm may hold spaces and
	// parentheses.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return false
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 4 || f[0] != "Z" {
		return false
	}
	self := strconv.Itoa(pid)
	return f[2] != self || f[3] == self
}
