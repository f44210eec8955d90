// Package daemon wires the config, the plugin host, the dispatcher and the
// scheduler into the running heartbeat daemon, and applies reloads.
package daemon

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/core/check"
	"github.com/seed-e9b80cf6/heartbeat/core/config"
	"github.com/seed-e9b80cf6/heartbeat/core/dispatch"
	"github.com/seed-e9b80cf6/heartbeat/core/metrics"
	"github.com/seed-e9b80cf6/heartbeat/core/pluginhost"
	"github.com/seed-e9b80cf6/heartbeat/core/schedule"
	"github.com/seed-e9b80cf6/heartbeat/core/scheduler"
	"github.com/seed-e9b80cf6/heartbeat/core/status"
	"github.com/seed-e9b80cf6/heartbeat/core/suggest"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// DefaultGrace is how long beats in flight may finish at shutdown.
const DefaultGrace = 10 * time.Second

// Daemon is a loaded config with its plugins started and configured.
type Daemon struct {
	pluginDir  string
	pluginPath func(*config.Config) pluginhost.SearchPath
	logger     hclog.Logger
	host       *pluginhost.Host
	dispatcher *dispatch.Dispatcher
	checks     check.Runner
	clock      scheduler.Clock
	grace      time.Duration
	observer   Observer
	recorder   *status.Recorder
	sched      *scheduler.Scheduler
	// shutdown is closed when Run's context ends: health checks in
	// progress are cut then (guarded by mu).
	shutdown <-chan struct{}
	running  atomic.Bool

	// retryTimedOut: a target whose plugin misses its deadline at start-up
	// is retried in the background (see Options.RetryTimedOut).
	retryTimedOut bool
	// bg ends the background retries of pending targets at Stop.
	bg     context.Context
	bgStop context.CancelFunc
	// pendMu guards pending: the cancel of each pending target's retry,
	// by instance.
	pendMu  sync.Mutex
	pending map[string]context.CancelFunc

	// reloadMu serialises reloads; mu guards the state they swap.
	reloadMu sync.Mutex
	mu       sync.RWMutex
	state    *state
}

// state is what one config turned into; a reload replaces it whole.
type state struct {
	cfg *config.Config
	// instance is the name each target has in its plugin. A target whose
	// settings change on reload gets a new instance name, so the old one
	// keeps working until the new config is known to be good.
	instance     map[string]string
	descriptions map[string]string
	// plans by heartbeat name: what each tick needs, worked out once.
	plans      map[string]*beatPlan
	generation int
}

// beatPlan is what every beat of one heartbeat uses: its definition, its
// schedule as the plugins see it and its targets in force. It is read,
// never changed, once the state is built.
type beatPlan struct {
	heartbeat *config.Heartbeat
	schedule  sdk.Schedule
	targets   []dispatch.Target
}

// Observer is told about every beat outcome and reload; metrics use it.
type Observer interface {
	Outcome(o dispatch.Outcome)
	Reload(err error)
}

type nopObserver struct{}

func (nopObserver) Outcome(dispatch.Outcome) {}
func (nopObserver) Reload(error)             {}

// Options configure Start.
type Options struct {
	Logger hclog.Logger
	// PluginPath is the plugin search path for a config (PluginPath in
	// this package), asked again on every reload; when nil, PluginDir
	// alone is searched.
	PluginPath func(*config.Config) pluginhost.SearchPath
	PluginDir  string
	Clock      scheduler.Clock
	Grace      time.Duration
	Observer   Observer
	// CheckWrapper is the heartbeat executable, which supervises health
	// check commands (check.Runner.Wrapper); empty runs them directly.
	CheckWrapper string
	// RetryTimedOut keeps Start going when a target's plugin does not
	// answer in time (pluginhost.ErrTimeout): the target is reported, beats
	// to it fail as temporary, and it is configured in the background with
	// backoff. Without it such a target is an error, as are settings a
	// plugin rejects in either case.
	RetryTimedOut bool
	// CallTimeout bounds each plugin start and Configure call;
	// pluginhost.DefaultCallTimeout when 0.
	CallTimeout time.Duration
	// Recorder, when set, keeps the recent history of the scheduled beats
	// (not of Send) for the status page, with the heartbeats in force and
	// their next fire times.
	Recorder *status.Recorder
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
	if opts.Observer == nil {
		opts.Observer = nopObserver{}
	}
	host := pluginhost.New(pluginhost.Options{Logger: opts.Logger, Subreaper: true, CallTimeout: opts.CallTimeout})
	d := &Daemon{
		pluginDir: opts.PluginDir, pluginPath: opts.PluginPath, logger: opts.Logger, host: host,
		dispatcher: dispatch.New(host, opts.Logger), clock: opts.Clock, grace: opts.Grace,
		observer: opts.Observer, recorder: opts.Recorder, checks: check.Runner{Wrapper: opts.CheckWrapper},
		retryTimedOut: opts.RetryTimedOut, pending: map[string]context.CancelFunc{},
	}
	d.bg, d.bgStop = context.WithCancel(context.Background())
	st, err := d.prepare(ctx, cfg, nil)
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	if err != nil {
		d.Stop()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("stopped while starting the plugins: %w", ctx.Err())
		}
		return nil, err
	}
	d.state = st
	d.configured(st)
	return d, nil
}

