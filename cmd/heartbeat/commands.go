package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/core/config"
	"github.com/seed-e9b80cf6/heartbeat/core/daemon"
	"github.com/seed-e9b80cf6/heartbeat/core/metrics"
	"github.com/seed-e9b80cf6/heartbeat/core/pluginhost"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/heapgoal"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/memtrim"
)

// duplicateSignalWindow: signals closer together than this count as one.
const duplicateSignalWindow = 300 * time.Millisecond

// runOnOneCPU keeps the daemon's Go scheduler to one CPU (GOMAXPROCS=1)
// unless the GOMAXPROCS environment variable says otherwise. The core's
// work is a chain of hand-offs (scheduler, stream sender, answer
// receiver), each short: with several CPUs, every hand-off wakes an idle
// thread that looks for work and goes back to sleep. On one CPU a beat
// costs the core about a fifth less at 1,000 heartbeats a second, with
// no more lateness at 10,000, where the core uses a fifth of a CPU. The
// plugins, whose HTTP requests do run in parallel, keep every CPU: the
// variable is not set for them.
func runOnOneCPU() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, c, dryRun := runFlags(stderr)
	if _, err := parseFlags(fs, args); err != nil {
		return exitInvalid
	}
	if *dryRun {
		return runDryRun(ctx, c, stdout, stderr)
	}
	runOnOneCPU()
	logger, err := c.logger(stderr)
	if err != nil {
		printError(stderr, err)
		return exitInvalid
	}
	cfg, err := c.loadConfig()
	if err != nil {
		printError(stderr, err)
		return exitInvalid
	}
	// The first SIGINT/SIGTERM stops gracefully; a second one exits at once.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	hups := make(chan os.Signal, 1)
	signal.Notify(hups, syscall.SIGHUP)
	defer signal.Stop(hups)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	// Signals are handled from here on, start-up included: a plugin that
	// hangs while starting must not keep the daemon from stopping.
	var started runStatus
	go func() {
		sig := <-sigs
		first := time.Now()
		logger.Info("stopping: finishing beats in flight; a second signal exits at once", "signal", sig.String())
		stop()
		for sig = range sigs {
			// One signal sent to the whole process group (timeout, some
			// supervisors) can arrive twice; a person's second Ctrl-C cannot
			// come this fast.
			if time.Since(first) > duplicateSignalWindow {
				break
			}
		}
		logger.Warn("second signal: exiting at once", "signal", sig.String())
		if d := started.d.Load(); d != nil {
			d.Stop()
		}
		os.Exit(exitFailed)
	}()

	m := metrics.New()
	rec := statusRecorder(&started)
	m.Track(rec)
	guard := metrics.NewGuard(listenCredentials(cfg))
	if cfg.Listen != "" {
		if w := cfg.ListenWarning(); w != nil {
			logger.Warn(w.Msg, "at", w.Pos.String(), "fix", w.Fix)
		}
		// Health answers during start-up too: unhealthy until it is over.
		addr, _, err := metrics.Serve(runCtx, cfg.Listen, listenHandler(m, &started, rec, guard))
		if err != nil {
			printError(stderr, err)
			return exitFailed
		}
		base := "http://" + addr.String()
		logger.Info("serving metrics, health and status", "metrics", base+"/metrics", "health", base+"/healthz", "status", base+"/status", "api", base+"/api/v1/status", "protected", cfg.ListenAuth != nil)
	}
	d, err := daemon.Start(runCtx, cfg, daemon.Options{Logger: logger, PluginPath: c.pluginPath, Observer: m, CheckWrapper: selfExecutable(), RetryTimedOut: true, Recorder: rec})
	if err != nil {
		if runCtx.Err() != nil {
			logger.Info("heartbeat stopped during start-up")
			return exitOK
		}
		printError(stderr, err)
		return exitInvalid
	}
	started.d.Store(d)
	logUnusedTargets(logger, cfg)
	go reloadOnHUP(runCtx, hups, c, d, m, guard, logger)
	logger.Info("heartbeat started", "version", sdk.Version(), "config", cfg.File, "heartbeats", len(cfg.Heartbeats), "targets", len(cfg.Targets))
	serviceStarted(ctx) // a Windows service reports Running from here
	// Once start-up is over, its garbage and its code need not stay
	// resident (memtrim).
	shed := time.AfterFunc(memtrim.AfterStartup, func() {
		if n, err := memtrim.TrimStartup(); err != nil {
			logger.Debug("start-up pages not released", "error", err.Error())
		} else {
			logger.Debug("start-up pages released", "mapped_bytes", n)
		}
	})
	defer shed.Stop()
	// Garbage between collections: 16 MB while the heap is small, a
	// quarter of it once thousands of heartbeats make it large (heapgoal).
	defer heapgoal.Start()()
	d.Run(runCtx)
	logger.Info("heartbeat stopped")
	return exitOK
}

