//go:build unix

package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// coreOnlyModules are the core's own dependencies: a plugin's build list
// holds none of them, nor the core module itself.
var coreOnlyModules = []string{"github.com/prometheus/", "go.yaml.in/yaml", "github.com/netresearch/go-cron"}

// checkNoCoreModules fails when `go list -m all` in dir lists a module
// only the core needs.
func checkNoCoreModules(t *testing.T, dir string, env []string) {
	t.Helper()
	out := scaffoldGo(t, dir, env, "list", "-m", "all")
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		mod := fields[0]
		if mod == "github.com/seed-e9b80cf6/heartbeat" {
			t.Errorf("%s: the plugin depends on the core module: %s", dir, line)
		}
		for _, core := range coreOnlyModules {
			if strings.HasPrefix(mod, core) {
				t.Errorf("%s: the plugin depends on %s, which only the core needs", dir, line)
			}
		}
	}
	if !strings.Contains(out, "github.com/seed-e9b80cf6/heartbeat/plugins/sdk") || !strings.Contains(out, "github.com/hashicorp/go-plugin") {
		t.Errorf("%s: go list -m all lacks the SDK or go-plugin:\n%s", dir, out)
	}
}

// scaffoldGo runs the go command in dir, with a generous bound.
func scaffoldGo(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	return scaffoldRun(t, dir, env, "go", args...)
}

// scaffoldRun runs name in dir and returns its output; it fails the test
// when the command fails or takes more than 5 minutes.
func scaffoldRun(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s %s in %s: %v\n%s", name, strings.Join(args, " "), dir, err, out.String())
		}
	case <-time.After(5 * time.Minute):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%s %s in %s: not done within 5 minutes\n%s", name, strings.Join(args, " "), dir, out.String())
	}
	return out.String()
}

// A scaffolded plugin builds, passes its tests, depends on nothing of the
// core, and receives a beat from the real core.
func TestPluginsNewScaffold(t *testing.T) {
	bins := buildBinaries(t)
	root := repoRoot(t)
	base := t.TempDir()
	dir := filepath.Join(base, "heartbeat-target-scaffolded")
	out, stderr, code := runCLI(t, bins, nil, "plugins", "new", "scaffolded", "--dir", dir, "--sdk", filepath.Join(root, "plugins", "sdk"))
	if code != 0 {
		t.Fatalf("plugins new: exit %d\n%s%s", code, out, stderr)
	}
	for _, f := range []string{"go.mod", "main.go", "target.go", "target_test.go", "Makefile", "README.md", ".gitignore"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("plugins new wrote no %s: %v", f, err)
		}
	}
	env := []string{"GOFLAGS=-mod=mod", "GOWORK=off"}
	scaffoldGo(t, dir, env, "mod", "tidy")
	if _, err := os.Stat(filepath.Join(dir, "go.sum")); err != nil {
		t.Fatalf("go mod tidy wrote no go.sum: %v", err)
	}
	scaffoldGo(t, dir, env, "vet", "./...")
	if testOut := scaffoldGo(t, dir, env, "test", "-count=1", "./..."); !strings.Contains(testOut, "ok ") {
		t.Errorf("go test:\n%s", testOut)
	}
	scaffoldRun(t, dir, env, "make", "build")
	bin := filepath.Join(dir, "heartbeat-target-scaffolded")
	info, err := os.Stat(bin)
	if err != nil {
		t.Fatalf("make build: %v", err)
	}
	if info.Mode().Perm()&0o022 != 0 {
		t.Errorf("make build left the binary writable by group or others: %v", info.Mode())
	}
	checkNoCoreModules(t, dir, env)

	// The binary, in a plugin directory, takes a beat from the core.
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ping/abc" {
			hits.Add(1)
		}
	}))
	defer srv.Close()
	pluginDir := filepath.Join(base, "plugins")
	if err := os.Mkdir(pluginDir, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pluginDir, "heartbeat-target-scaffolded"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, `
targets:
  mine: { plugin: scaffolded, config: { url: "`+srv.URL+`/ping/abc" } }
heartbeats:
  - { name: hb, frequency: every 1 hour, targets: [mine] }
`)
	out, stderr, code = runCLI(t, bins, nil, "send", "--config", cfg, "--plugin-dir", pluginDir)
	if code != 0 || hits.Load() != 1 {
		t.Errorf("send: exit %d, %d requests, want 0 and 1\n%s%s", code, hits.Load(), out, stderr)
	}
}