// pendingTarget is a target whose plugin missed its deadline at start-up.
type pendingTarget struct {
	target   *config.Target
	found    pluginhost.Found
	limits   pluginhost.Limits
	instance string
	err      error
}

// retry configures a pending target in the background, with backoff, until
// it is configured, forgotten or the daemon stops. The first failure is
// logged at error level, and the first that is not a timeout (settings
// the plugin rejects, say); the others at debug.
func (d *Daemon) retry(ctx context.Context, pt pendingTarget) {
	name := pt.target.Name
	d.logger.Error("target not ready: its plugin did not answer in time; beats to it fail until it is configured, which is retried in the background",
		"target", name, "plugin", pt.target.Plugin, "error", pt.err.Error())
	reportedOther := false
	backoff := pendingBackoffMin
	timer := time.NewTimer(backoff)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		p, err := d.host.StartLimited(ctx, pt.found, pt.limits)
		if err == nil {
			_, err = configureTarget(ctx, d.host, p, pt.instance, pt.target.Settings)
		}
		if ctx.Err() != nil {
			if err == nil {
				// Forgotten while it was being configured.
				d.host.Forget(pt.instance)
			}
			return
		}
		if err == nil {
			d.pendMu.Lock()
			delete(d.pending, pt.instance)
			d.pendMu.Unlock()
			d.logger.Info("target ready", "target", name, "plugin", pt.target.Plugin)
			return
		}
		d.host.Pending(pt.instance, err)
		if !errors.Is(err, pluginhost.ErrTimeout) && !reportedOther {
			reportedOther = true
			d.logger.Error("target still not ready", "target", name, "plugin", pt.target.Plugin, "error", err.Error())
		} else {
			d.logger.Debug("target still not ready", "target", name, "plugin", pt.target.Plugin, "error", err.Error())
		}
		backoff = min(backoff*2, pendingBackoffMax)
		timer.Reset(backoff)
	}
}

// Pending targets are tried again after 1 s, doubling up to a minute.
const (
	pendingBackoffMin = time.Second
	pendingBackoffMax = time.Minute
)

// forget drops an instance and ends its background retry, if any.
func (d *Daemon) forget(instance string) {
	d.pendMu.Lock()
	if cancel, ok := d.pending[instance]; ok {
		cancel()
		delete(d.pending, instance)
	}
	d.pendMu.Unlock()
	d.host.Forget(instance)
}