// reloadObserver counts reloads (the metrics).
type reloadObserver interface{ Reload(err error) }

// reloadOnHUP re-reads the config on SIGHUP. An invalid config is
// rejected and the running one stays in force. Every rejected reload is
// counted: the daemon counts those its plugins reject, this loop those
// that do not even load.
func reloadOnHUP(ctx context.Context, hups <-chan os.Signal, c *common, d *daemon.Daemon, reloads reloadObserver, guard *metrics.Guard, logger hclog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hups:
		}
		path := c.configPath()
		logger.Info("SIGHUP: reloading the config", "config", path)
		old := d.Config()
		cfg, err := config.Load(path, c.configOptions())
		if err != nil {
			reloads.Reload(err)
		} else {
			err = d.Reload(ctx, cfg)
		}
		if err != nil {
			logger.Error("config reload rejected; the running config stays in force", "config", path, "error", err.Error())
			continue
		}
		logger.Info("config reloaded", "config", path, "heartbeats", len(cfg.Heartbeats), "targets", len(cfg.Targets))
		if cfg.Listen != "" {
			// Rotated credentials apply at once; a config without listen
			// leaves the running endpoint as it was.
			guard.Set(listenCredentials(cfg))
		}
		if cfg.Listen != old.Listen {
			logger.Warn("listen changed, which needs a restart: the metrics and health endpoint stays where it was until heartbeat is restarted", "listening", describeListen(old.Listen), "config", describeListen(cfg.Listen))
		}
		logUnusedTargets(logger, cfg)
	}
}

func describeListen(addr string) string {
	if addr == "" {
		return "off"
	}
	return addr
}

// unusedTargets returns the targets no heartbeat sends to, in file order.
// Their plugins are still started and their settings checked, so a target
// written ahead of its heartbeat is known to be valid when it is needed.
func unusedTargets(cfg *config.Config) []*config.Target {
	if cfg.ButlerSOS {
		return nil // its one target is the heartbeat section's own
	}
	used := map[string]bool{}
	for _, hb := range cfg.Heartbeats {
		for _, t := range hb.Targets {
			used[t] = true
		}
	}
	var out []*config.Target
	for _, name := range cfg.TargetNames {
		if !used[name] {
			out = append(out, cfg.Targets[name])
		}
	}
	return out
}

// startChecking starts the daemon for a command that checks the config
// rather than runs it (validate, run --dry-run): quieter logs, and the
// warnings of the config printed as file:line.
func (c *common) startChecking(ctx context.Context, stderr io.Writer) (*daemon.Daemon, bool) {
	c.quieter()
	d, ok := c.startDaemon(ctx, stderr)
	if !ok {
		return nil, false
	}
	for _, t := range unusedTargets(d.Config()) {
		fmt.Fprintf(stderr, "warning: %s: target %q: %s\n", t.Pos, t.Name, unusedTargetWarning)
	}
	return d, true
}

