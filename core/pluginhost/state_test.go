//go:build unix

package pluginhost

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

func TestPluginState(t *testing.T) {
	dir := buildLogPlugin(t)
	clock := &fakeNow{t: time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)}
	host := New(Options{Now: clock.now})
	t.Cleanup(host.Stop)
	ctx := context.Background()
	f := Found{Name: "log", Path: filepath.Join(dir, sdk.BinaryPrefix+"log")}
	p, err := host.Start(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	if st := p.State(); st.State != StateRunning || st.Restarts != 0 || !st.NextRestart.IsZero() || st.Detail != "" || st.Name != "log" {
		t.Fatalf("a started plugin: %+v", st)
	}

	// Killed: restarting, and once the host noticed, with its next start.
	if err := syscall.Kill(p.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the plugin is seen exited", func() bool { return !p.Running() })
	if st := p.State(); st.State != StateRestarting || st.Detail == "" {
		t.Errorf("a killed plugin: %+v", st)
	}
	_, _, _ = p.ensure() // what the supervisor does every second
	st := p.State()
	if st.State != StateRestarting || !st.NextRestart.After(clock.now()) || !strings.Contains(st.Detail, "exited") {
		t.Errorf("a crashed plugin waiting for its backoff: %+v", st)
	}

	// Refused: a binary that does not match its pin.
	pinned := f
	pinned.SHA256 = make([]byte, 32)
	host2 := New(Options{Now: clock.now})
	t.Cleanup(host2.Stop)
	if _, err := host2.StartLimited(ctx, pinned, Limits{}); err == nil {
		t.Fatal("a binary that does not match its pin started")
	}
	p2, _ := host2.Plugin("log")
	if st := p2.State(); st.State != StateRefused || !strings.Contains(st.Detail, "pinned") || !st.NextRestart.IsZero() {
		t.Errorf("a refused plugin: %+v", st)
	}

	host.Stop()
	if st := p.State(); st.State != StateStopped {
		t.Errorf("a stopped plugin: %+v", st)
	}
}

func TestBrokenPluginState(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a process")
	}
	path := filepath.Join(t.TempDir(), sdk.BinaryPrefix+"broken")
	if err := os.WriteFile(path, []byte("#!/bin/sh\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	clock := &fakeNow{t: time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)}
	host := New(Options{Now: clock.now})
	t.Cleanup(host.Stop)
	if _, err := host.Start(context.Background(), Found{Name: "broken", Path: path}); err == nil {
		t.Fatal("a broken plugin started")
	}
	p, _ := host.Plugin("broken")
	st := p.State()
	if st.State != StateRestarting || !st.NextRestart.Equal(clock.now().Add(restartBackoffMin)) || !strings.Contains(st.Detail, "cannot start plugin broken") {
		t.Errorf("a plugin that fails to start: %+v", st)
	}
}
