// Package daemon wires the config, the plugin host, the dispatcher and the
// scheduler into the running heartbeat daemon.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/core/config"
	"github.com/seed-e9b80cf6/heartbeat/core/dispatch"
	"github.com/seed-e9b80cf6/heartbeat/core/pluginhost"
	"github.com/seed-e9b80cf6/heartbeat/core/scheduler"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// DefaultGrace is how long beats in flight may finish at shutdown.
const DefaultGrace = 10 * time.Second

// Daemon is a loaded config with its plugins started and configured.
type Daemon struct {
	cfg        *config.Config
	pluginDir  string
	logger     hclog.Logger
	host       *pluginhost.Host
	dispatcher *dispatch.Dispatcher
	clock      scheduler.Clock
	grace      time.Duration
	// Descriptions of each target, secrets redacted, from the plugins.
	descriptions map[string]string
}

// Options configure Start.
type Options struct {
	Logger    hclog.Logger
	PluginDir string
	Clock     scheduler.Clock
	Grace     time.Duration
}

// Start discovers the plugins cfg uses, starts them and configures every
// target. Problems are config.Errors pointing at the config file. On error
// every started plugin is stopped again.
func Start(ctx context.Context, cfg *config.Config, opts Options) (*Daemon, error) {
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.Clock == nil {
		opts.Clock = scheduler.SystemClock{}
	}
	if opts.Grace <= 0 {
		opts.Grace = DefaultGrace
	}
	host := pluginhost.New(pluginhost.Options{Logger: opts.Logger})
	d := &Daemon{
		cfg: cfg, pluginDir: opts.PluginDir, logger: opts.Logger, host: host,
		dispatcher: dispatch.New(host, opts.Logger), clock: opts.Clock, grace: opts.Grace,
		descriptions: map[string]string{},
	}
	if err := d.startTargets(ctx); err != nil {
		host.Stop()
		return nil, err
	}
	return d, nil
}