// prepare starts and configures the targets of cfg. Targets unchanged from
// old keep their instances; the others get new instance names. On error,
// the new instances are dropped and old is left as it was.
func (d *Daemon) prepare(ctx context.Context, cfg *config.Config, old *state) (*state, error) {
	catalog, err := d.searchPath(cfg).Scan()
	if err != nil {
		return nil, err
	}
	st := &state{cfg: cfg, instance: map[string]string{}, descriptions: map[string]string{}, plans: map[string]*beatPlan{}}
	if old != nil {
		st.generation = old.generation + 1
	}
	var created []string
	var pending []pendingTarget
	var errs config.Errors
	// At start-up, a plugin that misses its deadline need not stop the
	// daemon: the target waits (see Options.RetryTimedOut).
	mayWait := old == nil && d.retryTimedOut
	for _, name := range cfg.TargetNames {
		t := cfg.Targets[name]
		if old != nil && sameTarget(old.cfg.Targets[name], t) {
			st.instance[name] = old.instance[name]
			st.descriptions[name] = old.descriptions[name]
			continue
		}
		f, ok := catalog.Lookup(t.Plugin)
		if !ok {
			errs = append(errs, unknownPlugin(t, catalog))
			continue
		}
		var limits pluginhost.Limits
		if ps, ok := cfg.Plugins[t.Plugin]; ok {
			f.SHA256 = ps.SHA256
			limits = pluginhost.Limits{Memory: ps.MemoryLimit, CPU: ps.CPULimit}
		}
		if !cfg.InsecurePluginPermissions {
			if err := pluginhost.Verify(f); err != nil {
				errs = append(errs, &config.Error{Pos: t.Pos, Msg: fmt.Sprintf("target %q: refusing plugin %s: %v", name, t.Plugin, err)})
				continue
			}
		}
		instance := name
		if st.generation > 0 {
			instance = fmt.Sprintf("%s#%d", name, st.generation)
		}
		wait := func(err error) bool {
			if !mayWait || ctx.Err() != nil || !errors.Is(err, pluginhost.ErrTimeout) {
				return false
			}
			pending = append(pending, pendingTarget{target: t, found: f, limits: limits, instance: instance, err: err})
			st.instance[name] = instance
			st.descriptions[name] = "not ready: " + err.Error()
			d.host.Pending(instance, err)
			return true
		}
		p, err := d.host.StartLimited(ctx, f, limits)
		if err != nil {
			if wait(err) {
				continue
			}
			e := &config.Error{Pos: t.Pos, Msg: fmt.Sprintf("target %q: %v", name, err)}
			if sdk.KindOf(err) != sdk.KindPermanent {
				e.Fix = fmt.Sprintf("check that %s runs on this machine; run it by hand to see what it says", f.Path)
			}
			errs = append(errs, e)
			continue
		}
		desc, err := configureTarget(ctx, d.host, p, instance, t.Settings)
		if err != nil {
			if wait(err) {
				continue
			}
			errs = append(errs, settingErrors(t, err)...)
			continue
		}
		created = append(created, instance)
		st.instance[name] = instance
		st.descriptions[name] = desc
		d.logger.Debug("target ready", "target", name, "plugin", t.Plugin, "version", p.Info().Version, "description", desc)
	}
	if old != nil && len(errs) == 0 {
		errs = d.upgradePlugins(ctx, cfg, catalog)
	}
	if len(errs) > 0 {
		for _, instance := range created {
			d.host.Forget(instance)
		}
		for _, pt := range pending {
			d.host.Forget(pt.instance)
		}
		return nil, errs
	}
	for _, pt := range pending {
		ctx, cancel := context.WithCancel(d.bg)
		d.pendMu.Lock()
		d.pending[pt.instance] = cancel
		d.pendMu.Unlock()
		go d.retry(ctx, pt)
	}
	for _, hb := range cfg.Heartbeats {
		plan := &beatPlan{heartbeat: hb, schedule: beatSchedule(hb), targets: make([]dispatch.Target, 0, len(hb.Targets))}
		for _, t := range hb.Targets {
			plan.targets = append(plan.targets, dispatch.Target{Name: t, Instance: st.instance[t], Policy: dispatch.Policy(cfg.Targets[t].Delivery)})
		}
		st.plans[hb.Name] = plan
	}
	return st, nil
}

func sameTarget(a, b *config.Target) bool {
	// Targets reading secret files are configured again on every reload, so
	// a rotated secret is picked up.
	return a != nil && b != nil && a.Plugin == b.Plugin && string(a.Settings) == string(b.Settings) && a.Delivery == b.Delivery &&
		!strings.Contains(string(a.Settings), fileSuffix+`"`)
}

// searchPath is where the plugins of cfg are looked for.
func (d *Daemon) searchPath(cfg *config.Config) pluginhost.SearchPath {
	if d.pluginPath != nil {
		return d.pluginPath(cfg)
	}
	return pluginhost.SearchPath{{Path: d.pluginDir, From: "the plugin directory"}}
}

