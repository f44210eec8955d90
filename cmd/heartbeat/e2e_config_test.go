//go:build unix

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// What `heartbeat validate` says about config files, numbers, variables
// and the places it looks for a config.
func TestValidateConfigEdgeCases(t *testing.T) {
	bins := buildBinaries(t)
	const hb = "heartbeats:\n  - { name: a, frequency: every 1 hour, targets: [web] }\n"
	tests := []struct {
		name     string
		config   string
		env      []string
		wantCode int
		want     []string
		notWant  []string
	}{
		{"bare seconds at the target", "targets:\n  web: { plugin: log, timeout: 15, retry_backoff: 2 }\n" + hb, nil, exitOK, []string{"is valid"}, nil},
		{"retries out of range", "targets:\n  web:\n    plugin: log\n    retries: 11\n" + hb, nil, exitInvalid,
			[]string{":4:14:", `target "web": retries must be between 0 and 10, got 11`}, []string{"not a valid number"}},
		{"listen port out of range", "listen: localhost:99999\ntargets:\n  web: { plugin: log }\n" + hb, nil, exitInvalid,
			[]string{":1:19:", "the port must be between 1 and 65535, got 99999", "fix: write host:port"}, nil},
		{"empty required variable", "targets:\n  web:\n    plugin: http\n    config:\n      url: https://status.example.com/ping/${NOPE_TOKEN:?set the push token}\n" + hb,
			[]string{"NOPE_TOKEN="}, exitInvalid, []string{":5:44:", "NOPE_TOKEN is empty: set the push token"}, []string{"/ping/\n"}},
		{"required variable never shows its value", "targets:\n  web: { plugin: log, timeout: \"${NOPE_TOKEN:?set it}\" }\n" + hb,
			[]string{"NOPE_TOKEN=f00dfeed-secret-value"}, exitInvalid, []string{"is not a duration"}, []string{"f00dfeed"}},
		{"plugin typo", "targets:\n  web: { plugin: htp, config: { url: \"https://status.example.com/ping\" } }\n" + hb, nil, exitInvalid,
			[]string{`unknown plugin "htp"`, `did you mean "http"?`, "available plugins:"}, nil},
		{"plugin limits", "plugins:\n  log: { memory_limit: 256MiB, cpu_limit: 1h }\ntargets:\n  web: { plugin: log }\n" + hb, nil, exitOK, []string{"is valid"}, nil},
		{"plugin limit too small", "plugins:\n  log: { memory_limit: 1MiB }\ntargets:\n  web: { plugin: log }\n" + hb, nil, exitInvalid,
			[]string{":2:24:", `plugin "log": memory_limit must be between 16MiB and 1TiB, got 1MiB`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := writeConfig(t, tt.config)
			stdout, stderr, code := runCLI(t, bins, tt.env, "validate", "--config", cfg, "--plugin-dir", bins.pluginDir)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, stdout, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout+stderr, w) {
					t.Errorf("output lacks %q:\nstdout:\n%s\nstderr:\n%s", w, stdout, stderr)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(stdout+stderr, w) {
					t.Errorf("output holds %q:\nstdout:\n%s\nstderr:\n%s", w, stdout, stderr)
				}
			}
		})
	}
}

// A Butler SOS file whose ignored sections share values through anchors and
// aliases is accepted as it is; an alias bomb is refused with a clear error.
func TestValidateButlerSOSWithAnchors(t *testing.T) {
	bins := buildBinaries(t)
	dir := filepath.Join(repoRoot(t), "core", "config", "testdata")
	stdout, stderr, code := runCLI(t, bins, nil, "validate", "--config", filepath.Join(dir, "good", "butler-sos-anchors.yaml"), "--plugin-dir", bins.pluginDir)
	if code != exitOK || !strings.Contains(stdout, "heartbeat butler-sos: every 1 hour -> remoteURL") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	_, stderr, code = runCLI(t, bins, nil, "validate", "--config", filepath.Join(dir, "bad", "butler-alias-bomb.yaml"), "--plugin-dir", bins.pluginDir)
	if code != exitInvalid || !strings.Contains(stderr, "alias bomb") {
		t.Errorf("alias bomb: exit %d\n%s", code, stderr)
	}
}

// --config naming a FIFO (directly or through a symlink) is refused at
// once, by every command that reads the config, instead of blocking.
func TestConfigThatIsNotARegularFile(t *testing.T) {
	bins := buildBinaries(t)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "heartbeat.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	link := filepath.Join(dir, "link.yaml")
	if err := os.Symlink(fifo, link); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"validate fifo", []string{"validate", "--config", fifo}},
		{"validate symlink to fifo", []string{"validate", "--config", link}},
		{"send fifo", []string{"send", "--config", fifo}},
		{"run fifo", []string{"run", "--config", fifo}},
		{"validate device", []string{"validate", "--config", "/dev/zero"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// runCLI fails the test if heartbeat does not finish.
			_, stderr, code := runCLI(t, bins, nil, append(tt.args, "--plugin-dir", bins.pluginDir)...)
			if code != exitInvalid || !strings.Contains(stderr, "not a regular file") {
				t.Errorf("exit %d, want %d and \"not a regular file\":\n%s", code, exitInvalid, stderr)
			}
		})
	}
}

