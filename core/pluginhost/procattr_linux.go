package pluginhost

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// limitsEnforced: memory and CPU limits are rlimits of the plugin process.
const limitsEnforced = true

// isolate puts the plugin in its own process group, so stopping it can end
// its children too, and has the kernel signal it if the core dies first
// (the SDK then ends the plugin and everything it started).
func isolate(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

// killGroup ends whatever is left of the plugin's process group.
func killGroup(pid int) {
	if pid > 0 {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
}

// becomeSubreaper makes processes orphaned below the core its children
// instead of init's, so a plugin's descendant that left the plugin's
// process group (setsid, double fork) is still the core's to end.
func becomeSubreaper() error {
	return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
}

// applyLimits sets the plugin process's rlimits. Memory is RLIMIT_DATA
// (the heap and other private writable memory), not RLIMIT_AS: the Go
// runtime reserves far more address space than it uses. At the CPU limit
// the kernel sends SIGXCPU, which a Go program ignores, and SIGKILL a
// second later.
func applyLimits(pid int, lim Limits) error {
	if lim.Memory > 0 {
		m := uint64(lim.Memory)
		if err := unix.Prlimit(pid, unix.RLIMIT_DATA, &unix.Rlimit{Cur: m, Max: m}, nil); err != nil {
			return err
		}
	}
	if lim.CPU > 0 {
		s := uint64(cpuLimitSeconds(lim.CPU) / time.Second)
		if err := unix.Prlimit(pid, unix.RLIMIT_CPU, &unix.Rlimit{Cur: s, Max: s + 1}, nil); err != nil {
			return err
		}
	}
	return nil
}

// killTree ends the plugin's process group and every process that carries
// marker in its environment: the plugin's descendants, wherever they went
// (their own session, reparented to the core or to init). A descendant
// that cleared its environment escapes this; the service manager's cgroup
// does not. Killed orphans that are the core's children are reaped.
func killTree(pid int, marker string) {
	killGroup(pid)
	if marker == "" {
		return
	}
	self := os.Getpid()
	for _, p := range markedProcesses(markerEnv + "=" + marker) {
		if p == self {
			continue
		}
		_ = syscall.Kill(p, syscall.SIGKILL)
		if p != pid && parentOf(p) == self {
			go func() { _, _ = unix.Wait4(p, nil, 0, nil) }()
		}
	}
}

// markedProcesses lists the processes whose environment holds the
// variable assignment prefix (a whole NAME=value or NAME=value-prefix).
func markedProcesses(prefix string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	want := []byte(prefix)
	var out []int
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if hasEnv(p, want) {
			out = append(out, p)
		}
	}
	return out
}

func hasEnv(pid int, prefix []byte) bool {
	env, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "environ"))
	if err != nil {
		return false
	}
	for _, kv := range bytes.Split(env, []byte{0}) {
		if bytes.HasPrefix(kv, prefix) {
			return true
		}
	}
	return false
}

// parentOf reads a process's parent pid, 0 when unknown.
func parentOf(pid int) int {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0
	}
	// pid (comm) state ppid ...: comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0
	}
	fields := strings.Fields(string(stat[i+1:]))
	if len(fields) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(fields[1])
	return ppid
}

// children lists the core's child processes.
func children() []int {
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

// reapAdopted waits for the adopted orphans (children of the core that
// carry a plugin marker of this core, other than plugins themselves) that
// have exited, so none stays a zombie. seen holds the orphans noticed
// alive before: a zombie's environment can no longer be read, so a zombie
// not seen before is reaped when it is placed as an orphan (orphanZombie).
// It returns the orphans still alive.
func reapAdopted(seen map[int]bool, plugins map[int]bool, markerPrefix string) map[int]bool {
	alive := map[int]bool{}
	want := []byte(markerEnv + "=" + markerPrefix)
	for _, p := range children() {
		if plugins[p] {
			continue
		}
		if seen[p] || hasEnv(p, want) || orphanZombie(p) {
			var ws unix.WaitStatus
			got, err := unix.Wait4(p, &ws, unix.WNOHANG, nil)
			if got == p || errors.Is(err, unix.ECHILD) {
				continue
			}
			alive[p] = true
		}
	}
	return alive
}

// exitDetail says why a plugin process ended, naming the limit it reached
// where that is knowable: the kernel kills at the CPU limit; at the memory
// limit the Go runtime says so on its stderr (outOfMemory), though that
// may be lost with the process, when a peak resident size near the limit
// tells the same.
func exitDetail(st *os.ProcessState, lim Limits, outOfMemory bool) string {
	ws, _ := st.Sys().(syscall.WaitStatus)
	killed := ws.Signaled() && (ws.Signal() == syscall.SIGKILL || ws.Signal() == syscall.SIGXCPU)
	if limit := cpuLimitSeconds(lim.CPU); limit > 0 && killed && st.UserTime()+st.SystemTime() >= limit*9/10 {
		return fmt.Sprintf("it reached its CPU limit (cpu_limit %s) and was killed", lim.CPU)
	}
	ru, _ := st.SysUsage().(*syscall.Rusage)
	nearLimit := ru != nil && int64(ru.Maxrss)*1024 >= lim.Memory*3/4
	if lim.Memory > 0 && !st.Success() && (outOfMemory || nearLimit) {
		return fmt.Sprintf("it ran out of memory under its memory limit (memory_limit %d bytes)", lim.Memory)
	}
	if ws.Signaled() {
		return fmt.Sprintf("it was killed by signal %d (%s)", int(ws.Signal()), ws.Signal())
	}
	return fmt.Sprintf("it exited with status %d", st.ExitCode())
}