// upgradePlugins starts again, on reload, every plugin in use whose binary
// was replaced on disk or now resolves to another file, after checking
// the new binary (permissions, pin) as a start would. A binary refused or
// failing to take over fails the reload; its old process keeps running.
func (d *Daemon) upgradePlugins(ctx context.Context, cfg *config.Config, catalog *pluginhost.Catalog) config.Errors {
	var errs config.Errors
	done := map[string]bool{}
	for _, name := range cfg.TargetNames {
		t := cfg.Targets[name]
		if done[t.Plugin] {
			continue
		}
		done[t.Plugin] = true
		f, ok := catalog.Lookup(t.Plugin)
		if !ok {
			continue // a target of a plugin gone from disk keeps its process
		}
		var limits pluginhost.Limits
		if ps, ok := cfg.Plugins[t.Plugin]; ok {
			f.SHA256 = ps.SHA256
			limits = pluginhost.Limits{Memory: ps.MemoryLimit, CPU: ps.CPULimit}
		}
		check := func(f pluginhost.Found) error { return pluginhost.Check(f, cfg.InsecurePluginPermissions) }
		if _, err := d.host.Upgrade(ctx, f, limits, check); err != nil {
			errs = append(errs, &config.Error{Pos: t.Pos, Msg: fmt.Sprintf("target %q: plugin %s: %v", name, t.Plugin, err)})
		}
	}
	return errs
}

func unknownPlugin(t *config.Target, catalog *pluginhost.Catalog) *config.Error {
	if why := catalog.WhyNotFound(t.Plugin); why != "" {
		// The file is there but cannot be run: say so, not "unknown".
		return &config.Error{Pos: t.Pos, Msg: fmt.Sprintf("target %q: plugin %q cannot be used: %s", t.Name, t.Plugin, why)}
	}
	dir := catalog.Path.String()
	names := catalog.Names()
	fix := fmt.Sprintf("no plugins in %s; build them (make build), or add a directory with plugin_dirs in the config, --plugin-dir or $%s", dir, PluginDirEnv)
	if len(names) > 0 {
		fix = "available plugins: " + strings.Join(names, ", ")
		// The closest name within a few typos, as for config keys.
		best, bestDist := "", len(t.Plugin)/2+2
		for _, n := range names {
			if d := suggest.Distance(strings.ToLower(t.Plugin), strings.ToLower(n)); d < bestDist {
				best, bestDist = n, d
			}
		}
		if best != "" {
			fix = fmt.Sprintf("did you mean %q? (%s)", best, fix)
		}
	}
	where := "in " + dir
	if len(catalog.Path) > 1 {
		where = "in any of " + dir + " (searched in this order)"
	}
	return &config.Error{Pos: t.Pos, Msg: fmt.Sprintf("target %q: unknown plugin %q: there is no %s %s", t.Name, t.Plugin, pluginhost.FileName(t.Plugin), where), Fix: fix}
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
		out = append(out, &config.Error{Pos: t.SettingPos(fe.Field), Msg: what + ": " + fe.Message, Fix: settingsHint(t.Plugin)})
	}
	return out
}

// settingsHint points at where a plugin's settings are documented: the
// bundled plugins have a page in docs/targets/, others their own docs.
func settingsHint(plugin string) string {
	return fmt.Sprintf("see docs/targets/%s.md (bundled plugins) or the plugin's own documentation for the settings of %s", plugin, plugin)
}

func (d *Daemon) current() *state {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.state
}

// Config returns the config in force.
func (d *Daemon) Config() *config.Config { return d.current().cfg }

// Description returns a target's redacted description.
func (d *Daemon) Description(target string) string { return d.current().descriptions[target] }

// Host returns the plugin host.
func (d *Daemon) Host() *pluginhost.Host { return d.host }

// Stop ends the background retries and every plugin process.
func (d *Daemon) Stop() {
	d.bgStop()
	d.host.Stop()
}