// A config that is a symlink to a file that is no config of ours (here a
// stand-in for /etc/shadow) gets errors that never repeat its lines.
func TestConfigSymlinkToForeignFileIsNotEchoed(t *testing.T) {
	bins := buildBinaries(t)
	dir := t.TempDir()
	hash := "$6$rounds=5000$s4ltS4LT$" + strings.Repeat("x9Y8", 20)
	foreign := filepath.Join(dir, "shadow")
	var b strings.Builder
	for _, user := range []string{"root", "daemon", "alice", "bob"} {
		fmt.Fprintf(&b, "%s:%s:19700:0:99999:7:::\n", user, hash)
	}
	b.WriteString("api_secret_key_" + hash + ": 1\n")
	if err := os.WriteFile(foreign, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "heartbeat.yaml")
	if err := os.Symlink(foreign, link); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runCLI(t, bins, nil, "validate", "--config", link, "--plugin-dir", bins.pluginDir)
	if code != exitInvalid {
		t.Errorf("exit %d, want %d", code, exitInvalid)
	}
	out := stdout + stderr
	if strings.Contains(out, hash[:40]) || strings.Contains(out, strings.Repeat("x9Y8", 10)) {
		t.Errorf("the file's lines are echoed:\n%s", out)
	}
}

// The size cap holds 20,000 heartbeats in block style by default, and
// --max-config-size changes it.
func TestConfigSizeCap(t *testing.T) {
	bins := buildBinaries(t)
	var b strings.Builder
	b.WriteString("targets:\n  web:\n    plugin: log\nheartbeats:\n")
	for i := 0; i < 20000; i++ {
		fmt.Fprintf(&b, "  - name: service-%05d\n    frequency: every 1 hour\n    targets:\n      - web\n", i)
	}
	if b.Len() <= 1<<20 {
		t.Fatalf("the config is only %d bytes", b.Len())
	}
	cfg := writeConfig(t, b.String())
	stdout, stderr, code := runCLI(t, bins, nil, "validate", "--config", cfg, "--plugin-dir", bins.pluginDir)
	if code != exitOK || !strings.Contains(stdout, "heartbeat service-19999:") {
		t.Errorf("20,000 heartbeats: exit %d\n%s", code, tail(stderr))
	}
	_, stderr, code = runCLI(t, bins, nil, "validate", "--config", cfg, "--plugin-dir", bins.pluginDir, "--max-config-size", "1MiB")
	if code != exitInvalid || !strings.Contains(stderr, "larger than 1MiB") || !strings.Contains(stderr, "--max-config-size") {
		t.Errorf("--max-config-size 1MiB: exit %d\n%s", code, stderr)
	}
	_, stderr, code = runCLI(t, bins, nil, "validate", "--config", cfg, "--plugin-dir", bins.pluginDir, "--max-config-size", "5")
	if code != exitInvalid || !strings.Contains(stderr, "between 1KiB and 256MiB") {
		t.Errorf("--max-config-size 5: exit %d\n%s", code, stderr)
	}
}

func tail(s string) string {
	if len(s) > 2000 {
		return "…" + s[len(s)-2000:]
	}
	return s
}

// Without --config, $HEARTBEAT_CONFIG or a file in the default places, the
// error names the places searched and --config.
func TestMissingDefaultConfig(t *testing.T) {
	bins := buildBinaries(t)
	if _, err := os.Stat("/etc/heartbeat/heartbeat.yaml"); err == nil {
		t.Skip("/etc/heartbeat/heartbeat.yaml exists on this machine")
	}
	dir := t.TempDir()
	cmd := exec.Command(bins.core, "validate", "--plugin-dir", bins.pluginDir)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, ConfigEnv+"=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatal("heartbeat validate did not finish")
	}
	if code := cmd.ProcessState.ExitCode(); code != exitInvalid {
		t.Errorf("exit %d, want %d", code, exitInvalid)
	}
	realDir, _ := filepath.EvalSymlinks(dir)
	for _, w := range []string{"--config", "$" + ConfigEnv, "/etc/heartbeat/heartbeat.yaml", "heartbeat.yaml"} {
		if !strings.Contains(stderr.String(), w) {
			t.Errorf("error lacks %q:\n%s", w, stderr.String())
		}
	}
	if !strings.Contains(stderr.String(), dir) && !strings.Contains(stderr.String(), realDir) {
		t.Errorf("error does not name the working directory %s:\n%s", dir, stderr.String())
	}
}
