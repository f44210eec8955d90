package check

import (
	"errors"
	"os"
	"os/exec"

	"github.com/seed-e9b80cf6/heartbeat/core/winjob"
)

// Windows has no process groups to signal. A check command runs in a job
// object of its own, created with JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE: it
// is started suspended and resumed once it is in the job (winjob), so
// nothing it starts escapes; its timeout or its caller ends the whole job
// (TerminateJobObject); and closing the job when the check is over, or
// Windows closing it when heartbeat dies, ends whatever the check left
// running.

// killedCode is the exit code given to the processes of a check that is
// ended: what a unix shell reports for SIGKILL.
const killedCode = 128 + 9

func isolate(*exec.Cmd) {}

// killGroup ends the check's process when it could not be put in a job
// object.
func killGroup(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}

// killOwnGroup ends the wrapper; the job object the core put it in ends
// the rest.
func killOwnGroup() { os.Exit(137) }

// runIsolated runs cmd in a job object, as described above. Without one
// (Windows refused to make it) the command runs on its own and only its
// process is ended by a timeout.
func runIsolated(cmd *exec.Cmd) error {
	job, err := winjob.Create(true)
	if err != nil {
		return cmd.Run()
	}
	defer job.Close()
	cmd.Cancel = func() error {
		// Between the start and the assignment the job is still empty:
		// the process itself is ended too (it is suspended then, with no
		// child yet).
		jobErr := job.Terminate(killedCode)
		procErr := killGroup(cmd.Process.Pid)
		if jobErr == nil || procErr == nil || errors.Is(procErr, os.ErrProcessDone) {
			return nil
		}
		return procErr
	}
	if _, err := winjob.Start(cmd, job); err != nil {
		return err
	}
	return cmd.Wait()
}
