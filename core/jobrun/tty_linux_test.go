package jobrun

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// ttyJobEnv makes the test binary run the job in the variable with Run,
// its stdin being the terminal it was started on (as heartbeat exec typed
// at a shell), then print the result and whether it has the terminal back.
const ttyJobEnv = "JOBRUN_TEST_TTY_JOB"

func runTTYJob(script string) int {
	res := Run(context.Background(), Spec{Args: []string{"sh", "-c", script}, Stdout: os.Stdout, Stderr: os.Stderr})
	fg, err := unix.IoctlGetInt(0, unix.TIOCGPGRP)
	fmt.Printf("result %d %s\n", res.ExitCode, res.Message)
	fmt.Printf("foreground %v\n", err == nil && fg == syscall.Getpgrp())
	return 0
}

// openPTY opens a pseudo-terminal: its master and its terminal side.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skipf("ptsname: %v", err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("opening the terminal side: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	// Whatever the terminal echoes is read and dropped.
	go func() { _, _ = io.Copy(io.Discard, m) }()
	return m, s
}

// startOnTTY starts the test binary as a session leader on tty, running
// script through Run; its stdout lines arrive on the channel.
func startOnTTY(t *testing.T, tty *os.File, script string) (*exec.Cmd, <-chan string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), ttyJobEnv+"="+script)
	cmd.Stdin = tty
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	return cmd, lines
}

func expectLine(t *testing.T, lines <-chan string, want string) {
	t.Helper()
	timeout := time.After(patience)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("output ended before %q", want)
			}
			if l == want {
				return
			}
			if strings.HasPrefix(l, "result") && !strings.HasPrefix(want, "result") {
				t.Fatalf("got %q before %q", l, want)
			}
		case <-timeout:
			t.Fatalf("%q never came (is the job stopped, reading a terminal it does not own?)", want)
		}
	}
}

// TestJobReadsTheTerminal: a job run from a terminal reads it, as it would
// run from a shell, and heartbeat has the terminal back afterwards.
func TestJobReadsTheTerminal(t *testing.T) {
	t.Parallel()
	master, tty := openPTY(t)
	_, lines := startOnTTY(t, tty, `read line; echo "got $line"`)
	if _, err := master.Write([]byte("hello\n")); err != nil {
		t.Fatal(err)
	}
	expectLine(t, lines, "got hello")
	expectLine(t, lines, "result 0 exit code 0")
	expectLine(t, lines, "foreground true")
}

// TestCtrlZ: Ctrl-Z stops the job and heartbeat with it, the terminal going
// back to heartbeat's group; continued, heartbeat gives it to the job
// again and the job goes on.
func TestCtrlZ(t *testing.T) {
	t.Parallel()
	master, tty := openPTY(t)
	cmd, lines := startOnTTY(t, tty, `echo ready; read line; echo "got $line"`)
	expectLine(t, lines, "ready")
	if _, err := master.Write([]byte{0x1a}); err != nil { // ^Z
		t.Fatal(err)
	}
	var info unix.Siginfo
	if err := unix.Waitid(unix.P_PID, cmd.Process.Pid, &info, unix.WSTOPPED, nil); err != nil {
		t.Fatalf("waiting for heartbeat to stop: %v", err)
	}
	if info.Code != cldStopped {
		t.Fatalf("heartbeat did not stop (si_code %d)", info.Code)
	}
	fg, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPGRP)
	if err != nil || fg != cmd.Process.Pid {
		t.Errorf("while stopped the terminal's foreground group is %d (%v), want heartbeat's %d", fg, err, cmd.Process.Pid)
	}
	if err := cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	if _, err := master.Write([]byte("again\n")); err != nil {
		t.Fatal(err)
	}
	expectLine(t, lines, "got again")
	expectLine(t, lines, "result 0 exit code 0")
	expectLine(t, lines, "foreground true")
}
