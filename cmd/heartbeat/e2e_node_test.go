//go:build unix

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// End-to-end tests of examples/node-target, a target plugin written in
// Node.js that speaks go-plugin's handshake and the gRPC contract without
// the Go SDK: the real core runs it against HTTP servers on 127.0.0.1.
// They need node (20 or later) and npm, and npm needs the registry (or its
// cache) to install the plugin's dependencies; without them they skip.

// nodePluginFile is the example's entry script, named as plugins are.
const nodePluginFile = "heartbeat-target-webhook-json"

// installNodePlugin copies the example into a fresh plugin directory,
// installs its locked dependencies there with `npm ci` and returns the
// directory.
func installNodePlugin(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: installs the Node.js plugin's dependencies")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("the Node.js example plugin needs node (Node.js 20 or later) on PATH: not found")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skip("the Node.js example plugin needs npm on PATH to install its dependencies: not found")
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		t.Skipf("node --version failed: %v", err)
	}
	major, _ := strconv.Atoi(strings.SplitN(strings.TrimPrefix(strings.TrimSpace(string(out)), "v"), ".", 2)[0])
	if major < 20 {
		t.Skipf("the Node.js example plugin needs Node.js 20 or later, found %s", strings.TrimSpace(string(out)))
	}

	src := filepath.Join(repoRoot(t), "examples", "node-target")
	dir := filepath.Join(t.TempDir(), "plugins")
	copyTree(t, src, dir, func(rel string) bool {
		return rel == "node_modules" || rel == "test" || rel == "README.md" || rel == ".gitignore"
	})

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--omit=dev")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "npm_config_update_notifier=false", "npm_config_loglevel=error")
	if b, err := cmd.CombinedOutput(); err != nil {
		if ctx.Err() != nil || npmNetworkFailure.Match(b) {
			t.Skipf("npm ci could not fetch the Node.js plugin's dependencies (no network or registry?): %v: %s", err, networkLine(b))
		}
		t.Fatalf("npm ci in %s: %v\n%s", dir, err, b)
	}
	// heartbeat refuses a plugin that others can change; a umask of 002
	// would otherwise leave the files group-writable.
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink != 0 {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return os.Chmod(path, info.Mode().Perm()&^0o022)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// npmNetworkFailure matches npm's errors for a registry it cannot reach.
var npmNetworkFailure = regexp.MustCompile(`ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|network|proxy`)

// networkLine is the first line of npm's output that names the network
// problem.
func networkLine(out []byte) string {
	for _, line := range strings.Split(string(out), "\n") {
		if npmNetworkFailure.MatchString(line) {
			return strings.TrimSpace(line)
		}
	}
	return "timed out"
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// copyTree copies the regular files and directories under src to dst,
// leaving out the top-level entries skip names.
func copyTree(t *testing.T, src, dst string, skip func(rel string) bool) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if rel != "." && !strings.Contains(rel, string(filepath.Separator)) && skip(rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type().IsRegular():
			info, err := d.Info()
			if err != nil {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(target, b, info.Mode().Perm()&^0o022)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("copying %s: %v", src, err)
	}
}

// nodePluginPids lists the running processes of the plugin script in dir
// (their executable is node, so the script is found in the command line).
func nodePluginPids(t *testing.T, dir string) []int {
	t.Helper()
	script := filepath.Join(dir, nodePluginFile)
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip("needs /proc")
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		for _, arg := range bytes.Split(cmdline, []byte{0}) {
			if string(arg) == script {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

// webhookRequest is one request the webhook recorder received.
type webhookRequest struct {
	Method, Path, Auth, ContentType string
	Body                            map[string]any
	Raw                             string
}

// webhookRecorder is an HTTP server on 127.0.0.1 that records the beats
// POSTed to it and answers each path's status (200 by default).
type webhookRecorder struct {
	*httptest.Server
	mu       sync.Mutex
	requests []webhookRequest
	status   map[string]int
}

func newWebhookRecorder(t *testing.T, status map[string]int) *webhookRecorder {
	t.Helper()
	w := &webhookRecorder{status: status}
	w.Server = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		req := webhookRequest{Method: r.Method, Path: r.URL.Path, Auth: r.Header.Get("Authorization"), ContentType: r.Header.Get("Content-Type"), Raw: string(raw)}
		_ = json.Unmarshal(raw, &req.Body)
		w.mu.Lock()
		w.requests = append(w.requests, req)
		code := w.status[r.URL.Path]
		w.mu.Unlock()
		if code == 0 {
			code = http.StatusOK
		}
		if code/100 == 3 {
			rw.Header().Set("Location", "http://elsewhere.invalid/")
		}
		rw.WriteHeader(code)
		fmt.Fprintf(rw, "answer %d", code)
	}))
	t.Cleanup(w.Close)
	return w
}

func (w *webhookRecorder) Requests() []webhookRequest {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]webhookRequest(nil), w.requests...)
}

