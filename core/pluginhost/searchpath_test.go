//go:build unix

package pluginhost

import (
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// plant writes a file named like plugin name into dir with mode.
func plant(t *testing.T, dir, name string, mode os.FileMode) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, sdk.BinaryPrefix+name)
	if err := os.WriteFile(path, []byte("#!/bin/sh\nexit 1\n"), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // past the umask
		t.Fatal(err)
	}
	return path
}

func TestSearchPathScan(t *testing.T) {
	root := t.TempDir()
	user, team, bundled := filepath.Join(root, "user"), filepath.Join(root, "team"), filepath.Join(root, "bundled")
	mine := plant(t, user, "mine", 0o755)
	userHTTP := plant(t, user, "http", 0o755)
	brokenLog := plant(t, user, "log", 0o644) // not executable: it still wins
	teamHTTP := plant(t, team, "http", 0o755)
	plant(t, team, "extra", 0o755)
	bundledHTTP := plant(t, bundled, "http", 0o755)
	bundledLog := plant(t, bundled, "log", 0o755)
	plant(t, bundled, "healthchecks", 0o755)

	sp := SearchPath{
		{Path: user, From: "--plugin-dir"},
		{Path: team, From: "--plugin-dir"},
		{Path: user + "/.", From: "$HEARTBEAT_PLUGIN_DIR"}, // the same directory again: searched once
		{Path: bundled, From: "bundled", Bundled: true},
	}
	c, err := sp.Scan()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Path.String(), strings.Join([]string{user, team, bundled}, ", "); got != want {
		t.Errorf("Path = %s, want %s", got, want)
	}
	if got, want := c.Names(), []string{"extra", "healthchecks", "http", "mine"}; !slices.Equal(got, want) {
		t.Errorf("Names = %v, want %v (bundled plugins stay usable next to the user's)", got, want)
	}
	tests := []struct {
		name    string
		path    string // "" when it does not resolve to a usable plugin
		shadows []string
		why     string // WhyNotFound contains it
	}{
		{name: "mine", path: mine},
		{name: "http", path: userHTTP, shadows: []string{teamHTTP, bundledHTTP}},
		{name: "extra", path: filepath.Join(team, sdk.BinaryPrefix+"extra")},
		{name: "healthchecks", path: filepath.Join(bundled, sdk.BinaryPrefix+"healthchecks")},
		{name: "log", shadows: []string{bundledLog}, why: brokenLog + " is not executable: run chmod +x " + brokenLog + "; it hides " + bundledLog},
		{name: "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, ok := c.Lookup(tt.name)
			if ok != (tt.path != "") || f.Path != tt.path {
				t.Errorf("Lookup = %+v, %v; want %s", f, ok, tt.path)
			}
			var shadows []string
			for _, s := range c.Shadows(tt.name) {
				shadows = append(shadows, s.Path)
				if want := tt.path; want != "" && s.By != want {
					t.Errorf("%s shadowed by %s, want %s", s.Path, s.By, want)
				}
			}
			if !slices.Equal(shadows, tt.shadows) {
				t.Errorf("Shadows = %v, want %v", shadows, tt.shadows)
			}
			if why := c.WhyNotFound(tt.name); (tt.why == "") != (why == "") || !strings.Contains(why, tt.why) {
				t.Errorf("WhyNotFound = %q, want %q", why, tt.why)
			}
		})
	}
	if d, ok := c.DirOf(bundledLog); ok {
		t.Errorf("a shadowed file has a directory in the catalog: %+v", d)
	}
	if d, ok := c.DirOf(userHTTP); !ok || d.Path != user || d.Bundled {
		t.Errorf("DirOf(%s) = %+v, %v", userHTTP, d, ok)
	}
	if bundledShadows := c.Shadows("http")[1]; !bundledShadows.Dir.Bundled {
		t.Errorf("the bundled http is not marked bundled: %+v", bundledShadows)
	}
}