// Run beats every heartbeat until ctx is done (a start-up beat, then on
// schedule), lets beats in flight finish within the grace period, and stops
// the plugins.
func (d *Daemon) Run(ctx context.Context) {
	defer d.Stop()
	st := d.current()
	for _, hb := range st.cfg.Heartbeats {
		d.logger.Info("heartbeat scheduled", "heartbeat", hb.Name, "frequency", hb.Expression, "targets", strings.Join(hb.Targets, ","))
	}
	if len(st.cfg.Heartbeats) == 0 {
		d.logger.Warn("no heartbeat is enabled; waiting for a signal to stop")
	}
	d.mu.Lock()
	d.sched = scheduler.New(scheduler.Options{
		Clock:   d.clock,
		Logger:  d.logger,
		Grace:   d.grace,
		Run:     func(ctx context.Context, t scheduler.Tick) { d.beat(ctx, t) },
		Start:   d.startBeat,
		Planned: d.recorder.Planned,
		Skipped: func(t scheduler.Tick) { d.recorder.Skipped(t.Heartbeat, t.Sequence, t.ScheduledAt) },
	})
	d.shutdown = ctx.Done()
	sched := d.sched
	d.mu.Unlock()
	superviseCtx, stopSupervising := context.WithCancel(ctx)
	defer stopSupervising()
	go d.host.Supervise(superviseCtx)
	d.running.Store(true)
	defer d.running.Store(false)
	sched.Run(ctx, jobs(st.cfg))
	d.unplanAll()
}

// SchedulerRunning reports whether Run is scheduling beats.
func (d *Daemon) SchedulerRunning() bool { return d.running.Load() }

// Plugins lists the started plugins and whether their processes run.
func (d *Daemon) Plugins() []metrics.PluginState {
	var out []metrics.PluginState
	for _, p := range d.host.Plugins() {
		out = append(out, metrics.PluginState{Name: p.Name(), Running: p.Running(), Restarts: p.Restarts()})
	}
	return out
}

func jobs(cfg *config.Config) []scheduler.Job {
	out := make([]scheduler.Job, 0, len(cfg.Heartbeats))
	for _, hb := range cfg.Heartbeats {
		out = append(out, scheduler.Job{Name: hb.Name, Schedule: hb.Schedule, Key: hb.Key()})
	}
	return out
}

// Reload applies a new, already loaded config to the running daemon. If
// any target of the new config cannot be configured, the running config
// stays in force untouched and the error says why. Unchanged targets keep
// their plugin instances; unchanged heartbeats keep their timing.
func (d *Daemon) Reload(ctx context.Context, cfg *config.Config) error {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	old := d.current()
	st, err := d.prepare(ctx, cfg, old)
	d.observer.Reload(err)
	if err != nil {
		return err
	}
	d.mu.Lock()
	d.state = st
	sched := d.sched
	d.mu.Unlock()
	// Before the scheduler hears of new heartbeats, so their first
	// beats are recorded.
	d.configured(st)
	inUse := map[string]bool{}
	for _, instance := range st.instance {
		inUse[instance] = true
	}
	for _, instance := range old.instance {
		if !inUse[instance] {
			d.forget(instance)
		}
	}
	plugins := map[string]bool{}
	for _, t := range cfg.Targets {
		plugins[t.Plugin] = true
	}
	d.host.StopUnused(plugins)
	if sched != nil {
		sched.Update(ctx, jobs(cfg))
	}
	return nil
}

// beatTargets returns the heartbeat's definition and targets in force.
// The targets are shared by every beat: read them, never change them.
func (d *Daemon) beatTargets(name string) (*config.Heartbeat, sdk.Schedule, []dispatch.Target) {
	plan, ok := d.current().plans[name]
	if !ok {
		return nil, sdk.Schedule{}, nil
	}
	return plan.heartbeat, plan.schedule, plan.targets
}

// beatSchedule is the heartbeat's schedule as the plugins see it: its
// expression as written, as cron or later.js text, and its time zone. The
// config keeps the expression only; it is cron when it parses as cron,
// which later.js text never does.
func beatSchedule(hb *config.Heartbeat) sdk.Schedule {
	if hb.Expression == "" {
		return sdk.Schedule{}
	}
	s := sdk.Schedule{Timezone: hb.Timezone}
	if _, err := schedule.ParseCron(hb.Expression); err == nil {
		s.Cron = hb.Expression
	} else {
		s.Frequency = hb.Expression
	}
	return s
}

// beat runs one tick: with a health check, a start signal (to targets
// that take it), the check, then success or fail carrying the check's
// findings and the same run id; without one, a success signal. A check cut
// by shutdown sends nothing more: its result would say nothing about the
// service.
func (d *Daemon) beat(ctx context.Context, t scheduler.Tick) []dispatch.Outcome {
	rec := d.recorder.Begin(t.Heartbeat, t.Sequence, t.ScheduledAt)
	defer rec.Finish()
	return d.beatWith(ctx, t, d.dispatcher, rec)
}