const unusedTargetWarning = "no heartbeat uses this target; its plugin is started and its settings are checked anyway"

func logUnusedTargets(logger hclog.Logger, cfg *config.Config) {
	for _, t := range unusedTargets(cfg) {
		logger.Warn(unusedTargetWarning, "target", t.Name, "plugin", t.Plugin, "at", t.Pos.String())
	}
}

// shortestGap is the shortest time between the next few beats of hb, as
// the daemon fires them.
func shortestGap(hb *config.Heartbeat, from time.Time) (time.Duration, bool) {
	prev, ok, _ := hb.Schedule.NextBeat(from, from)
	if !ok {
		return 0, false
	}
	var shortest time.Duration
	for i := 0; i < 5; i++ {
		next, ok, _ := hb.Schedule.NextBeat(prev, prev)
		if !ok {
			break
		}
		if gap := next.Sub(prev); shortest == 0 || gap < shortest {
			shortest = gap
		}
		prev = next
	}
	return shortest, shortest > 0
}

// selfExecutable is this heartbeat binary, which runs health check
// commands under its wrapper; "" (no wrapper) when it cannot be found.
func selfExecutable() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	return exe
}

// startDaemon loads the config and starts its plugins for a one-shot
// command; errors are printed.
func (c *common) startDaemon(ctx context.Context, stderr io.Writer) (*daemon.Daemon, bool) {
	logger, err := c.logger(stderr)
	if err != nil {
		printError(stderr, err)
		return nil, false
	}
	cfg, err := c.loadConfig()
	if err != nil {
		printError(stderr, err)
		return nil, false
	}
	d, err := daemon.Start(ctx, cfg, daemon.Options{Logger: logger, PluginPath: c.pluginPath, CheckWrapper: selfExecutable()})
	if err != nil {
		printError(stderr, err)
		return nil, false
	}
	return d, true
}

func cmdValidate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, c := newFlagSet("validate", stderr)
	if _, err := parseFlags(fs, args); err != nil {
		return exitInvalid
	}
	d, ok := c.startChecking(ctx, stderr)
	if !ok {
		return exitInvalid
	}
	defer d.Stop()
	cfg := d.Config()
	now := time.Now()
	for _, hb := range cfg.Heartbeats {
		for _, w := range hb.Schedule.WarningsAt(now) {
			fmt.Fprintf(stderr, "warning: %s: heartbeat %q: %s\n", hb.Pos, hb.Name, w)
		}
		if hb.Check != nil {
			if gap, ok := shortestGap(hb, now); ok && hb.Check.Timeout >= gap {
				fmt.Fprintf(stderr, "warning: %s: heartbeat %q: the check may run %s but beats come every %s: a slow check delays the next beat; use a shorter check timeout\n", hb.Pos, hb.Name, hb.Check.Timeout, gap)
			}
		}
	}
	if w := cfg.ListenWarning(); w != nil {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	for _, name := range cfg.TargetNames {
		fmt.Fprintf(stdout, "target %s: plugin %s: %s\n", name, cfg.Targets[name].Plugin, d.Description(name))
	}
	for _, hb := range cfg.Heartbeats {
		next := "never"
		if t, ok, _ := hb.Schedule.NextBeat(now, now); ok {
			next = formatTime(t)
		}
		fmt.Fprintf(stdout, "heartbeat %s: %s -> %s (next: %s)\n", hb.Name, hb.Expression, strings.Join(hb.Targets, ", "), next)
	}
	if cfg.ButlerSOS && len(cfg.Heartbeats) == 0 {
		fmt.Fprintln(stdout, "Butler-SOS.heartbeat.enable is false: no heartbeat is sent")
	}
	fmt.Fprintf(stdout, "%s is valid\n", cfg.File)
	return exitOK
}