// beats returns the bodies of the beats of heartbeat with signal.
func (w *webhookRecorder) beats(heartbeat, signal string) []map[string]any {
	var out []map[string]any
	for _, r := range w.Requests() {
		if r.Body["heartbeat"] == heartbeat && r.Body["signal"] == signal {
			out = append(out, r.Body)
		}
	}
	return out
}

func TestNodePluginProtoInSync(t *testing.T) {
	root := repoRoot(t)
	want, err := os.ReadFile(filepath.Join(root, "proto", "heartbeat", "target", "v1", "target.proto"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(root, "examples", "node-target", "proto", "heartbeat", "target", "v1", "target.proto"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("examples/node-target/proto/heartbeat/target/v1/target.proto differs from proto/heartbeat/target/v1/target.proto: copy the contract again")
	}
	// Dependencies are pinned exactly and locked.
	pkg, err := os.ReadFile(filepath.Join(root, "examples", "node-target", "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	var manifest struct{ Dependencies map[string]string }
	if err := json.Unmarshal(pkg, &manifest); err != nil {
		t.Fatal(err)
	}
	for name, version := range manifest.Dependencies {
		if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(version) {
			t.Errorf("package.json: dependency %s is %q, want an exact version", name, version)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "examples", "node-target", "package-lock.json")); err != nil {
		t.Errorf("examples/node-target has no package-lock.json: %v", err)
	}
}

func TestNodePlugin(t *testing.T) {
	// Node.js and npm first: without them the test skips before building.
	pluginDir := installNodePlugin(t)
	bins := buildBinaries(t)
	// The core with only the Node.js plugin in its plugin directory.
	nodeBins := binaries{core: bins.core, pluginDir: pluginDir}

	t.Run("daemon delivers beats", func(t *testing.T) {
		hook := newWebhookRecorder(t, nil)
		const token = "tok-7f3e9a1c5b2d4e6f8a0b"
		const secretPath = "c0ffee00-1d2e-4f5a-8b9c-0d1e2f3a4b5c"
		cfg := writeConfig(t, fmt.Sprintf(`
targets:
  hook:
    plugin: webhook-json
    config: { url: "%s/hook/%s", token: %q }
heartbeats:
  - name: every-second
    frequency: every 1 sec
    targets: [hook]
  - name: failing
    frequency: every 1 sec
    targets: [hook]
    check: { command: [sh, -c, "echo broken; exit 3"], timeout: 30s }
`, hook.URL, secretPath, token))
		d := startDaemon(t, nodeBins, "--config", cfg, "--log-level", "debug")
		waitFor(t, 60*time.Second, "three beats and a failed check", func() bool {
			return len(hook.beats("every-second", "success")) >= 3 && len(hook.beats("failing", "fail")) >= 1
		})
		stopCleanly(t, d)

		for i, r := range hook.Requests() {
			if r.Method != http.MethodPost || r.Path != "/hook/"+secretPath {
				t.Errorf("request %d: %s %s, want POST /hook/%s", i, r.Method, r.Path, secretPath)
			}
			if r.Auth != "Bearer "+token {
				t.Errorf("request %d: Authorization %q, want the bearer token", i, r.Auth)
			}
			if r.ContentType != "application/json" {
				t.Errorf("request %d: Content-Type %q, want application/json", i, r.ContentType)
			}
			if r.Body == nil {
				t.Errorf("request %d: body is not a JSON object: %q", i, r.Raw)
				continue
			}
			if r.Body["target"] != "hook" {
				t.Errorf("request %d: target %v, want hook", i, r.Body["target"])
			}
			if seq, _ := r.Body["sequence"].(float64); seq < 1 {
				t.Errorf("request %d: sequence %v, want a number from 1", i, r.Body["sequence"])
			}
			if attempt, _ := r.Body["attempt"].(float64); attempt < 1 {
				t.Errorf("request %d: attempt %v, want a number from 1", i, r.Body["attempt"])
			}
			if s, _ := r.Body["scheduled_at"].(string); s == "" {
				t.Errorf("request %d: no scheduled_at", i)
			} else if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
				t.Errorf("request %d: scheduled_at %q: %v", i, s, err)
			}
		}
		// The start-up beat is the first of its heartbeat.
		seqs := map[float64]bool{}
		for _, b := range hook.beats("every-second", "success") {
			seqs[b["sequence"].(float64)] = true
		}
		for _, want := range []float64{1, 2, 3} {
			if !seqs[want] {
				t.Errorf("every-second: no beat with sequence %v among %v", want, seqs)
			}
		}
		starts := map[any]bool{}
		for _, b := range hook.beats("failing", "start") {
			starts[b["run_id"]] = true
		}
		for _, b := range hook.beats("failing", "fail") {
			if b["exit_code"] != float64(3) || b["log"] != "broken\n" {
				t.Errorf("fail beat: exit_code %v log %q, want 3 and %q", b["exit_code"], b["log"], "broken\n")
			}
			if msg, _ := b["message"].(string); msg == "" {
				t.Errorf("fail beat has no message: %v", b)
			}
			if lat, _ := b["check_latency_seconds"].(float64); lat <= 0 {
				t.Errorf("fail beat: check_latency_seconds %v, want > 0", b["check_latency_seconds"])
			}
			if id, _ := b["run_id"].(string); id == "" || !starts[id] {
				t.Errorf("fail beat: run_id %q matches no start beat (%v)", id, starts)
			}
		}
		out := d.stderr.String()
		// The plugin's hclog JSON lines are relayed at their level.
		if !strings.Contains(out, "[DEBUG] heartbeat.heartbeat-target-webhook-json: beat delivered") {
			t.Errorf("the plugin's debug log was not relayed as a debug line:\n%s", lastLines(out, 20))
		}
		assertNoSecret(t, out, token, secretPath)
		waitFor(t, 30*time.Second, "the plugin process to exit after the daemon", func() bool {
			return len(nodePluginPids(t, pluginDir)) == 0
		})
	})

	t.Run("plugin exits when the daemon is killed", func(t *testing.T) {
		hook := newWebhookRecorder(t, nil)
		cfg := writeConfig(t, fmt.Sprintf(`
targets:
  hook: { plugin: webhook-json, config: { url: "%s/hook" } }
heartbeats:
  - name: every-second
    frequency: every 1 sec
    targets: [hook]
`, hook.URL))
		d := startDaemon(t, nodeBins, "--config", cfg)
		waitFor(t, 60*time.Second, "a beat", func() bool { return len(hook.beats("every-second", "success")) >= 1 })
		if len(nodePluginPids(t, pluginDir)) == 0 {
			t.Fatal("no plugin process found while beats arrive")
		}
		_ = d.cmd.Process.Signal(syscall.SIGKILL)
		<-d.done
		waitFor(t, 30*time.Second, "the orphaned plugin process to exit", func() bool {
			return len(nodePluginPids(t, pluginDir)) == 0
		})
	})

	t.Run("validate reports every bad setting at its line", func(t *testing.T) {
		cfg := writeConfig(t, `targets:
  hook:
    plugin: webhook-json
    config:
      url: ftp://example.com/x
      token: 5
      timeout: soon
      colour: blue
  bare:
    plugin: webhook-json
heartbeats:
  - name: svc
    frequency: every 1 min
    targets: [hook, bare]
`)
		stdout, stderr, code := runCLI(t, nodeBins, nil, "validate", "--config", cfg, "--plugin-dir", pluginDir)
		if code != exitInvalid {
			t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitInvalid, stdout, stderr)
		}
		for _, want := range []string{
			cfg + `:5:7: target "hook" (plugin webhook-json): setting url: must start with http:// or https://`,
			cfg + `:6:7: target "hook" (plugin webhook-json): setting token: must be a string, not number`,
			cfg + `:7:7: target "hook" (plugin webhook-json): setting timeout: "soon" is not a duration; write e.g. "10s", "1m30s" or a number of seconds`,
			cfg + `:8:7: target "hook" (plugin webhook-json): setting colour: unknown setting; known settings: url, token, timeout`,
			`target "bare" (plugin webhook-json): setting url: is required`,
		} {
			if !strings.Contains(stderr, want) {
				t.Errorf("validate does not say\n  %s\nstderr:\n%s", want, stderr)
			}
		}
		if strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine ") {
			t.Errorf("crashed:\n%s", stderr)
		}
	})

	t.Run("answers map to delivery errors", func(t *testing.T) {
		const token = "tok-2b4d6f8a0c1e3a5c7e9b"
		tests := []struct {
			status int
			// want is in send's output; retried: whether the core tries again.
			want    string
			retried bool
		}{
			{http.StatusOK, "200 OK", false},
			{http.StatusBadRequest, "answered 400 Bad Request", false},
			{http.StatusUnauthorized, "check the token", false},
			{http.StatusNotFound, "check the url", false},
			{http.StatusFound, "redirects are not followed", false},
			{http.StatusTooManyRequests, "asks to slow down", false},
			{http.StatusServiceUnavailable, "answered 503 Service Unavailable", true},
		}
		for _, tt := range tests {
			t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
				path := fmt.Sprintf("/s/%d", tt.status)
				hook := newWebhookRecorder(t, map[string]int{path: tt.status})
				cfg := writeConfig(t, fmt.Sprintf(`
targets:
  hook: { plugin: webhook-json, config: { url: "%s%s", token: %q } }
heartbeats:
  - name: svc
    frequency: every 1 hour
    targets: [hook]
`, hook.URL, path, token))
				stdout, stderr, code := runCLI(t, nodeBins, nil, "send", "--config", cfg, "--plugin-dir", pluginDir)
				wantCode := exitFailed
				if tt.status == http.StatusOK {
					wantCode = exitOK
				}
				if code != wantCode {
					t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, wantCode, stdout, stderr)
				}
				if !strings.Contains(stdout, tt.want) {
					t.Errorf("stdout lacks %q:\n%s\nstderr:\n%s", tt.want, stdout, stderr)
				}
				n := len(hook.Requests())
				if tt.retried && n < 2 {
					t.Errorf("%d requests, want the beat retried", n)
				}
				if !tt.retried && n != 1 {
					t.Errorf("%d requests, want exactly 1 (not retried)", n)
				}
				assertNoSecret(t, stdout+stderr, token)
			})
		}
	})

	t.Run("plugins check passes", func(t *testing.T) {
		help, helpErr, _ := runCLI(t, nodeBins, nil, "plugins", "check", "--help")
		if strings.Contains(help+helpErr, "not written yet") {
			t.Skip("heartbeat plugins check is not available in this build")
		}
		hook := newWebhookRecorder(t, nil)
		settings := fmt.Sprintf(`{"url": "%s/hook/c0ffee00-1d2e-4f5a", "token": "tok-9c8b7a6d5e4f3a2b1c0d"}`, hook.URL)
		script := filepath.Join(pluginDir, nodePluginFile)
		stdout, stderr, code := runCLI(t, nodeBins, nil, "plugins", "check", "--plugin-dir", pluginDir, "--settings", settings, script)
		if code != exitOK {
			t.Errorf("plugins check: exit code %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
		if regexp.MustCompile(`(?m)^FAIL `).MatchString(stdout) {
			t.Errorf("plugins check reports a failure:\n%s", stdout)
		}
		// The Node plugin implements only Beat: the core falls back to one
		// call per beat, and the suite says so without failing.
		if !regexp.MustCompile(`(?m)^WARN +beat\.stream`).MatchString(stdout) {
			t.Errorf("plugins check does not warn that the plugin has no Beats stream:\n%s", stdout)
		}
	})
}
