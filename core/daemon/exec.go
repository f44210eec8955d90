package daemon

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/core/config"
	"github.com/seed-e9b80cf6/heartbeat/core/dispatch"
	"github.com/seed-e9b80cf6/heartbeat/core/suggest"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// SelectTargets returns cfg reduced to the targets a wrapped job is
// reported to, in the config's order, without heartbeats (nothing is
// scheduled): the targets named, and those of the heartbeat named. Only
// their plugins are started by Start. Unknown names are errors that list
// the names there are.
func SelectTargets(cfg *config.Config, targets []string, heartbeat string) (*config.Config, error) {
	want := map[string]bool{}
	for _, name := range targets {
		if _, ok := cfg.Targets[name]; !ok {
			return nil, fmt.Errorf("no target named %q in %s%s", name, cfg.File, pickHint(name, cfg.TargetNames, "targets"))
		}
		want[name] = true
	}
	if heartbeat != "" {
		var names []string
		found := false
		for _, hb := range cfg.Heartbeats {
			names = append(names, hb.Name)
			if hb.Name == heartbeat {
				found = true
				for _, t := range hb.Targets {
					want[t] = true
				}
			}
		}
		if !found {
			return nil, fmt.Errorf("no enabled heartbeat named %q in %s%s", heartbeat, cfg.File, pickHint(heartbeat, names, "heartbeats"))
		}
	}
	if len(want) == 0 {
		return nil, fmt.Errorf("no target to report to: name one with --target NAME or --heartbeat NAME (targets in %s: %s)", cfg.File, listOrNone(cfg.TargetNames))
	}
	out := *cfg
	out.Heartbeats = nil
	out.Targets = map[string]*config.Target{}
	out.TargetNames = nil
	plugins := map[string]config.PluginSettings{}
	for _, name := range cfg.TargetNames {
		if !want[name] {
			continue
		}
		t := cfg.Targets[name]
		out.Targets[name] = t
		out.TargetNames = append(out.TargetNames, name)
		if ps, ok := cfg.Plugins[t.Plugin]; ok {
			plugins[t.Plugin] = ps
		}
	}
	out.Plugins = plugins
	return &out, nil
}

func pickHint(name string, names []string, what string) string {
	if len(names) == 0 {
		return " (it has no " + what + ")"
	}
	best, bestDist := "", len(name)/2+2
	for _, n := range names {
		if d := suggest.Distance(strings.ToLower(name), strings.ToLower(n)); d < bestDist {
			best, bestDist = n, d
		}
	}
	hint := fmt.Sprintf(" (%s: %s)", what, strings.Join(names, ", "))
	if best != "" {
		hint = fmt.Sprintf("; did you mean %q?%s", best, hint)
	}
	return hint
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// Targets returns the names of the configured targets, in config order.
func (d *Daemon) Targets() []string { return slices.Clone(d.current().cfg.TargetNames) }

// Plugin returns the plugin a target uses.
func (d *Daemon) Plugin(target string) string {
	if t, ok := d.current().cfg.Targets[target]; ok {
		return t.Plugin
	}
	return ""
}

// ReportOptions tune Report.
type ReportOptions struct {
	// Deadline ends the delivery, retries included; zero means none
	// beyond each target's own policy.
	Deadline time.Time
	// Quiet leaves the outcomes to the caller: nothing is logged.
	// Otherwise failures are logged once per change, as the daemon does.
	Quiet bool
	// Policy, when its fields are set, replaces those of each target's
	// delivery policy (timeout, retries, backoff).
	Policy dispatch.Policy
	// RetriesSet says Policy.Retries is to be used, 0 included.
	RetriesSet bool
}

// Report delivers one beat, such as the start or the outcome of a job
// that `heartbeat exec` wraps, to the named targets (every configured
// target when names is empty), through the same dispatcher, plugins,
// secrets handling and retries as a scheduled beat.
func (d *Daemon) Report(ctx context.Context, b sdk.Beat, names []string, opts ReportOptions) ([]dispatch.Outcome, error) {
	st := d.current()
	if len(names) == 0 {
		names = st.cfg.TargetNames
	}
	targets := make([]dispatch.Target, 0, len(names))
	for _, name := range names {
		t, ok := st.cfg.Targets[name]
		if !ok {
			return nil, fmt.Errorf("no target named %q", name)
		}
		p := dispatch.Policy(t.Delivery)
		if opts.Policy.Timeout > 0 {
			p.Timeout = opts.Policy.Timeout
		}
		if opts.RetriesSet {
			p.Retries = opts.Policy.Retries
		}
		if opts.Policy.Backoff > 0 {
			p.Backoff = opts.Policy.Backoff
		}
		targets = append(targets, dispatch.Target{Name: name, Instance: st.instance[name], Policy: p})
	}
	disp := d.dispatcher
	if opts.Quiet {
		disp = dispatch.New(d.host, nil)
	}
	return d.deliver(ctx, disp, b, targets, opts.Deadline), nil
}

// NewRunID returns a fresh run id (a random UUID, version 4), which pairs
// a start signal with its finish.
func NewRunID() string { return newRunID() }
