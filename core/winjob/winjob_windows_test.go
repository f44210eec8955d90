package winjob

import (
	"os/exec"
	"testing"
	"time"
)

// A process started in a job, and the children it starts, end together
// when the job is terminated; a job created with killOnClose ends what is
// left in it when closed. (Compiled on every change, run on Windows only.)
func TestJobEndsTheTree(t *testing.T) {
	for _, how := range []string{"terminate", "close"} {
		t.Run(how, func(t *testing.T) {
			job, err := Create(how == "close")
			if err != nil {
				t.Fatal(err)
			}
			defer job.Close()
			// cmd starts a second ping of its own: a child in the job.
			cmd := exec.Command("cmd.exe", "/c", "start /b ping -n 60 127.0.0.1 >NUL & ping -n 60 127.0.0.1 >NUL")
			inJob, err := Start(cmd, job)
			if err != nil {
				t.Fatal(err)
			}
			if !inJob {
				t.Fatal("the process is not in the job")
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			deadline := time.Now().Add(30 * time.Second)
			for !job.Active() && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			if !job.Active() {
				t.Fatal("no process in the job")
			}
			if how == "terminate" {
				if err := job.Terminate(137); err != nil {
					t.Fatal(err)
				}
			} else {
				job.Close()
			}
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("the process still runs")
			}
			if how == "terminate" {
				if cmd.ProcessState.ExitCode() != 137 {
					t.Errorf("exit code %d, want 137", cmd.ProcessState.ExitCode())
				}
				for job.Active() && time.Now().Before(deadline) {
					time.Sleep(50 * time.Millisecond)
				}
				if job.Active() {
					t.Error("a process is left in the job")
				}
			}
		})
	}
}

// Without a job, Start is cmd.Start.
func TestStartWithoutJob(t *testing.T) {
	cmd := exec.Command("cmd.exe", "/c", "exit 3")
	inJob, err := Start(cmd, nil)
	if err != nil || inJob {
		t.Fatalf("inJob=%v, %v", inJob, err)
	}
	_ = cmd.Wait()
	if cmd.ProcessState.ExitCode() != 3 {
		t.Errorf("exit code %d", cmd.ProcessState.ExitCode())
	}
}
