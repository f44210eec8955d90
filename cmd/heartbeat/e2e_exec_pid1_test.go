//go:build linux

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/plugins/healthchecks/hcfake"
)

// As PID 1 of a PID namespace (a container's entry point), heartbeat exec
// gets SIGTERM (PID 1 gets only the signals it handles), forwards it to
// the job, reports the outcome and exits with the job's status.
func TestExecAsPID1(t *testing.T) {
	bins := buildBinaries(t)
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("needs unshare(1) to run heartbeat as PID 1")
	}
	if out, err := exec.Command(unshare, "--pid", "--fork", "--mount-proc", "true").CombinedOutput(); err != nil {
		t.Skipf("cannot make a PID namespace here (needs privileges): %v: %s", err, out)
	}
	hc := hcfake.New(t, hcfake.Config{})
	uuid := hc.AddCheck(hcfake.NewUUID())
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	script := `echo $$ > ` + pidFile + `; trap 'echo got TERM; exit 0' TERM; while :; do sleep 0.1; done`
	cmd := exec.Command(unshare, "--pid", "--fork", "--mount-proc", bins.core, "exec", "--plugin-dir", bins.pluginDir, "--url", hc.PingURL(uuid), "--", "sh", "-c", script)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("output:\n%s", out.String())
		}
	})
	waitFor(t, 30*time.Second, "the job to start", func() bool { _, err := os.Stat(pidFile); return err == nil })
	if data, _ := os.ReadFile(pidFile); strings.TrimSpace(string(data)) == "1" {
		t.Fatal("the job is PID 1, not heartbeat")
	}
	// heartbeat is unshare's child, PID 1 inside the namespace.
	var core int
	waitFor(t, 10*time.Second, "heartbeat's pid", func() bool {
		data, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid), "task", strconv.Itoa(cmd.Process.Pid), "children"))
		f := strings.Fields(string(data))
		if len(f) == 0 {
			return false
		}
		core, _ = strconv.Atoi(f[0])
		return core > 0
	})
	if err := syscall.Kill(core, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("heartbeat did not exit within 60s of SIGTERM")
	}
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit %d, want 0 (the job trapped SIGTERM and exited 0)", code)
	}
	pings := pingsOf(t, hc, uuid, 2)
	if pings[1].Kind != hcfake.KindSuccess || !strings.Contains(string(pings[1].Body), "got TERM") || pings[0].RID != pings[1].RID {
		t.Errorf("pings %+v", pings)
	}
}

// zombieChildren lists the zombie children of pid.
func zombieChildren(pid int) []int {
	tasks, _ := filepath.Glob(filepath.Join("/proc", strconv.Itoa(pid), "task", "*", "children"))
	var out []int
	for _, task := range tasks {
		data, _ := os.ReadFile(task)
		for _, f := range strings.Fields(string(data)) {
			stat, err := os.ReadFile(filepath.Join("/proc", f, "stat"))
			if err != nil {
				continue
			}
			if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && strings.HasPrefix(string(stat[i+1:]), " Z") {
				p, _ := strconv.Atoi(f)
				out = append(out, p)
			}
		}
	}
	return out
}

// In periodic mode the processes a job leaves behind, handed to heartbeat
// (a child subreaper), are reaped when they exit: none stays a zombie,
// whether it stayed in the job's process group or started a session.
func TestExecPeriodicReapsOrphans(t *testing.T) {
	bins := buildBinaries(t)
	hc := hcfake.New(t, hcfake.Config{})
	uuid := hc.AddCheck(hcfake.NewUUID())
	p := startExec(t, bins, nil, "--url", hc.PingURL(uuid), "--every", "every 1 second", "--silent", "--",
		"sh", "-c", "(sleep 0.3 &); (setsid sleep 0.3 &); true")
	waitFor(t, 60*time.Second, "three runs", func() bool { return len(hc.Pings(uuid)) >= 6 })
	// The orphans of the last runs may still be exiting: zombies may come
	// and go, but they must not pile up.
	waitFor(t, 30*time.Second, "no zombie left", func() bool { return len(zombieChildren(p.cmd.Process.Pid)) == 0 })
	p.signal(t, syscall.SIGTERM)
	if code := p.wait(t); code != 0 {
		t.Errorf("exit %d", code)
	}
}
