//go:build unix

package pluginhost

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// startBeat starts a beat through the host and waits for its outcome;
// ok is false when the host declined to start it.
func startBeat(t *testing.T, host *Host, instance string, b sdk.Beat) (res sdk.Result, ok bool, err error) {
	t.Helper()
	type outcome struct {
		res sdk.Result
		err error
	}
	got := make(chan outcome, 2)
	_, ok = host.StartBeat(instance, b, time.Now().Add(failsafe), func(res sdk.Result, err error) { got <- outcome{res, err} })
	if !ok {
		return sdk.Result{}, false, nil
	}
	select {
	case o := <-got:
		return o.res, true, o.err
	case <-time.After(failsafe):
		t.Fatalf("StartBeat(%s): no outcome", instance)
	}
	return sdk.Result{}, false, nil
}

// The host starts a beat without waiting only for a configured instance
// of a running plugin whose stream has answered; otherwise Beat is the way.
func TestRealPluginStartBeat(t *testing.T) {
	dir := buildLogPlugin(t)
	found, err := Discover(dir)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := Lookup(found, "log")
	host := New(Options{Logger: hclog.NewNullLogger()})
	t.Cleanup(host.Stop)
	ctx := context.Background()
	p, err := host.Start(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := host.Configure(ctx, p, "watch", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	beat := sdk.Beat{Heartbeat: "hb", Signal: sdk.SignalSuccess, Sequence: 1}
	if _, ok, _ := startBeat(t, host, "watch", beat); ok {
		t.Fatal("a beat was started before the plugin's stream had answered")
	}
	if _, err := host.Beat(ctx, "watch", beat); err != nil {
		t.Fatal(err)
	}
	res, ok, err := startBeat(t, host, "watch", beat)
	if !ok || err != nil || res.Detail != "logged" {
		t.Fatalf("StartBeat = %+v, %v, %v; want logged", res, err, ok)
	}
	if _, ok, _ := startBeat(t, host, "nobody", beat); ok {
		t.Error("a beat to an unknown instance was started")
	}

	if err := syscall.Kill(p.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the host notices the exit", func() bool { return !p.Running() })
	if _, ok, _ := startBeat(t, host, "watch", beat); ok {
		t.Error("a beat was started on a plugin that exited")
	}
}
