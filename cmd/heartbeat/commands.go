package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
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
)

// duplicateSignalWindow: signals closer together than this count as one.
const duplicateSignalWindow = 300 * time.Millisecond

func cmdRun(ctx context.Context, args []string, _, stderr io.Writer) int {
	fs, c := newFlagSet("run", stderr)
	if _, err := parseFlags(fs, args); err != nil {
		return exitInvalid
	}
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

	m := metrics.New()
	d, err := daemon.Start(runCtx, cfg, daemon.Options{Logger: logger, PluginDir: c.resolvePluginDir(cfg), Observer: m, CheckWrapper: selfExecutable()})
	if err != nil {
		printError(stderr, err)
		return exitInvalid
	}
	if cfg.Listen != "" {
		addr, _, err := metrics.Serve(runCtx, cfg.Listen, m.Handler(d))
		if err != nil {
			d.Stop()
			printError(stderr, err)
			return exitFailed
		}
		logger.Info("serving metrics and health", "metrics", "http://"+addr.String()+"/metrics", "health", "http://"+addr.String()+"/healthz")
	}
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
		d.Stop()
		os.Exit(exitFailed)
	}()
	go reloadOnHUP(runCtx, hups, c, d, logger)
	logger.Info("heartbeat started", "version", sdk.Version(), "config", cfg.File, "heartbeats", len(cfg.Heartbeats), "targets", len(cfg.Targets))
	d.Run(runCtx)
	logger.Info("heartbeat stopped")
	return exitOK
}

// reloadOnHUP re-reads the config on SIGHUP. An invalid config is
// rejected and the running one stays in force.
func reloadOnHUP(ctx context.Context, hups <-chan os.Signal, c *common, d *daemon.Daemon, logger hclog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hups:
		}
		path := c.configPath()
		logger.Info("SIGHUP: reloading the config", "config", path)
		cfg, err := config.Load(path, config.Options{})
		if err == nil {
			err = d.Reload(ctx, cfg)
		}
		if err != nil {
			logger.Error("config reload rejected; the running config stays in force", "config", path, "error", err.Error())
			continue
		}
		logger.Info("config reloaded", "config", path, "heartbeats", len(cfg.Heartbeats), "targets", len(cfg.Targets))
	}
}

// shortestGap is the shortest time between the next few beats of hb.
func shortestGap(hb *config.Heartbeat, from time.Time) (time.Duration, bool) {
	prev, ok := hb.Schedule.NextFire(from)
	if !ok {
		return 0, false
	}
	var shortest time.Duration
	for i := 0; i < 5; i++ {
		next, ok := hb.Schedule.NextFire(prev)
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
	d, err := daemon.Start(ctx, cfg, daemon.Options{Logger: logger, PluginDir: c.resolvePluginDir(cfg), CheckWrapper: selfExecutable()})
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
	c.quieter()
	d, ok := c.startDaemon(ctx, stderr)
	if !ok {
		return exitInvalid
	}
	defer d.Stop()
	cfg := d.Config()
	now := time.Now()
	for _, hb := range cfg.Heartbeats {
		for _, w := range hb.Schedule.Warnings() {
			fmt.Fprintf(stderr, "warning: %s: heartbeat %q: %s\n", hb.Pos, hb.Name, w)
		}
		if hb.Check != nil {
			if gap, ok := shortestGap(hb, now); ok && hb.Check.Timeout >= gap {
				fmt.Fprintf(stderr, "warning: %s: heartbeat %q: the check may run %s but beats come every %s: a slow check delays the next beat; use a shorter check timeout\n", hb.Pos, hb.Name, hb.Check.Timeout, gap)
			}
		}
	}
	for _, name := range cfg.TargetNames {
		fmt.Fprintf(stdout, "target %s: plugin %s: %s\n", name, cfg.Targets[name].Plugin, d.Description(name))
	}
	for _, hb := range cfg.Heartbeats {
		next := "never"
		if t, ok := hb.Schedule.NextFire(now); ok {
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
	fs, c := newFlagSet("send", stderr)
	name := fs.String("heartbeat", "", "send only this heartbeat")
	if _, err := parseFlags(fs, args); err != nil {
		return exitInvalid
	}
	c.quieter()
	d, ok := c.startDaemon(ctx, stderr)
	if !ok {
		return exitInvalid
	}
	defer d.Stop()
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
	var cfg *config.Config
	if c.pluginDir == "" {
		cfg, _ = c.loadConfig() // only for plugin_dir; validate reports config errors
	}
	dir := c.resolvePluginDir(cfg)
	found, err := pluginhost.Discover(dir)
	if err != nil {
		printError(stderr, err)
		return exitFailed
	}
	if len(found) == 0 {
		fmt.Fprintf(stdout, "no plugins in %s\n", dir)
		return exitOK
	}
	host := pluginhost.New(pluginhost.Options{})
	defer host.Stop()
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	header := "NAME\tVERSION\tSIGNALS\tDESCRIPTION"
	if *withSHA {
		header += "\tSHA256"
	}
	fmt.Fprintln(tw, header)
	code := exitOK
	for _, f := range found {
		p, err := host.Start(ctx, f)
		if err != nil {
			code = exitFailed
			fmt.Fprintf(tw, "%s\t?\t?\terror: %v\n", f.Name, err)
			continue
		}
		info := p.Info()
		signals := make([]string, len(info.Signals))
		for i, s := range info.Signals {
			signals[i] = s.String()
		}
		line := fmt.Sprintf("%s\t%s\t%s\t%s", f.Name, info.Version, strings.Join(signals, ","), info.Description)
		if *withSHA {
			sum, err := fileSHA256(f.Path)
			if err != nil {
				sum = "error: " + err.Error()
			}
			line += "\t" + sum
		}
		fmt.Fprintln(tw, line)
	}
	_ = tw.Flush()
	fmt.Fprintf(stdout, "\nplugin directory: %s\n", dir)
	return code
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
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
	return cmdPlugins(ctx, []string{"--plugin-dir", c.resolvePluginDir(nil)}, stdout, stderr)
}
