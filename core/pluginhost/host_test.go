//go:build unix

package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// failsafe turns a hang into a failure; it never decides an outcome.
const failsafe = 20 * time.Second

// buildLogPlugin builds plugins/log as heartbeat-target-log in a new
// plugin directory.
func buildLogPlugin(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs a plugin binary")
	}
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, sdk.BinaryPrefix+"log"), "github.com/seed-e9b80cf6/heartbeat/plugins/log")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}

func processGone(pid int) bool {
	_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	return errors.Is(err, os.ErrNotExist)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(failsafe)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRealPluginLifecycle(t *testing.T) {
	dir := buildLogPlugin(t)
	found, err := Discover(dir)
	if err != nil {
		t.Fatal(err)
	}
	f, ok := Lookup(found, "log")
	if !ok {
		t.Fatalf("built plugin not discovered: %+v", found)
	}
	logs := &syncBuffer{}
	clock := &fakeNow{t: time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)}
	host := New(Options{Logger: hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Debug}), Now: clock.now})
	t.Cleanup(host.Stop)
	ctx := context.Background()

	p, err := host.Start(ctx, f)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if again, err := host.Start(ctx, f); err != nil || again != p || again.Pid() != p.Pid() {
		t.Errorf("starting a running plugin again should return it unchanged: %v", err)
	}
	info := p.Info()
	if info.Name != "log" || !info.Supports(sdk.SignalSuccess) || !info.Supports(sdk.SignalFail) || len(info.Settings) == 0 {
		t.Errorf("Info = %+v", info)
	}
	firstPid := p.Pid()
	if firstPid <= 0 || !p.Running() || processGone(firstPid) {
		t.Fatalf("pid %d, running %v: no live plugin process", firstPid, p.Running())
	}

	t.Run("configure", func(t *testing.T) {
		tests := []struct {
			instance  string
			settings  string
			wantDesc  string
			wantField string
		}{
			{"watch", `{"level":"warn"}`, "log at warn", ""},
			{"quiet", `{}`, "log at info", ""},
			{"bad-level", `{"level":"loud"}`, "", "level"},
			{"bad-key", `{"colour":"red"}`, "", "colour"},
		}
		for _, tc := range tests {
			t.Run(tc.instance, func(t *testing.T) {
				desc, err := host.Configure(ctx, p, tc.instance, []byte(tc.settings))
				if tc.wantField == "" {
					if err != nil || desc != tc.wantDesc {
						t.Errorf("Configure = %q, %v; want %q", desc, err, tc.wantDesc)
					}
					if info, ok := host.Info(tc.instance); !ok || info.Name != "log" {
						t.Errorf("Info(%s) = %+v, %v", tc.instance, info, ok)
					}
					return
				}
				var fes sdk.FieldErrors
				if !errors.As(err, &fes) || len(fes) != 1 || fes[0].Field != tc.wantField {
					t.Fatalf("Configure error = %#v; want field errors naming %s", err, tc.wantField)
				}
				if _, ok := host.Info(tc.instance); ok {
					t.Errorf("an instance with invalid settings is known to the host")
				}
			})
		}
	})

	beat := sdk.Beat{Heartbeat: "butler-sos", Signal: sdk.SignalSuccess, Sequence: 1, ScheduledAt: clock.now()}
	res, err := host.Beat(ctx, "watch", beat)
	if err != nil || res.Detail != "logged" {
		t.Fatalf("Beat = %+v, %v", res, err)
	}
	// The plugin's log line (hclog JSON on its stderr) reaches the core's log.
	waitFor(t, "the plugin's beat line is in the core's log", func() bool {
		return strings.Contains(logs.String(), "beat received") && strings.Contains(logs.String(), "butler-sos")
	})
	if _, err := host.Beat(ctx, "bad-level", beat); sdk.KindOf(err) != sdk.KindPermanent {
		t.Errorf("Beat to an unconfigured target: %v (kind %s), want permanent", err, sdk.KindOf(err))
	}

	// The plugin crashes.
	if err := syscall.Kill(firstPid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the host notices the exit", func() bool { return !p.Running() })
	_, err = host.Beat(ctx, "watch", beat)
	if err == nil || sdk.KindOf(err) != sdk.KindTemporary || !strings.Contains(err.Error(), "started again in") {
		t.Fatalf("Beat during the restart backoff = %v (kind %s); want a temporary error", err, sdk.KindOf(err))
	}
	if p.Restarts() != 0 || p.Running() {
		t.Fatalf("restarted before the backoff was over (restarts %d)", p.Restarts())
	}
	waitFor(t, "the crash to be logged", func() bool { return strings.Contains(logs.String(), "plugin process exited unexpectedly") })

	clock.add(restartBackoffMin)
	res, err = host.Beat(ctx, "watch", beat)
	if err != nil || res.Detail != "logged" {
		t.Fatalf("Beat after the backoff = %+v, %v", res, err)
	}
	if p.Restarts() != 1 {
		t.Errorf("Restarts = %d, want 1", p.Restarts())
	}
	secondPid := p.Pid()
	if secondPid == firstPid || secondPid <= 0 {
		t.Errorf("pid after restart %d (before %d)", secondPid, firstPid)
	}
	if !processGone(firstPid) {
		t.Errorf("the crashed process %d is still in /proc", firstPid)
	}
	// The new process was configured with every valid instance when it
	// started, not only on demand: call it directly, bypassing the host's
	// configure-again-on-demand path.
	rpc, err := p.live(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, instance := range []string{"watch", "quiet"} {
		if res, err := rpc.Beat(ctx, instance, beat); err != nil || res.Detail != "logged" {
			t.Errorf("instance %s after the restart: %+v, %v", instance, res, err)
		}
	}
	if _, err := rpc.Beat(ctx, "bad-level", beat); sdk.KindOf(err) != sdk.KindNotConfigured {
		t.Errorf("invalid instance after restart: %v; it must not be configured again", err)
	}
	if info := p.Info(); info.Name != "log" {
		t.Errorf("Info after restart = %+v", info)
	}

	host.Stop()
	if p.Running() || p.Pid() != 0 {
		t.Errorf("plugin still running after Stop")
	}
	if !processGone(secondPid) {
		t.Errorf("process %d is still in /proc after Stop", secondPid)
	}
	if _, err := host.Beat(ctx, "watch", beat); err == nil || sdk.KindOf(err) != sdk.KindPermanent {
		t.Errorf("Beat after Stop = %v; want a permanent error, not a new process", err)
	}
	if !processGone(secondPid) || p.Pid() != 0 {
		t.Errorf("a beat after Stop started a process")
	}
}

func TestStartBrokenPlugin(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a process")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, sdk.BinaryPrefix+"broken")
	// Exits at once without the go-plugin handshake.
	if err := os.WriteFile(path, []byte("#!/bin/sh\necho not a plugin >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	host := New(Options{})
	t.Cleanup(host.Stop)
	_, err := host.Start(context.Background(), Found{Name: "broken", Path: path})
	if err == nil {
		t.Fatal("Start of a binary that is no plugin succeeded")
	}
	if !strings.Contains(err.Error(), "cannot start plugin broken") || sdk.KindOf(err) != sdk.KindTemporary {
		t.Errorf("error = %v (kind %s)", err, sdk.KindOf(err))
	}
}
