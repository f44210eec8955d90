//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package sdk

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// orphanRoleEnv makes the test binary play the core ("parent") or the
// plugin ("child") in TestWatchParentNoticesExit.
const orphanRoleEnv = "HEARTBEAT_SDK_TEST_ORPHAN_ROLE"

// orphanFailsafe bounds every wait of these tests; it only turns a hang into
// a failure.
const orphanFailsafe = 30 * time.Second

// wantWatch is how watchParent should watch on this system.
func wantWatch() string {
	if runtime.GOOS == "linux" {
		return watchPidfd
	}
	return watchKqueue
}

// TestParentWatcherHelper is the other processes of
// TestWatchParentNoticesExit; run directly it does nothing.
func TestParentWatcherHelper(t *testing.T) {
	switch os.Getenv(orphanRoleEnv) {
	case "parent":
		child := exec.Command(os.Args[0], "-test.run=^TestParentWatcherHelper$")
		child.Env = append(os.Environ(), orphanRoleEnv+"=child")
		child.Stdout = os.Stdout
		if err := child.Start(); err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		time.Sleep(orphanFailsafe) // until the test kills this process
		os.Exit(3)
	case "child":
		how := watchParent(os.Getppid(), func() {
			fmt.Println("gone")
			os.Exit(0)
		})
		fmt.Println("watching", os.Getpid(), how)
		time.Sleep(orphanFailsafe) // until the watcher ends the process
		fmt.Println("not noticed")
		os.Exit(3)
	}
}

// A plugin whose core is killed learns it from the system and exits.
func TestWatchParentNoticesExit(t *testing.T) {
	parent := exec.Command(os.Args[0], "-test.run=^TestParentWatcherHelper$")
	parent.Env = append(os.Environ(), orphanRoleEnv+"=parent")
	// Not StdoutPipe: Wait would close it, while the child writes on.
	out, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	parent.Stdout = w
	err = parent.Start()
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 10)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	next := func(what string) string {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("output ended while waiting for %s", what)
			}
			return l
		case <-time.After(orphanFailsafe):
			_ = parent.Process.Kill()
			t.Fatalf("no %s", what)
		}
		return ""
	}
	var pid int
	var how string
	if l := next("watching line"); !strings.HasPrefix(l, "watching") {
		_ = parent.Process.Kill()
		t.Fatalf("child said %q", l)
	} else if _, err := fmt.Sscanf(l, "watching %d", &pid); err != nil {
		t.Fatalf("child said %q: %v", l, err)
	} else {
		how = strings.TrimPrefix(l, fmt.Sprintf("watching %d ", pid))
	}
	if how != wantWatch() {
		t.Errorf("the child watches by %q, want %q", how, wantWatch())
	}
	if err := parent.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = parent.Wait()
	if l := next("exit of the child"); l != "gone" {
		t.Errorf("child said %q after its parent was killed, want gone", l)
	}
	deadline := time.Now().Add(orphanFailsafe)
	for syscall.Kill(pid, 0) == nil && !zombie(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("child %d still runs", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// zombie reports whether pid has exited and waits to be reaped (Linux; false
// elsewhere, where the reaper is quick).
func zombie(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(stat), ')')
	return i > 0 && strings.HasPrefix(strings.TrimSpace(string(stat[i+1:])), "Z")
}

// A parent that is already gone, or a pid that is not this process's
// parent, is reported at once.
func TestWatchParentAlreadyGone(t *testing.T) {
	exited := exec.Command(os.Args[0], "-test.run=^$")
	if err := exited.Run(); err != nil {
		t.Fatal(err)
	}
	alive := exec.Command("sleep", "30")
	if err := alive.Start(); err != nil {
		t.Skip("no sleep command:", err)
	}
	defer func() { _ = alive.Process.Kill(); _ = alive.Wait() }()
	for name, pid := range map[string]int{"exited and reaped": exited.Process.Pid, "not the parent": alive.Process.Pid} {
		t.Run(name, func(t *testing.T) {
			gone := make(chan struct{})
			how := watchParent(pid, func() { close(gone) })
			if how != wantWatch() {
				t.Errorf("watches by %q, want %q", how, wantWatch())
			}
			select {
			case <-gone:
			case <-time.After(orphanFailsafe):
				t.Fatal("gone was not called")
			}
		})
	}
}

// The fallback poll notices a parent pid that is no longer this process's.
func TestPollParent(t *testing.T) {
	gone := make(chan struct{})
	go pollParent(os.Getppid()+1_000_000, func() { close(gone) })
	select {
	case <-gone:
	case <-time.After(orphanFailsafe):
		t.Fatal("gone was not called")
	}
}
