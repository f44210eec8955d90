//go:build linux

// Package proc reads what the bench commands measure about a process from
// Linux's /proc: CPU time, memory, context switches per thread, open files,
// and the processes a process started.
package proc

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTick is USER_HZ, the unit of utime and stime in /proc/<pid>/stat;
// 100 on every Linux architecture Go supports.
const clockTick = 100

// CPU is the user+system CPU time pid has used (its threads, not its
// children).
func CPU(pid int) (time.Duration, error) {
	f, err := statFields(pid)
	if err != nil {
		return 0, err
	}
	// Fields after the command name: state is [0], utime [11], stime [12].
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad utime/stime %q %q", pid, f[11], f[12])
	}
	return time.Duration(ut+st) * time.Second / clockTick, nil
}

// statFields are the fields of /proc/<pid>/stat after "(comm)".
func statFields(pid int) ([]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, err
	}
	// comm may hold spaces and parentheses: the fields start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return nil, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	return f, nil
}

// Descendants are the processes started by pid, and by them, at the
// moment of the call (from the parent pid in every /proc/*/stat).
func Descendants(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f, err := statFields(p)
		if err != nil {
			continue // gone meanwhile
		}
		if ppid, err := strconv.Atoi(f[1]); err == nil {
			children[ppid] = append(children[ppid], p)
		}
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// Tree is pid and its descendants.
func Tree(pid int) []int { return append([]int{pid}, Descendants(pid)...) }

// Status holds the fields of /proc/<pid>/status the benches report.
type Status struct {
	Name                 string
	Threads              int
	VmRSSKB              int64
	CtxtVoluntary, CtxtN int64
}

// ReadStatus reads /proc/<pid>/status (or /proc/<pid>/task/<tid>/status
// through path).
func ReadStatus(pid int) (Status, error) {
	return readStatus(fmt.Sprintf("/proc/%d/status", pid))
}

func readStatus(path string) (Status, error) {
	var s Status
	b, err := os.ReadFile(path)
	if err != nil {
		return s, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch k {
		case "Name":
			s.Name = v
		case "Threads":
			s.Threads, _ = strconv.Atoi(v)
		case "VmRSS":
			s.VmRSSKB = kb(v)
		case "voluntary_ctxt_switches":
			s.CtxtVoluntary, _ = strconv.ParseInt(v, 10, 64)
		case "nonvoluntary_ctxt_switches":
			s.CtxtN, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	return s, nil
}

func kb(v string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(v, "kB")), 10, 64)
	return n
}

// Thread is one thread's name and context switches so far.
type Thread struct {
	TID      int
	Comm     string
	Switches int64 // voluntary + nonvoluntary
}

// Threads lists pid's threads.
func Threads(pid int) ([]Thread, error) {
	dir := fmt.Sprintf("/proc/%d/task", pid)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []Thread
	for _, e := range entries {
		tid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		s, err := readStatus(filepath.Join(dir, e.Name(), "status"))
		if err != nil {
			continue // ended meanwhile
		}
		comm, _ := os.ReadFile(filepath.Join(dir, e.Name(), "comm"))
		out = append(out, Thread{TID: tid, Comm: strings.TrimSpace(string(comm)), Switches: s.CtxtVoluntary + s.CtxtN})
	}
	return out, nil
}

// Memory is /proc/<pid>/smaps_rollup's summary, in KB.
type Memory struct {
	RSS, PSS, PrivateClean, PrivateDirty, SharedClean, SharedDirty int64
}

// ReadMemory reads /proc/<pid>/smaps_rollup.
func ReadMemory(pid int) (Memory, error) {
	var m Memory
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return m, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch k {
		case "Rss":
			m.RSS = kb(v)
		case "Pss":
			m.PSS = kb(v)
		case "Private_Clean":
			m.PrivateClean = kb(v)
		case "Private_Dirty":
			m.PrivateDirty = kb(v)
		case "Shared_Clean":
			m.SharedClean = kb(v)
		case "Shared_Dirty":
			m.SharedDirty = kb(v)
		}
	}
	return m, nil
}

// FDs is the number of open file descriptors of pid; -1 when unreadable.
func FDs(pid int) int {
	e, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return -1
	}
	return len(e)
}

// Exe is the path of pid's executable.
func Exe(pid int) string {
	p, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	return p
}

// Usage is the CPU time and memory of a set of processes at one moment.
type Usage struct {
	CPU     time.Duration
	RSSKB   int64
	Threads int
	FDs     int
	Procs   int
}

// Sum reads CPU, VmRSS, threads and open files of every pid that still
// runs.
func Sum(pids []int) Usage {
	var u Usage
	for _, p := range pids {
		c, err := CPU(p)
		if err != nil {
			continue
		}
		s, err := ReadStatus(p)
		if err != nil {
			continue
		}
		u.CPU += c
		u.RSSKB += s.VmRSSKB
		u.Threads += s.Threads
		u.FDs += max(FDs(p), 0)
		u.Procs++
	}
	return u
}

// RaiseFileLimit sets the soft limit of open files to the hard limit, for
// this process and the processes it starts (Go passes a limit set with
// Setrlimit on to its children), and returns it.
func RaiseFileLimit() (uint64, error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, err
	}
	l.Cur = l.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, err
	}
	return l.Cur, nil
}

// LoadAverage is the 1, 5 and 15 minute load averages, as text.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