func TestPluginsNewRefuses(t *testing.T) {
	bins := buildBinaries(t)
	full := t.TempDir()
	if err := os.WriteFile(filepath.Join(full, "keep.txt"), []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"a name with capitals", []string{"MyTarget"}, exitInvalid, "use lowercase letters, digits, - and _"},
		{"a name with a slash", []string{"a/b"}, exitInvalid, "use lowercase letters"},
		{"a directory that is not empty", []string{"fine", "--dir", full}, exitFailed, "is not empty"},
		{"a module path with a space", []string{"fine", "--dir", filepath.Join(t.TempDir(), "x"), "--module", "example.com/a b"}, exitInvalid, "--module"},
		{"an SDK that is not one", []string{"fine", "--dir", filepath.Join(t.TempDir(), "y"), "--sdk", t.TempDir()}, exitInvalid, "--sdk"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"plugins", "new"}, tt.args...)
			_, stderr, code := runCLI(t, bins, nil, args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, want %d and %q\n%s", code, tt.code, tt.want, stderr)
			}
		})
	}
	if data, err := os.ReadFile(filepath.Join(full, "keep.txt")); err != nil || string(data) != "mine" {
		t.Errorf("the existing directory was changed: %q, %v", data, err)
	}
	entries, _ := os.ReadDir(full)
	if len(entries) != 1 {
		t.Errorf("files were added to a directory that was not empty: %d entries", len(entries))
	}
	// A bundled plugin's name is allowed, with a warning.
	_, stderr, code := runCLI(t, bins, nil, "plugins", "new", "http", "--dir", filepath.Join(t.TempDir(), "h"))
	if code != 0 || !strings.Contains(stderr, "bundled plugin") {
		t.Errorf("a bundled name: exit %d\n%s", code, stderr)
	}
}

// examples/custom-target, a plugin in its own module, depends on nothing
// of the core.
func TestCustomTargetExampleHasNoCoreModules(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	checkNoCoreModules(t, filepath.Join(repoRoot(t), "examples", "custom-target"), []string{"GOWORK=off"})
}

// Without --sdk the module is pointed at the checkout around the current
// directory; outside any checkout it gets no replace line and the user is
// told what to run.
func TestPluginsNewFindsTheSDK(t *testing.T) {
	bins := buildBinaries(t)
	root := repoRoot(t)
	tests := []struct {
		name, wd    string
		wantReplace string // "" for none
		wantNote    string
	}{
		{"inside a checkout", filepath.Join(root, "docs"), "replace github.com/seed-e9b80cf6/heartbeat/plugins/sdk => " + filepath.Join(root, "plugins", "sdk"), ""},
		{"outside any checkout", t.TempDir(), "", "go mod edit -replace=github.com/seed-e9b80cf6/heartbeat/plugins/sdk="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "p")
			cmd := exec.Command(bins.core, "plugins", "new", "found", "--dir", dir)
			cmd.Dir = tt.wd
			var stderr syncBuffer
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("plugins new: %v\n%s", err, stderr.String())
			}
			mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
			if err != nil {
				t.Fatal(err)
			}
			var replaces []string
			for _, line := range strings.Split(string(mod), "\n") {
				if strings.HasPrefix(line, "replace ") {
					replaces = append(replaces, line)
				}
			}
			switch {
			case tt.wantReplace == "" && len(replaces) > 0:
				t.Errorf("go.mod has %q, want no replace line", replaces)
			case tt.wantReplace != "" && (len(replaces) != 1 || replaces[0] != tt.wantReplace):
				t.Errorf("go.mod has %q, want %q", replaces, tt.wantReplace)
			}
			if !strings.Contains(stderr.String(), tt.wantNote) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantNote, stderr.String())
			}
		})
	}
}