func cmdSend(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, c, name, dryRun := sendFlags(stderr)
	if _, err := parseFlags(fs, args); err != nil {
		return exitInvalid
	}
	c.quieter()
	d, ok := c.startDaemon(ctx, stderr)
	if !ok {
		return exitInvalid
	}
	defer d.Stop()
	if *dryRun {
		return sendDryRun(d, *name, stdout, stderr)
	}
	outcomes, err := d.Send(ctx, *name)
	if err != nil {
		printError(stderr, err)
		return exitInvalid
	}
	if len(outcomes) == 0 {
		fmt.Fprintln(stdout, "no heartbeat to send (none enabled)")
		return exitOK
	}
	code := exitOK
	for _, o := range outcomes {
		target := o.Target
		if o.Signal != sdk.SignalSuccess {
			target += " (" + o.Signal.String() + ")"
		}
		switch {
		case o.Skipped:
			if o.Signal != sdk.SignalStart {
				fmt.Fprintf(stdout, "skip %s -> %s: the target does not take %s signals\n", o.Heartbeat, target, o.Signal)
			}
		case o.Err != nil:
			code = exitFailed
			fmt.Fprintf(stdout, "FAIL %s -> %s: %v (%s, %d attempt(s), %s)\n", o.Heartbeat, target, oneLine(o.Err.Error()), o.Kind(), o.Attempts, o.Duration.Round(time.Millisecond))
		default:
			fmt.Fprintf(stdout, "ok   %s -> %s: %s (%d attempt(s), %s)\n", o.Heartbeat, target, o.Result.Detail, o.Attempts, o.Duration.Round(time.Millisecond))
		}
	}
	return code
}

// sendDryRun prints what send would send, sending nothing.
func sendDryRun(d *daemon.Daemon, name string, stdout, stderr io.Writer) int {
	plan, err := d.DryRun(name)
	if err != nil {
		printError(stderr, err)
		return exitInvalid
	}
	if len(d.Config().Heartbeats) == 0 {
		fmt.Fprintln(stdout, "no heartbeat to send (none enabled)")
		return exitOK
	}
	for _, p := range plan {
		fmt.Fprintf(stdout, "would send %s -> %s: %s\n", p.Heartbeat, p.Target, describePlan(p))
	}
	fmt.Fprintln(stdout, "dry run: nothing was sent")
	return exitOK
}

// describePlan says which signals a beat sends to one target, and where.
func describePlan(p daemon.PlannedBeat) string {
	var s string
	switch {
	case p.Check == "":
		s = joinSignals(p.Signals)
	default:
		var first, finish []string
		for _, sig := range p.Signals {
			if sig == sdk.SignalStart {
				first = append(first, sig.String())
			} else {
				finish = append(finish, sig.String())
			}
		}
		s = strings.Join(finish, " or ") + " by the result of the health check (" + p.Check + ")"
		if len(first) > 0 {
			s = "start, then " + s
		}
	}
	if len(p.Signals) == 0 {
		s = "nothing: the target takes none of this beat's signals"
	}
	desc := p.Description
	if desc == "" {
		desc = "not configured yet"
	}
	s += fmt.Sprintf(" [plugin %s: %s]", p.Plugin, desc)
	if len(p.NotTaken) > 0 {
		s += " (not taken by the target: " + joinSignals(p.NotTaken) + ")"
	}
	return s
}

func joinSignals(signals []sdk.Signal) string {
	names := make([]string, len(signals))
	for i, s := range signals {
		names[i] = s.String()
	}
	return strings.Join(names, ", ")
}

// dryRunFires is how many fire times run --dry-run prints per heartbeat.
const dryRunFires = 3

