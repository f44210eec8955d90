//go:build unix

package jobrun

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// lockHolderEnv makes the test binary a process that holds a lock: it
// takes the lock named by the variable, says "locked", and releases it
// when its stdin ends.
const lockHolderEnv = "JOBRUN_TEST_HOLD_LOCK"

func holdLock(path string) int {
	l, err := AcquireLock(context.Background(), path, false)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("locked")
	_, _ = io.Copy(io.Discard, os.Stdin)
	if err := l.Release(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// startHolder starts another process holding the lock on path; closing the
// returned writer makes it release the lock and exit.
func startHolder(t *testing.T, path string) (*exec.Cmd, io.WriteCloser) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), lockHolderEnv+"="+path)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("the lock holder said %q, %v", line, err)
	}
	return cmd, stdin
}

func TestLockSkipNamesTheHolder(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "job.lock")
	holder, _ := startHolder(t, path)
	_, err := AcquireLock(context.Background(), path, false)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("AcquireLock while another process holds it: %v, want ErrLocked", err)
	}
	if want := "pid " + strconv.Itoa(holder.Process.Pid); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name the holder (%s)", err, want)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("lock file mode %o, want 600", perm)
	}
}

func TestLockWaitGetsItAfterRelease(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "job.lock")
	holder, release := startHolder(t, path)
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	got := make(chan error, 1)
	var lock *Lock
	go func() {
		var err error
		lock, err = AcquireLock(ctx, path, true)
		got <- err
	}()
	// Held by the other process: it must not be granted meanwhile.
	select {
	case err := <-got:
		t.Fatalf("AcquireLock returned while the lock was held: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	release.Close()
	if err := holder.Wait(); err != nil {
		t.Fatalf("the holder failed: %v", err)
	}
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(patience):
		t.Fatal("AcquireLock did not get the lock after it was released")
	}
	if b, _ := os.ReadFile(path); strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
		t.Errorf("lock file holds %q, want our pid %d", b, os.Getpid())
	}
	if err := lock.Release(); err != nil {
		t.Fatal(err)
	}
	if err := lock.Release(); err != nil {
		t.Errorf("a second Release: %v", err)
	}
}

func TestLockWaitEndsWithContext(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "job.lock")
	first, err := AcquireLock(context.Background(), path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Release()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = AcquireLock(ctx, path, true)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("AcquireLock with an ending context: %v, want DeadlineExceeded", err)
	}
	// Within one process too, a second lock is refused and names us.
	_, err = AcquireLock(context.Background(), path, false)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())) {
		t.Errorf("second AcquireLock: %v", err)
	}
	if err := first.Release(); err != nil {
		t.Fatal(err)
	}
	again, err := AcquireLock(context.Background(), path, false)
	if err != nil {
		t.Fatalf("AcquireLock after Release: %v", err)
	}
	again.Release()
}

func TestLockMissingDirectory(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "missing", "job.lock")
	_, err := AcquireLock(context.Background(), path, false)
	if err == nil || errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "no such file or directory") {
		t.Errorf("AcquireLock in a missing directory: %v", err)
	}
}

// TestLockNotInheritedByJob: the job run while heartbeat holds the lock
// has no descriptor of the lock file.
func TestLockNotInheritedByJob(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("needs /proc/self/fd")
	}
	path := filepath.Join(t.TempDir(), "job.lock")
	l, err := AcquireLock(context.Background(), path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	res := Run(context.Background(), Spec{
		Args:      []string{"sh", "-c", `for f in /proc/$$/fd/*; do readlink "$f"; done; true`},
		TailLimit: 1 << 16,
	})
	if res.ExitCode != 0 {
		t.Fatalf("code %d: %s", res.ExitCode, res.Message)
	}
	if strings.Contains(string(res.Output), path) {
		t.Errorf("the job holds the lock file open:\n%s", res.Output)
	}
	if !strings.Contains(string(res.Output), "pipe:") {
		t.Errorf("the listing looks wrong (no pipe for the output):\n%s", res.Output)
	}
}