// startBeat begins a tick of a heartbeat without a health check and
// returns; the dispatcher finishes it as the targets answer, with no
// goroutine waiting meanwhile, and done is called then. A tick with a
// check, which waits on the check, is not taken: beat runs it.
func (d *Daemon) startBeat(ctx context.Context, t scheduler.Tick, done func()) bool {
	hb, sched, targets := d.beatTargets(t.Heartbeat)
	if hb == nil || hb.Check != nil {
		return false
	}
	rec := d.recorder.Begin(t.Heartbeat, t.Sequence, t.ScheduledAt)
	d.dispatcher.Start(ctx, successBeat(hb, sched, t), targets, deliveryDeadline(t.Next), func(outcomes []dispatch.Outcome) {
		d.observe(outcomes)
		recordOutcomes(rec, outcomes)
		rec.Finish()
		done()
	})
	return true
}

// beatWith runs one beat through disp; rec (nil: none) records it.
func (d *Daemon) beatWith(ctx context.Context, t scheduler.Tick, disp *dispatch.Dispatcher, rec *status.BeatRecord) []dispatch.Outcome {
	hb, sched, targets := d.beatTargets(t.Heartbeat)
	if hb == nil {
		return nil
	}
	b := successBeat(hb, sched, t)
	var outcomes []dispatch.Outcome
	if hb.Check != nil {
		b.RunID = newRunID()
		start := b
		start.Signal = sdk.SignalStart
		start.Message = "checking: " + hb.Check.Describe()
		started := d.deliver(ctx, disp, start, targets, deliveryDeadline(t.Next))
		recordOutcomes(rec, started)
		outcomes = append(outcomes, started...)
		checkCtx, stopCheck := d.checkContext(ctx)
		res := d.checks.Run(checkCtx, *hb.Check)
		stopCheck()
		if res.Canceled {
			rec.Discard()
			d.logger.Info("health check cut by shutdown; nothing more is sent for this beat", "heartbeat", hb.Name, "result", res.Message, "duration", res.Latency.Round(time.Millisecond).String())
			return outcomes
		}
		b.Message, b.Log, b.ExitCode, b.CheckLatency = res.Message, res.Output, res.ExitCode, res.Latency
		rec.Check(checkResult(res))
		if !res.OK {
			b.Signal = sdk.SignalFail
			d.logger.Warn("health check failed; reporting a failure", "heartbeat", hb.Name, "result", res.Message, "duration", res.Latency.Round(time.Millisecond).String())
		} else {
			d.logger.Debug("health check passed", "heartbeat", hb.Name, "result", res.Message, "duration", res.Latency.Round(time.Millisecond).String())
		}
	}
	deadline := deliveryDeadline(t.Next)
	if hb.Check != nil && !deadline.IsZero() {
		// A check that ran up to the next beat must still get its finish
		// signal out: one attempt's time at least. The next tick of this
		// heartbeat is then skipped rather than this result lost.
		if least := time.Now().Add(longestTimeout(targets)); deadline.Before(least) {
			deadline = least
		}
	}
	finished := d.deliver(ctx, disp, b, targets, deadline)
	recordOutcomes(rec, finished)
	return append(outcomes, finished...)
}