func TestSearchPathDirectories(t *testing.T) {
	root := t.TempDir()
	user := filepath.Join(root, "user")
	plant(t, user, "mine", 0o755)
	missing := filepath.Join(root, "missing")
	tests := []struct {
		name  string
		sp    SearchPath
		names []string
		err   []string
	}{
		{name: "a missing bundled directory is left out",
			sp: SearchPath{{Path: user, From: "--plugin-dir"}, {Path: missing, From: "bundled", Bundled: true}}, names: []string{"mine"}},
		{name: "a missing user directory is an error naming where it was set",
			sp:  SearchPath{{Path: missing, From: "$HEARTBEAT_PLUGIN_DIR"}, {Path: user, From: "bundled", Bundled: true}},
			err: []string{missing, "($HEARTBEAT_PLUGIN_DIR)", "no such file or directory", "create it or correct the path"}},
		{name: "only a missing bundled directory",
			sp:  SearchPath{{Path: missing, From: "bundled", Bundled: true}},
			err: []string{"no plugin directory", missing, "plugin_dirs", "--plugin-dir", "$HEARTBEAT_PLUGIN_DIR"}},
		{name: "nothing", err: []string{"no plugin directory", "plugin_dirs"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tt.sp.Scan()
			if len(tt.err) > 0 {
				if err == nil {
					t.Fatalf("no error; found %v", c.Names())
				}
				for _, w := range tt.err {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not contain %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(c.Names(), tt.names) {
				t.Errorf("Names = %v, want %v", c.Names(), tt.names)
			}
		})
	}
}

// buildLogPluginVersion builds plugins/log with version v.
func buildLogPluginVersion(t *testing.T, out, v string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-ldflags", "-X github.com/seed-e9b80cf6/heartbeat/plugins/sdk.version="+v, "-o", out, "github.com/seed-e9b80cf6/heartbeat/plugins/log")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
}

// replaceFile puts a copy of src at dst as an installer does: a new file
// renamed over the old one.
func replaceFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	tmp := dst + ".new~"
	if err := os.WriteFile(tmp, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		t.Fatal(err)
	}
}

func TestUpgradeReplacedBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs plugin binaries")
	}
	builds := t.TempDir()
	v1, v2 := filepath.Join(builds, "v1"), filepath.Join(builds, "v2")
	buildLogPluginVersion(t, v1, "1.0.0-test")
	buildLogPluginVersion(t, v2, "2.0.0-test")
	dir := t.TempDir()
	path := filepath.Join(dir, sdk.BinaryPrefix+"log")
	replaceFile(t, v1, path)
	f := Found{Name: "log", Path: path}

	logs := &syncBuffer{}
	host := New(Options{Logger: hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Debug})})
	t.Cleanup(host.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), failsafe)
	defer cancel()
	p, err := host.Start(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := host.Configure(ctx, p, "a", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	beat := func() error {
		_, err := host.Beat(ctx, "a", sdk.Beat{Heartbeat: "svc", Signal: sdk.SignalSuccess, Sequence: 1, ScheduledAt: time.Now()})
		return err
	}
	var checked []string
	check := func(f Found) error {
		checked = append(checked, f.Path)
		return CheckPin(f)
	}
	firstPid := p.Pid()

	// Unchanged, then the same contents written again: nothing happens.
	for _, step := range []string{"unchanged", "the same contents again"} {
		if step != "unchanged" {
			later := time.Now().Add(time.Hour)
			replaceFile(t, v1, path)
			_ = os.Chtimes(path, later, later)
		}
		if changed, err := host.Upgrade(ctx, f, Limits{}, check); changed || err != nil {
			t.Fatalf("%s: Upgrade = %v, %v; want nothing done", step, changed, err)
		}
		if p.Pid() != firstPid || len(checked) != 0 {
			t.Fatalf("%s: pid %d (was %d), checked %v", step, p.Pid(), firstPid, checked)
		}
	}

	// Replaced by another build: a new process of it takes over, the
	// instance configured on it, the old process ended.
	replaceFile(t, v2, path)
	changed, err := host.Upgrade(ctx, f, Limits{}, check)
	if !changed || err != nil {
		t.Fatalf("Upgrade after a replacement = %v, %v", changed, err)
	}
	if len(checked) != 1 {
		t.Errorf("the new binary was checked %d times, want once", len(checked))
	}
	secondPid := p.Pid()
	if secondPid == 0 || secondPid == firstPid || p.Info().Version != "2.0.0-test" {
		t.Errorf("after the upgrade: pid %d (was %d), version %q", secondPid, firstPid, p.Info().Version)
	}
	waitFor(t, "the old process to end", func() bool { return processGone(firstPid) })
	if err := beat(); err != nil {
		t.Errorf("beat after the upgrade: %v", err)
	}
	if !strings.Contains(logs.String(), "plugin binary replaced") || !strings.Contains(logs.String(), "2.0.0-test") {
		t.Errorf("the upgrade is not logged with the new version:\n%s", logs.String())
	}
	if p.Restarts() != 0 {
		t.Errorf("Restarts = %d: an upgrade is not a crash", p.Restarts())
	}

	// Replaced by a binary that does not match the pin: refused, the
	// running process stays.
	pinned := f
	sum := sha256.Sum256([]byte("v2 is the one pinned"))
	pinned.SHA256 = sum[:]
	replaceFile(t, v1, path)
	changed, err = host.Upgrade(ctx, pinned, Limits{}, check)
	if changed || err == nil || !strings.Contains(err.Error(), "checksum does not match the pin") || !strings.Contains(err.Error(), "changed and the new one is refused") {
		t.Fatalf("Upgrade to a binary off its pin = %v, %v; want refused", changed, err)
	}
	if p.Pid() != secondPid {
		t.Errorf("a refused upgrade replaced the process: pid %d, want %d", p.Pid(), secondPid)
	}
	if err := beat(); err != nil {
		t.Errorf("beat after a refused upgrade: %v", err)
	}

	// Replaced by a binary that cannot serve (its Info.Name is wrong): the
	// old process stays too.
	if err := os.WriteFile(path+".sh", []byte("#!/bin/sh\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	replaceFile(t, path+".sh", path)
	changed, err = host.Upgrade(ctx, f, Limits{}, func(Found) error { return nil })
	if changed || err == nil || !strings.Contains(err.Error(), "cannot take over") {
		t.Fatalf("Upgrade to a broken binary = %v, %v; want an error", changed, err)
	}
	if p.Pid() != secondPid || beat() != nil {
		t.Errorf("a failed upgrade touched the running process: pid %d, want %d", p.Pid(), secondPid)
	}

	// A plugin the host does not run is not its business.
	if changed, err := host.Upgrade(ctx, Found{Name: "other", Path: path}, Limits{}, func(Found) error { return errors.New("not called") }); changed || err != nil {
		t.Errorf("Upgrade of an unknown plugin = %v, %v", changed, err)
	}
}