// runDryRun is run --dry-run: it starts and configures the plugins (which
// checks every target's settings), prints for each heartbeat its next fire
// times and what each beat would send, stops the plugins and exits. It
// sends nothing, runs no health check and opens no listener.
func runDryRun(ctx context.Context, c *common, stdout, stderr io.Writer) int {
	d, ok := c.startChecking(ctx, stderr)
	if !ok {
		return exitInvalid
	}
	defer d.Stop()
	cfg := d.Config()
	plan, err := d.DryRun("")
	if err != nil {
		printError(stderr, err)
		return exitInvalid
	}
	now := time.Now()
	for _, hb := range cfg.Heartbeats {
		fires := []string{"at start-up"}
		t := now
		for i := 0; i < dryRunFires; i++ {
			next, ok, _ := hb.Schedule.NextBeat(t, t) // the daemon's fire times, as next prints them
			if !ok {
				break
			}
			fires = append(fires, formatTime(next))
			t = next
		}
		if len(fires) == 1 {
			fires = append(fires, "then never again")
		}
		fmt.Fprintf(stdout, "heartbeat %s: %s\n  beats: %s\n", hb.Name, hb.Expression, strings.Join(fires, ", "))
		for _, p := range plan {
			if p.Heartbeat == hb.Name {
				fmt.Fprintf(stdout, "  -> %s: %s\n", p.Target, describePlan(p))
			}
		}
	}
	if len(cfg.Heartbeats) == 0 {
		fmt.Fprintln(stdout, "no heartbeat is enabled")
	}
	fmt.Fprintf(stdout, "dry run of %s: nothing was sent\n", cfg.File)
	return exitOK
}

// oneLine keeps an error on one output line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func cmdPlugins(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, c := newFlagSet("plugins", stderr)
	withSHA := fs.Bool("sha256", false, "also print each binary's SHA-256")
	if _, err := parseFlags(fs, args); err != nil {
		return exitInvalid
	}
	// The config decides which plugins may run (pins, permissions), so a
	// config that does not load means none is run, only listed.
	cfg, cfgErr := c.pluginsConfig()
	if cfgErr != nil {
		printError(stderr, cfgErr)
		fmt.Fprintln(stderr, "note: without the config its sha256 pins are unknown, so no plugin is run; fix the config (heartbeat validate) to see their versions")
	}
	catalog, err := c.pluginPath(cfg).Scan()
	if err != nil {
		printError(stderr, err)
		return exitFailed
	}
	found, skipped := catalog.Found, catalog.Skipped
	if len(found) == 0 && len(skipped) == 0 {
		fmt.Fprintf(stdout, "no plugins in %s\n", catalog.Path)
		return exitOK
	}
	host := pluginhost.New(pluginhost.Options{})
	defer host.Stop()
	type row struct{ name, line string }
	var rows []row
	sum := func(path string) string {
		if !*withSHA {
			return ""
		}
		s, err := fileSHA256(path)
		if err != nil {
			s = "error: " + err.Error()
		}
		return "\t" + s
	}
	// file is the FILE column: the file a name resolves to, and the files
	// of that name it hides.
	file := func(name, path string) string {
		var notes []string
		for _, sh := range catalog.Shadows(name) {
			what := name
			if sh.Dir.Bundled {
				what = "bundled " + name
			}
			notes = append(notes, fmt.Sprintf("shadows %s at %s", what, sh.Path))
		}
		if len(notes) == 0 {
			return "\t" + path
		}
		return fmt.Sprintf("\t%s (%s)", path, strings.Join(notes, "; "))
	}
	code := exitOK
	for _, s := range skipped {
		code = exitFailed
		rows = append(rows, row{s.Name, fmt.Sprintf("%s\t-\t-\tskipped: %s%s%s", s.Name, s.Reason, sum(s.Path), file(s.Name, s.Path))})
	}
	for _, f := range found {
		var refused error
		if cfgErr != nil {
			refused = errors.New("not run: the config does not load (see above)")
		} else if err := checkPlugin(&f, cfg); err != nil {
			refused = fmt.Errorf("refused: %w", err)
		}
		if refused != nil {
			code = exitFailed
			rows = append(rows, row{f.Name, fmt.Sprintf("%s\t-\t-\t%s%s%s", f.Name, oneLine(refused.Error()), sum(f.Path), file(f.Name, f.Path))})
			continue
		}
		p, err := host.Start(ctx, f)
		if err != nil {
			code = exitFailed
			rows = append(rows, row{f.Name, fmt.Sprintf("%s\t?\t?\terror: %s%s%s", f.Name, oneLine(err.Error()), sum(f.Path), file(f.Name, f.Path))})
			continue
		}
		info := p.Info()
		signals := make([]string, len(info.Signals))
		for i, s := range info.Signals {
			signals[i] = s.String()
		}
		rows = append(rows, row{f.Name, fmt.Sprintf("%s\t%s\t%s\t%s%s%s", f.Name, info.Version, strings.Join(signals, ","), info.Description, sum(f.Path), file(f.Name, f.Path))})
	}
	// A hidden file is listed, never run: only the file a name resolves
	// to is ever started.
	for _, sh := range catalog.Shadowed {
		rows = append(rows, row{sh.Name, fmt.Sprintf("%s\t-\t-\tshadowed by %s%s\t%s", sh.Name, sh.By, sum(sh.Path), sh.Path)})
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].name < rows[j].name })
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	header := "NAME\tVERSION\tSIGNALS\tDESCRIPTION"
	if *withSHA {
		header += "\tSHA256"
	}
	fmt.Fprintln(tw, header+"\tFILE")
	for _, r := range rows {
		fmt.Fprintln(tw, r.line)
	}
	_ = tw.Flush()
	dirs := make([]string, len(catalog.Path))
	for i, d := range catalog.Path {
		dirs[i] = fmt.Sprintf("%s (%s)", d.Path, d.From)
	}
	if len(dirs) == 1 {
		fmt.Fprintf(stdout, "\nplugin directory: %s\n", dirs[0])
	} else {
		fmt.Fprintf(stdout, "\nplugin directories, searched in this order (the first file of a name wins): %s\n", strings.Join(dirs, ", "))
	}
	return code
}

