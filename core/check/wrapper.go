package check

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"
)

// WrapperArg is the hidden heartbeat command that runs a check command
// under a small supervisor: `heartbeat __check-exec -- argv...`.
//
// A check command may start children of its own (`sh -c "a | b"`). If the
// core is killed, the kernel's parent-death signal reaches only its direct
// child; the wrapper catches it and kills the check's whole process group,
// so nothing a check started outlives heartbeat.
const WrapperArg = "__check-exec"

// wrapperPoll bounds how long the wrapper outlives the core when the
// parent-death signal does not arrive.
const wrapperPoll = 200 * time.Millisecond

// RunWrapper is the wrapper's main: it runs argv in its own process group
// (the wrapper is the group leader), exits with the command's status, and
// kills the group when the core dies or a signal arrives.
func RunWrapper(argv []string, stderr io.Writer) int {
	if len(argv) > 0 && argv[0] == "--" {
		argv = argv[1:]
	}
	if len(argv) == 0 {
		fmt.Fprintln(stderr, "heartbeat "+WrapperArg+": no command given (this is run by heartbeat for health checks)")
		return 2
	}
	parent := os.Getppid()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(stderr, "heartbeat: cannot run the health check command: %v\n", err)
		return 127
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	ticker := time.NewTicker(wrapperPoll)
	defer ticker.Stop()
	for {
		select {
		case err := <-done:
			return exitStatus(err)
		case <-sigs:
			killOwnGroup()
		case <-ticker.C:
			if os.Getppid() != parent {
				killOwnGroup()
			}
		}
	}
}

func exitStatus(err error) int {
	if err == nil {
		return 0
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return exitErr.ExitCode()
	}
	return 1
}
