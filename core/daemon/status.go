package daemon

import (
	"time"

	"github.com/seed-e9b80cf6/heartbeat/core/check"
	"github.com/seed-e9b80cf6/heartbeat/core/dispatch"
	"github.com/seed-e9b80cf6/heartbeat/core/status"
)

// statusSpecs is what the status recorder shows of a config: names,
// frequencies, the check's and the targets' redacted descriptions; never
// a target's settings.
func statusSpecs(st *state) []status.HeartbeatSpec {
	out := make([]status.HeartbeatSpec, 0, len(st.cfg.Heartbeats))
	for _, hb := range st.cfg.Heartbeats {
		spec := status.HeartbeatSpec{Name: hb.Name, Frequency: hb.Expression, Timezone: hb.Timezone}
		if hb.Check != nil {
			spec.Check = hb.Check.Describe()
		}
		for _, name := range hb.Targets {
			t := status.TargetSpec{Name: name, Description: st.descriptions[name]}
			if ct := st.cfg.Targets[name]; ct != nil {
				t.Plugin = ct.Plugin
			}
			spec.Targets = append(spec.Targets, t)
		}
		out = append(out, spec)
	}
	return out
}

// recordOutcomes adds each delivery of a beat to its record.
func recordOutcomes(rec *status.BeatRecord, outcomes []dispatch.Outcome) {
	if rec == nil {
		return
	}
	for _, o := range outcomes {
		d := status.Delivery{
			Target: o.Target, Signal: o.Signal.String(), Attempts: o.Attempts,
			DurationMS: durationMS(o.Duration), Result: status.ResultDelivered, Detail: o.Result.Detail,
		}
		switch {
		case o.Skipped:
			d.Result, d.Detail = status.ResultSkipped, "the plugin does not take this signal"
		case o.Err != nil:
			d.Result, d.Kind, d.Detail = status.ResultFailed, o.Kind(), o.Err.Error()
		}
		rec.Deliver(d)
	}
}

func checkResult(res check.Result) status.CheckResult {
	return status.CheckResult{OK: res.OK, Message: res.Message, ExitCode: res.ExitCode, DurationMS: durationMS(res.Latency)}
}

func durationMS(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// unplanAll tells the recorder that no heartbeat is scheduled any more.
func (d *Daemon) unplanAll() {
	for _, hb := range d.current().cfg.Heartbeats {
		d.recorder.Planned(hb.Name, time.Time{}, false)
	}
}

// PluginStates reports each started plugin's process for the status page.
func (d *Daemon) PluginStates() []status.Plugin {
	plugins := d.host.Plugins()
	out := make([]status.Plugin, 0, len(plugins))
	for _, p := range plugins {
		s := p.State()
		sp := status.Plugin{Name: s.Name, State: s.State, Restarts: s.Restarts, Detail: s.Detail}
		if !s.NextRestart.IsZero() {
			next := s.NextRestart
			sp.NextRestart = &next
		}
		out = append(out, sp)
	}
	return out
}

// InForceObserver, when the Observer implements it, is told the
// heartbeats in force and their targets at start and after each applied
// reload, so it can drop what a reload removed (the metrics do).
type InForceObserver interface {
	InForce(heartbeats map[string][]string)
}

// configured tells the recorder, the dispatcher and the observer the
// config in force.
func (d *Daemon) configured(st *state) {
	d.recorder.Configure(statusSpecs(st))
	in := make(map[string][]string, len(st.cfg.Heartbeats))
	for _, hb := range st.cfg.Heartbeats {
		in[hb.Name] = append([]string(nil), hb.Targets...)
	}
	d.dispatcher.KeepPairs(in)
	if o, ok := d.observer.(InForceObserver); ok {
		o.InForce(in)
	}
}
