package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// unitKeys reads a systemd unit into "Section.Key" -> values, in order.
func unitKeys(t *testing.T, path string) map[string][]string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.Trim(line, "[]")
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("%s: %q is not Key=value", path, line)
			}
			out[section+"."+k] = append(out[section+"."+k], v)
		}
	}
	return out
}

// TestPackagedUnit holds the packages' unit to examples/systemd's (the
// same hardening, restart policy and bounds) but for the paths and the
// user, and has systemd-analyze verify it.
func TestPackagedUnit(t *testing.T) {
	root := repoRootForTest(t)
	path := filepath.Join(root, packagedUnit)
	unit := unitKeys(t, path)
	example := unitKeys(t, filepath.Join(root, "examples", "systemd", "heartbeat.service"))

	want := map[string]string{
		"Service.ExecStart":                "/usr/bin/heartbeat run --config /etc/heartbeat/heartbeat.yaml --log-format json",
		"Service.User":                     "heartbeat",
		"Service.Group":                    "heartbeat",
		"Service.ReadOnlyPaths":            "/usr/lib/heartbeat /etc/heartbeat",
		"Service.RestartPreventExitStatus": "2",
		"Unit.StartLimitIntervalSec":       "0",
	}
	for k, v := range want {
		if got := unit[k]; !slices.Equal(got, []string{v}) {
			t.Errorf("%s=%q, want %q", k, got, v)
		}
	}
	// Everything else as in the example: DynamicUser gives way to the
	// package's user, the paths are the package's.
	differ := []string{"Service.ExecStart", "Service.ReadOnlyPaths", "Service.DynamicUser", "Service.User", "Service.Group"}
	for k, v := range example {
		if !slices.Contains(differ, k) && !slices.Equal(unit[k], v) {
			t.Errorf("%s=%q, but %q in examples/systemd/heartbeat.service", k, unit[k], v)
		}
	}
	for k := range unit {
		if _, ok := example[k]; !ok && !slices.Contains(differ, k) {
			t.Errorf("%s is not in examples/systemd/heartbeat.service", k)
		}
	}
	if _, ok := unit["Service.DynamicUser"]; ok {
		t.Error("DynamicUser: the package creates the user heartbeat")
	}

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	// verify wants the ExecStart binary to exist: point it at a real one.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	patched := filepath.Join(t.TempDir(), "heartbeat.service")
	if err := os.WriteFile(patched, []byte(strings.ReplaceAll(string(raw), "/usr/bin/heartbeat", self)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", "--man=no", patched).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