// checkContext is ctx, also cut as soon as the daemon begins to stop: beats
// in flight get the grace period to finish, but a check may run for
// minutes, and its result would arrive after the daemon is gone.
func (d *Daemon) checkContext(ctx context.Context) (context.Context, context.CancelFunc) {
	d.mu.RLock()
	shutdown := d.shutdown
	d.mu.RUnlock()
	ctx, cancel := context.WithCancel(ctx)
	if shutdown != nil {
		go func() {
			select {
			case <-shutdown:
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	return ctx, cancel
}

// deadlineMargin ends a beat's retries a little before the heartbeat's next
// beat, so a beat cut at its deadline has finished when the next is due
// instead of making the scheduler skip it as still in progress.
const deadlineMargin = 100 * time.Millisecond

// deliveryDeadline is when a beat's delivery ends. The scheduler keeps
// next at least schedule.MinInterval after the tick, and the dispatcher
// moves a deadline that is near or past (a tick that fired late) to leave
// the first attempt some time.
func deliveryDeadline(next time.Time) time.Time {
	if next.IsZero() {
		return next
	}
	return next.Add(-deadlineMargin)
}

func longestTimeout(targets []dispatch.Target) time.Duration {
	var longest time.Duration
	for _, t := range targets {
		longest = max(longest, t.Policy.Timeout)
	}
	return longest
}

func (d *Daemon) deliver(ctx context.Context, disp *dispatch.Dispatcher, b sdk.Beat, targets []dispatch.Target, next time.Time) []dispatch.Outcome {
	outcomes := disp.Deliver(ctx, b, targets, next)
	d.observe(outcomes)
	return outcomes
}

// observe hands each outcome to the observer (metrics).
func (d *Daemon) observe(outcomes []dispatch.Outcome) {
	for _, o := range outcomes {
		d.observer.Outcome(o)
	}
}

// successBeat is tick t's success signal of hb: the beat sent when there
// is no health check, and the one a check's result turns into.
func successBeat(hb *config.Heartbeat, sched sdk.Schedule, t scheduler.Tick) sdk.Beat {
	return sdk.Beat{Heartbeat: hb.Name, Signal: sdk.SignalSuccess, Sequence: t.Sequence, ScheduledAt: t.ScheduledAt, Schedule: sched}
}

// newRunID returns a random UUID (version 4): Healthchecks, for one,
// accepts only UUIDs as run ids.
func newRunID() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// Send delivers one beat now to every target of the named heartbeat, or of
// every heartbeat when name is empty, health checks included. It returns
// every outcome for the caller to report, so they are not logged as well.
func (d *Daemon) Send(ctx context.Context, name string) ([]dispatch.Outcome, error) {
	heartbeats, err := d.selectHeartbeats(name)
	if err != nil {
		return nil, err
	}
	quiet := dispatch.New(d.host, nil)
	var out []dispatch.Outcome
	for _, hb := range heartbeats {
		out = append(out, d.beatWith(ctx, scheduler.Tick{Heartbeat: hb.Name, Sequence: 1, ScheduledAt: d.clock.Now()}, quiet, nil)...)
	}
	return out, nil
}

// selectHeartbeats returns the named heartbeat, or every one when name is
// empty.
func (d *Daemon) selectHeartbeats(name string) ([]*config.Heartbeat, error) {
	cfg := d.Config()
	if name == "" {
		return cfg.Heartbeats, nil
	}
	names := make([]string, 0, len(cfg.Heartbeats))
	for _, hb := range cfg.Heartbeats {
		if hb.Name == name {
			return []*config.Heartbeat{hb}, nil
		}
		names = append(names, hb.Name)
	}
	return nil, fmt.Errorf("no heartbeat named %q in %s (heartbeats: %s)", name, cfg.File, strings.Join(names, ", "))
}

// PlannedBeat is what one beat of a heartbeat would send to one target.
type PlannedBeat struct {
	Heartbeat string
	Target    string
	Plugin    string
	// Description is the target's description from its plugin, redacted.
	Description string
	// Signals are sent in this order: success; or, with a health check,
	// start then success or fail by the check's result.
	Signals []sdk.Signal
	// NotTaken are the signals of the beat the target's plugin does not
	// deliver: they are skipped.
	NotTaken []sdk.Signal
	// Check describes the health check without secrets; "" without one.
	Check string
}

// DryRun returns what one beat of the named heartbeat (of every heartbeat
// when name is empty) would send to each target, in config order. It sends
// nothing and runs no health check.
func (d *Daemon) DryRun(name string) ([]PlannedBeat, error) {
	heartbeats, err := d.selectHeartbeats(name)
	if err != nil {
		return nil, err
	}
	st := d.current()
	var out []PlannedBeat
	for _, hb := range heartbeats {
		signals := []sdk.Signal{sdk.SignalSuccess}
		check := ""
		if hb.Check != nil {
			signals = []sdk.Signal{sdk.SignalStart, sdk.SignalSuccess, sdk.SignalFail}
			check = hb.Check.Describe()
		}
		for _, name := range hb.Targets {
			p := PlannedBeat{Heartbeat: hb.Name, Target: name, Plugin: st.cfg.Targets[name].Plugin, Description: st.descriptions[name], Check: check}
			info, known := d.host.Info(st.instance[name])
			for _, s := range signals {
				if known && !info.Supports(s) {
					p.NotTaken = append(p.NotTaken, s)
					continue
				}
				p.Signals = append(p.Signals, s)
			}
			out = append(out, p)
		}
	}
	return out, nil
}
