package daemon

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/core/dispatch"
	"github.com/seed-e9b80cf6/heartbeat/core/status"
)

// inForce records what the daemon tells an InForceObserver.
type inForce struct {
	mu   sync.Mutex
	sets []map[string][]string
}

func (o *inForce) Outcome(dispatch.Outcome) {}
func (o *inForce) Reload(error)             {}
func (o *inForce) InForce(hbs map[string][]string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sets = append(o.sets, hbs)
}

func heartbeatOf(snap status.Snapshot, name string) *status.Heartbeat {
	for i := range snap.Heartbeats {
		if snap.Heartbeats[i].Name == name {
			return &snap.Heartbeats[i]
		}
	}
	return nil
}

// The recorder sees every scheduled beat, its check and deliveries, the
// next fire times and reloads; never a beat of Send.
func TestDaemonFeedsTheRecorder(t *testing.T) {
	dir := hostileDir(t)
	cfg := parseConfig(t, `
targets:
  console: { plugin: log }
heartbeats:
  - { name: plain, frequency: every 1 sec, targets: [console] }
  - name: checked
    frequency: every 1 sec
    targets: [console]
    check: { command: ["false"], timeout: 5s }
`)
	rec := status.NewRecorder(status.Options{})
	obs := &inForce{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d, err := Start(ctx, cfg, Options{PluginDir: dir, Recorder: rec, Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Send(ctx, ""); err != nil {
		t.Fatal(err)
	}
	snap := rec.Snapshot()
	for _, h := range snap.Heartbeats {
		if len(h.Beats) != 0 || h.State != status.StatePending || h.Targets[0].LastAt != nil {
			t.Fatalf("a beat of Send was recorded: %+v", h)
		}
	}
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx) }()

	deadline := time.Now().Add(failsafe)
	for {
		snap = rec.Snapshot()
		p, c := heartbeatOf(snap, "plain"), heartbeatOf(snap, "checked")
		if len(p.Beats) >= 2 && len(c.Beats) >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no two beats of each heartbeat recorded: %+v", snap)
		}
		time.Sleep(20 * time.Millisecond)
	}
	p, c := heartbeatOf(snap, "plain"), heartbeatOf(snap, "checked")
	if p.State != status.StateOK || p.Beats[0].Outcome != status.OutcomeOK || len(p.Beats[0].Deliveries) != 1 || p.Beats[0].Check != nil {
		t.Errorf("plain: %+v", p)
	}
	cb := c.Beats[0]
	if c.State != status.StateFailing || cb.Outcome != status.OutcomeCheckFailed || cb.Check == nil || cb.Check.OK || cb.Check.ExitCode == nil || *cb.Check.ExitCode != 1 || c.Check != "run false" {
		t.Errorf("checked: %+v, first beat %+v, check %+v", c, cb, cb.Check)
	}
	if got := fmt.Sprint(signals(cb)); got != "[start fail]" {
		t.Errorf("checked beat's signals %s, want [start fail]", got)
	}
	for _, h := range []*status.Heartbeat{p, c} {
		if h.NextBeat == nil || !h.NextBeat.After(h.Beats[len(h.Beats)-1].ScheduledAt) {
			t.Errorf("%s: next beat %v after its last beat due %v", h.Name, h.NextBeat, h.Beats[len(h.Beats)-1].ScheduledAt)
		}
	}

	// A reload renames plain and drops checked.
	cfg2 := parseConfig(t, `
targets:
  console: { plugin: log }
heartbeats:
  - { name: renamed, frequency: every 1 sec, targets: [console] }
`)
	if err := d.Reload(ctx, cfg2); err != nil {
		t.Fatal(err)
	}
	snap = rec.Snapshot()
	if len(snap.Heartbeats) != 1 || snap.Heartbeats[0].Name != "renamed" {
		t.Fatalf("after reload: %+v", snap.Heartbeats)
	}
	obs.mu.Lock()
	sets := fmt.Sprint(obs.sets)
	obs.mu.Unlock()
	if sets != "[map[checked:[console] plain:[console]] map[renamed:[console]]]" {
		t.Errorf("InForce calls %s", sets)
	}
	deadline = time.Now().Add(failsafe)
	for len(rec.Snapshot().Heartbeats[0].Beats) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the renamed heartbeat's first beat was not recorded")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(failsafe):
		t.Fatal("Run did not return")
	}
	if h := rec.Snapshot().Heartbeats[0]; h.NextBeat != nil {
		t.Errorf("a stopped daemon still shows a next beat %v", h.NextBeat)
	}
}

func signals(b status.Beat) []string {
	var out []string
	for _, d := range b.Deliveries {
		out = append(out, d.Signal)
	}
	return out
}
