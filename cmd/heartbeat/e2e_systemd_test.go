//go:build unix

package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The example systemd unit is one that systemd accepts without a warning,
// that does not restart a config error forever, and whose command line
// heartbeat accepts.
func TestSystemdUnit(t *testing.T) {
	root := repoRoot(t)
	unitPath := filepath.Join(root, "examples", "systemd", "heartbeat.service")
	raw, err := os.ReadFile(unitPath)
	if err != nil {
		t.Fatal(err)
	}
	unit := parseUnit(t, string(raw))

	t.Run("restart policy", func(t *testing.T) {
		if got := unit["Service.RestartPreventExitStatus"]; got != strconv.Itoa(exitInvalid) {
			t.Errorf("RestartPreventExitStatus=%q, want %d: a config error must not restart forever", got, exitInvalid)
		}
		if _, ok := unit["Service.StartLimitIntervalSec"]; ok {
			t.Error("StartLimitIntervalSec belongs in [Unit], not [Service]")
		}
		if got := unit["Service.MemoryDenyWriteExecute"]; got == "yes" {
			t.Error("MemoryDenyWriteExecute=yes breaks health checks that run a JIT")
		}
		for _, key := range []string{"Service.MemoryMax", "Service.TasksMax"} {
			if unit[key] == "" {
				t.Errorf("%s is not set", key)
			}
		}
	})

	t.Run("systemd-analyze verify", func(t *testing.T) {
		analyze, err := exec.LookPath("systemd-analyze")
		if err != nil {
			t.Skip("systemd-analyze is not installed")
		}
		// verify wants the ExecStart binary to exist: point it at a real one.
		dir := t.TempDir()
		self, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		patched := strings.ReplaceAll(string(raw), "/usr/local/bin/heartbeat", self)
		path := filepath.Join(dir, "heartbeat.service")
		if err := os.WriteFile(path, []byte(patched), 0o644); err != nil {
			t.Fatal(err)
		}
		// --man=no: the man page is installed by make install, not here.
		cmd := exec.Command(analyze, "verify", "--man=no", path)
		out, err := cmd.CombinedOutput()
		if err != nil || len(strings.TrimSpace(string(out))) > 0 {
			t.Errorf("systemd-analyze verify: %v\n%s", err, out)
		}
	})

	t.Run("command line", func(t *testing.T) {
		bins := buildBinaries(t)
		args := strings.Fields(unit["Service.ExecStart"])
		if len(args) < 2 || args[0] != "/usr/local/bin/heartbeat" || args[1] != "run" {
			t.Fatalf("ExecStart=%q, want /usr/local/bin/heartbeat run ...", unit["Service.ExecStart"])
		}
		// The same flags, with validate and the bundled example.
		args = append([]string{"validate"}, args[2:]...)
		for i := range args {
			if args[i] == "/etc/heartbeat/heartbeat.yaml" {
				args[i] = filepath.Join(root, "examples", "heartbeat.yaml")
			}
		}
		args = append(args, "--plugin-dir", bins.pluginDir)
		_, stderr, code := runCLI(t, bins, nil, args...)
		if code != exitOK {
			t.Errorf("heartbeat %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
		}
	})
}

// parseUnit reads a systemd unit file into "Section.Key" -> value (the last
// one wins, as for most keys).
func parseUnit(t *testing.T, text string) map[string]string {
	t.Helper()
	out := map[string]string{}
	section := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.Trim(line, "[]")
		default:
			key, value, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("unit line %q is not KEY=VALUE", line)
			}
			out[section+"."+strings.TrimSpace(key)] = strings.TrimSpace(value)
		}
	}
	return out
}