// pluginsConfig loads the config that decides which plugins may run: the
// one given (--config, $HEARTBEAT_CONFIG) or found in the default places.
// It is nil, with no error, when none is given or found.
func (c *common) pluginsConfig() (*config.Config, error) {
	if _, err := c.findConfig(); err != nil {
		return nil, nil //nolint:nilerr // no config given or found: nothing to respect
	}
	return c.loadConfig()
}

func fileSHA256(path string) (string, error) {
	sum, err := pluginhost.FileSHA256(path)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(sum), nil
}

func cmdVersion(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, c := newFlagSet("version", stderr)
	withPlugins := fs.Bool("plugins", false, "also print the versions of the plugins")
	if _, err := parseFlags(fs, args); err != nil {
		return exitInvalid
	}
	fmt.Fprintf(stdout, "heartbeat %s (commit %s, %s, %s/%s)\n", sdk.Version(), sdk.Commit(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if !*withPlugins {
		return exitOK
	}
	// The same config and plugin directory as plugins: its pins apply.
	var pluginArgs []string
	if c.config != "" {
		pluginArgs = append(pluginArgs, "--config", c.config)
	}
	for _, dir := range c.pluginDirs {
		pluginArgs = append(pluginArgs, "--plugin-dir", dir)
	}
	return cmdPlugins(ctx, pluginArgs, stdout, stderr)
}

// checkPlugin refuses a plugin file as run would, before anything runs it:
// its permissions (unless the config turns that off) and the config's pin,
// which it sets on f.
func checkPlugin(f *pluginhost.Found, cfg *config.Config) error {
	insecure := false
	if cfg != nil {
		if pin, ok := cfg.Plugins[f.Name]; ok {
			f.SHA256 = pin.SHA256
		}
		insecure = cfg.InsecurePluginPermissions
	}
	return pluginhost.Check(*f, insecure)
}
