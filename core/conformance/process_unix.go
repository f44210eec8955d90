//go:build unix

package conformance

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// hostDeathBound is how long a plugin may outlive its host.
const hostDeathBound = 15 * time.Second

// isolate puts the plugin in its own process group, so the suite can end
// whatever it started.
func isolate(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setDeathSignal(cmd.SysProcAttr)
}

// killGroup ends what is left of the process group led by pid.
func killGroup(pid int) {
	if pid > 0 {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
}

// checkHostDeath starts the plugin under a shell standing in for the core,
// waits for its handshake, kills the shell with SIGKILL (no chance to stop
// its child) and expects the plugin to notice and exit.
func (s *suite) checkHostDeath() {
	sh, err := exec.LookPath("sh")
	if err != nil {
		s.report(CheckHostDeath, Skip, "needs sh to stand in for the core")
		return
	}
	pidR, pidW, err := os.Pipe()
	if err != nil {
		s.report(CheckHostDeath, Skip, "%v", err)
		return
	}
	defer pidR.Close()
	hs := sdk.Handshake()
	cmd := exec.Command(sh, "-c", `"$1" </dev/null 2>/dev/null 3>&- & echo "$!" >&3; exec 3>&-; wait`, "sh", s.path)
	cmd.Env = append(os.Environ(), hs.MagicCookieKey+"="+hs.MagicCookieValue, "PLUGIN_PROTOCOL_VERSIONS="+strconv.Itoa(sdk.ProtocolVersion), sdk.LogLevelEnv+"=error")
	cmd.ExtraFiles = []*os.File{pidW}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		pidW.Close()
		s.report(CheckHostDeath, Skip, "%v", err)
		return
	}
	if err := cmd.Start(); err != nil {
		pidW.Close()
		s.report(CheckHostDeath, Skip, "cannot start sh: %v", err)
		return
	}
	pidW.Close()
	group := cmd.Process.Pid
	defer killGroup(group)
	waited := make(chan struct{})
	defer func() {
		_ = cmd.Process.Kill()
		killGroup(group)
		select {
		case <-waited:
		case <-time.After(5 * time.Second):
		}
	}()

	type line struct {
		text string
		err  error
	}
	pidLine, hsLine := make(chan line, 1), make(chan line, 1)
	go func() {
		l, err := bufio.NewReader(pidR).ReadString('\n')
		pidLine <- line{l, err}
	}()
	go func() {
		r := bufio.NewReader(stdout)
		l, err := r.ReadString('\n')
		hsLine <- line{l, err}
		// Keep draining, bounded, so a plugin that floods does not block.
		buf := make([]byte, 32<<10)
		for total := 0; total < maxCapture; {
			n, err := r.Read(buf)
			total += n
			if err != nil {
				break
			}
		}
		_ = stdout.Close()
	}()
	go func() {
		_ = cmd.Wait()
		close(waited)
	}()
	timer := time.NewTimer(s.opts.CallTimeout)
	defer timer.Stop()
	var pid int
	select {
	case l := <-pidLine:
		pid, err = strconv.Atoi(strings.TrimSpace(l.text))
		if err != nil || pid <= 0 {
			s.report(CheckHostDeath, Skip, "sh did not say the plugin's pid")
			return
		}
	case <-timer.C:
		s.report(CheckHostDeath, Skip, "sh did not start the plugin within %s", s.opts.CallTimeout)
		return
	case <-s.ctx.Done():
		s.report(CheckHostDeath, Skip, "the suite's time ran out")
		return
	}
	defer func() { _ = syscall.Kill(pid, syscall.SIGKILL) }()
	select {
	case l := <-hsLine:
		if l.err != nil {
			s.report(CheckHostDeath, Fail, "started under sh, the plugin printed no handshake line")
			return
		}
	case <-timer.C:
		s.report(CheckHostDeath, Fail, "started under sh, the plugin printed no handshake line within %s", s.opts.CallTimeout)
		return
	case <-s.ctx.Done():
		s.report(CheckHostDeath, Skip, "the suite's time ran out")
		return
	}
	_ = cmd.Process.Kill()
	<-waited
	killed := time.Now()
	for time.Since(killed) < hostDeathBound && s.ctx.Err() == nil {
		if !running(pid) {
			s.report(CheckHostDeath, Pass, "exited %s after its host was killed", time.Since(killed).Round(100*time.Millisecond))
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.report(CheckHostDeath, Fail, "still running %s after its host was killed with SIGKILL: watch the parent process (poll getppid, or use a parent-death signal) and exit when it changes", hostDeathBound)
}

// running reports whether pid is a live process (not a zombie waiting for
// whoever adopted it).
func running(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// pid (comm) state ...: comm may hold spaces and parentheses.
	if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z' && stat[i+2] != 'X'
	}
	return true
}