func (d *Daemon) startTargets(ctx context.Context) error {
	found, err := pluginhost.Discover(d.pluginDir)
	if err != nil {
		return err
	}
	var errs config.Errors
	for _, name := range d.cfg.TargetNames {
		t := d.cfg.Targets[name]
		f, ok := pluginhost.Lookup(found, t.Plugin)
		if !ok {
			errs = append(errs, unknownPlugin(t, found, d.pluginDir))
			continue
		}
		p, err := d.host.Start(ctx, f)
		if err != nil {
			errs = append(errs, &config.Error{Pos: t.Pos, Msg: fmt.Sprintf("target %q: %v", name, err), Fix: fmt.Sprintf("check that %s runs on this machine; run it by hand to see what it says", f.Path)})
			continue
		}
		desc, err := d.host.Configure(ctx, p, name, t.Settings)
		if err != nil {
			errs = append(errs, settingErrors(t, err)...)
			continue
		}
		d.descriptions[name] = desc
		d.logger.Debug("target ready", "target", name, "plugin", t.Plugin, "version", p.Info().Version, "description", desc)
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

func unknownPlugin(t *config.Target, found []pluginhost.Found, dir string) *config.Error {
	names := pluginhost.Names(found)
	fix := fmt.Sprintf("no plugins in %s; build them (make build) or set --plugin-dir", dir)
	if len(names) > 0 {
		fix = "available plugins: " + strings.Join(names, ", ")
	}
	return &config.Error{Pos: t.Pos, Msg: fmt.Sprintf("target %q: unknown plugin %q: there is no %s%s in %s", t.Name, t.Plugin, sdk.BinaryPrefix, t.Plugin, dir), Fix: fix}
}

// settingErrors points each invalid setting at its line in the config.
func settingErrors(t *config.Target, err error) config.Errors {
	var fes sdk.FieldErrors
	if !errors.As(err, &fes) {
		return config.Errors{{Pos: t.Pos, Msg: fmt.Sprintf("target %q: %v", t.Name, err)}}
	}
	var out config.Errors
	for _, fe := range fes {
		what := fmt.Sprintf("target %q (plugin %s)", t.Name, t.Plugin)
		if fe.Field != "" {
			what += ": setting " + fe.Field
		}
		out = append(out, &config.Error{Pos: t.SettingPos(fe.Field), Msg: what + ": " + fe.Message, Fix: fmt.Sprintf("see heartbeat plugins and docs/targets for the settings of %s", t.Plugin)})
	}
	return out
}

// Description returns a target's redacted description.
func (d *Daemon) Description(target string) string { return d.descriptions[target] }

// Host returns the plugin host.
func (d *Daemon) Host() *pluginhost.Host { return d.host }

// Stop ends every plugin process.
func (d *Daemon) Stop() { d.host.Stop() }

// Run beats every heartbeat until ctx is done (a start-up beat, then on
// schedule), lets beats in flight finish within the grace period, and stops
// the plugins.
func (d *Daemon) Run(ctx context.Context) {
	defer d.Stop()
	jobs := make([]scheduler.Job, 0, len(d.cfg.Heartbeats))
	for _, hb := range d.cfg.Heartbeats {
		jobs = append(jobs, scheduler.Job{Name: hb.Name, Schedule: hb.Schedule})
		d.logger.Info("heartbeat scheduled", "heartbeat", hb.Name, "frequency", hb.Expression, "targets", strings.Join(hb.Targets, ","))
	}
	if len(jobs) == 0 {
		d.logger.Warn("no heartbeat is enabled; waiting for a signal to stop")
	}
	s := scheduler.New(scheduler.Options{
		Clock:  d.clock,
		Logger: d.logger,
		Grace:  d.grace,
		Run: func(ctx context.Context, t scheduler.Tick) {
			d.beat(ctx, t)
		},
	})
	s.Run(ctx, jobs)
}

func (d *Daemon) heartbeat(name string) *config.Heartbeat {
	for _, hb := range d.cfg.Heartbeats {
		if hb.Name == name {
			return hb
		}
	}
	return nil
}

func (d *Daemon) targets(hb *config.Heartbeat) []dispatch.Target {
	out := make([]dispatch.Target, 0, len(hb.Targets))
	for _, name := range hb.Targets {
		t := d.cfg.Targets[name]
		out = append(out, dispatch.Target{Name: name, Policy: dispatch.Policy(t.Delivery)})
	}
	return out
}

func (d *Daemon) beat(ctx context.Context, t scheduler.Tick) []dispatch.Outcome {
	hb := d.heartbeat(t.Heartbeat)
	if hb == nil {
		return nil
	}
	b := sdk.Beat{Heartbeat: hb.Name, Signal: sdk.SignalSuccess, Sequence: t.Sequence, ScheduledAt: t.ScheduledAt}
	return d.dispatcher.Deliver(ctx, b, d.targets(hb), t.Next)
}

// Send delivers one beat now to every target of the named heartbeat, or of
// every heartbeat when name is empty.
func (d *Daemon) Send(ctx context.Context, name string) ([]dispatch.Outcome, error) {
	var out []dispatch.Outcome
	found := false
	for _, hb := range d.cfg.Heartbeats {
		if name != "" && hb.Name != name {
			continue
		}
		found = true
		out = append(out, d.beat(ctx, scheduler.Tick{Heartbeat: hb.Name, Sequence: 1, ScheduledAt: d.clock.Now()})...)
	}
	if !found && name != "" {
		names := make([]string, 0, len(d.cfg.Heartbeats))
		for _, hb := range d.cfg.Heartbeats {
			names = append(names, hb.Name)
		}
		return nil, fmt.Errorf("no heartbeat named %q in %s (heartbeats: %s)", name, d.cfg.File, strings.Join(names, ", "))
	}
	return out, nil
}
