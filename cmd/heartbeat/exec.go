package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/core/config"
	"github.com/seed-e9b80cf6/heartbeat/core/daemon"
	"github.com/seed-e9b80cf6/heartbeat/core/schedule"
)

// Defaults of heartbeat exec.
const (
	// defaultBodyLimit is how much of the job's output is kept for the
	// finish signal: hc-ping.com's limit, which runitor also ends up with
	// there (it adopts the server's Ping-Body-Limit); each plugin cuts it
	// further to what its tool takes.
	defaultBodyLimit = 100_000
	// maxBodyLimit is runitor's own ceiling.
	maxBodyLimit = 10_000_000
	// defaultReportTimeout bounds each report phase (the start signal, the
	// finish signal), retries included.
	defaultReportTimeout = time.Minute
	// defaultSkipExitCode is EX_TEMPFAIL: the run was skipped because
	// another one holds the lock; try again later.
	defaultSkipExitCode = 75
	// timedOutExitCode is timeout(1)'s status for a job that was timed out
	// but exited 0 after SIGTERM.
	timedOutExitCode = 124
	// lockErrorExitCode is the exit status when the lock cannot be taken
	// for another reason than another run holding it.
	lockErrorExitCode = 1
)

// Environment variables heartbeat exec reads when no target is given on
// the command line. CHECK_UUID, CHECK_SLUG, PING_KEY (or HC_PING_KEY) and
// HC_API_URL are runitor's.
const (
	urlEnv       = "HEARTBEAT_URL"
	runIDEnv     = "HEARTBEAT_RUN_ID"
	checkUUIDEnv = "CHECK_UUID"
	checkSlugEnv = "CHECK_SLUG"
	pingKeyEnv   = "PING_KEY"
	hcPingKeyEnv = "HC_PING_KEY"
	hcAPIURLEnv  = "HC_API_URL"
)

// execOptions are heartbeat exec's flags.
type execOptions struct {
	c *common

	urls      []string
	targets   []string
	heartbeat string
	uuid      string
	slug      string
	pingKey   string
	apiURL    string
	create    bool
	headers   []string
	name      string

	noStartPing    bool
	noRunID        bool
	noOutputInPing bool
	bodyLimit      int64
	requestTimeout time.Duration
	retries        int
	reportTimeout  time.Duration
	onSuccess      pingType
	onNonzeroExit  pingType
	onExecFail     pingType
	reportFailCode int

	quiet     bool
	silent    bool
	timeout   time.Duration
	killGrace time.Duration
	lock      string
	lockWait  bool
	skipCode  int

	every    string
	cron     string
	timezone string

	// set names the flags given on the command line.
	set map[string]bool
}

// execFlags defines exec's flags.
func execFlags(stderr io.Writer) (*flag.FlagSet, *execOptions) {
	fs, c := newFlagSet("exec", stderr)
	o := &execOptions{c: c, bodyLimit: defaultBodyLimit, reportTimeout: defaultReportTimeout, retries: config.DefaultRetries,
		onSuccess: pingSuccess, onNonzeroExit: pingExitCode, onExecFail: pingFail, skipCode: defaultSkipExitCode}
	// Where to report.
	fs.Var(listFlag{&o.urls}, "url", "report to the ping `URL` of a Healthchecks check, an Uptime Kuma push monitor or any other URL, recognised by its shape (repeat it for several; file:PATH reads it from a file; default: $"+urlEnv+")")
	fs.Var(listFlag{&o.targets}, "target", "report to the target `NAME` of the config (repeat it for several)")
	fs.StringVar(&o.heartbeat, "heartbeat", "", "report to the targets of the config's heartbeat `NAME`")
	fs.StringVar(&o.uuid, "uuid", "", "Healthchecks check `UUID` (default: $"+checkUUIDEnv+"); file:PATH reads it from a file")
	fs.StringVar(&o.slug, "slug", "", "Healthchecks check `SLUG`, with --ping-key (default: $"+checkSlugEnv+"); file:PATH reads it from a file")
	fs.StringVar(&o.pingKey, "ping-key", "", "Healthchecks project ping `KEY`, with --slug (default: $"+pingKeyEnv+" or $"+hcPingKeyEnv+"); file:PATH reads it from a file")
	fs.StringVar(&o.apiURL, "api-url", "", "Healthchecks ping endpoint `URL` for --uuid and --slug (default: $"+hcAPIURLEnv+", else https://hc-ping.com)")
	fs.BoolVar(&o.create, "create", false, "have Healthchecks create the check of --slug when it does not exist")
	fs.Var(listFlag{&o.headers}, "header", "extra request header `\"NAME: VALUE\"` for the targets of --url, --uuid and --slug (repeat it for several)")
	fs.StringVar(&o.name, "name", "", "the job's `NAME` in the beats (default: the heartbeat of --heartbeat, else the command's file name)")
	// What to report.
	fs.BoolVar(&o.noStartPing, "no-start-ping", false, "send no start signal before the job runs")
	fs.BoolVar(&o.noRunID, "no-run-id", false, "send no run id pairing the start signal with the finish")
	fs.BoolVar(&o.noOutputInPing, "no-output-in-ping", false, "send none of the job's output with the finish signal")
	fs.Var(byteCountFlag{&o.bodyLimit}, "ping-body-limit", fmt.Sprintf("keep the last `BYTES` of the job's output for the finish signal, 1 to %d (0: %d); each target cuts it further to what its tool takes", maxBodyLimit, maxBodyLimit))
	fs.Var(durationFlag{&o.requestTimeout}, "request-timeout", "time allowed for each request to a monitoring tool, e.g. 5s (default: each target's timeout; 15s for --url)")
	fs.IntVar(&o.retries, "retries", config.DefaultRetries, "retry a request that failed for a reason that may pass (network, timeout, 5xx, 429) `N` times")
	fs.Var(durationFlag{&o.reportTimeout}, "report-timeout", "give up reporting one signal after `DURATION`, retries included")
	fs.Var(pingTypeFlag{&o.onSuccess}, "on-success", "signal to send when the job exits 0: `SIGNAL` is success, fail, log or exit-code (default success)")
	fs.Var(pingTypeFlag{&o.onNonzeroExit}, "on-nonzero-exit", "signal to send when the job exits non-zero or is killed: `SIGNAL` is success, fail, log or exit-code (default exit-code)")
	fs.Var(pingTypeFlag{&o.onExecFail}, "on-exec-fail", "signal to send when the command cannot be started: `SIGNAL` is success, fail, log or exit-code (default fail)")
	fs.IntVar(&o.reportFailCode, "report-failure-exit-code", 0, "exit with `CODE` (1-255) instead of the job's status when a signal could not be delivered")
	// How to run the job.
	fs.BoolVar(&o.quiet, "quiet", false, "do not show the job's standard output (it is still sent with the finish signal)")
	fs.BoolVar(&o.silent, "silent", false, "do not show the job's standard output or error (they are still sent with the finish signal)")
	fs.Var(durationFlag{&o.timeout}, "timeout", "stop the job after `DURATION` (SIGTERM to its process group, SIGKILL after --kill-grace) and report a failure")
	o.killGrace = 10 * time.Second
	fs.Var(durationFlag{&o.killGrace}, "kill-grace", "time between SIGTERM and SIGKILL when the job is stopped, `DURATION`")
	fs.StringVar(&o.lock, "lock", "", "hold an exclusive lock on `PATH` while the job runs; when another run holds it, skip this one (report a log signal, exit with --skip-exit-code)")
	fs.BoolVar(&o.lockWait, "lock-wait", false, "with --lock, wait for the lock instead of skipping the run")
	fs.IntVar(&o.skipCode, "skip-exit-code", defaultSkipExitCode, "exit status `CODE` of a run skipped because another holds --lock (0-255)")
	// When to run it.
	fs.StringVar(&o.every, "every", "", "run the job periodically, at the times of the later.js `FREQUENCY` (e.g. \"every 15 minutes\"); SIGALRM runs it at once")
	fs.StringVar(&o.cron, "cron", "", "run the job periodically, at the times of the cron `EXPRESSION` (e.g. \"*/15 * * * *\"); SIGALRM runs it at once")
	fs.StringVar(&o.timezone, "timezone", "", "IANA time `ZONE` of --every and --cron (default UTC)")
	return fs, o
}

// listFlag is a repeatable string flag.
type listFlag struct{ values *[]string }

func (f listFlag) String() string {
	if f.values == nil {
		return ""
	}
	return strings.Join(*f.values, ",")
}

func (f listFlag) Set(s string) error {
	*f.values = append(*f.values, s)
	return nil
}

// durationFlag reads a duration as the config does: "5s", "1m30s" or a
// number of seconds.
type durationFlag struct{ d *time.Duration }

func (f durationFlag) String() string {
	if f.d == nil || *f.d == 0 {
		return ""
	}
	return f.d.String()
}

func (f durationFlag) Set(s string) error {
	d, err := config.ParseDuration(s)
	if err != nil {
		return errors.New("not a duration: write e.g. 30s, 5m or 1h30m")
	}
	if d < 0 {
		return errors.New("must not be negative")
	}
	*f.d = d
	return nil
}

// byteCountFlag reads a byte count: a number or a size such as 64KiB.
type byteCountFlag struct{ n *int64 }

func (f byteCountFlag) String() string {
	if f.n == nil {
		return ""
	}
	return strconv.FormatInt(*f.n, 10)
}

func (f byteCountFlag) Set(s string) error {
	n, err := config.ParseByteSize(s)
	if err != nil {
		return err
	}
	if n < 0 || n > maxBodyLimit {
		return fmt.Errorf("must be from 0 to %d bytes", maxBodyLimit)
	}
	if n == 0 {
		n = maxBodyLimit
	}
	*f.n = n
	return nil
}

// cutCommand splits exec's arguments at the first "--": heartbeat's flags
// before it, the command to run after it.
func cutCommand(args []string) (flags, command []string, found bool) {
	i := slices.Index(args, "--")
	if i < 0 {
		return args, nil, false
	}
	return args[:i], args[i+1:], true
}

func cmdExec(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	flagArgs, command, _ := cutCommand(args)
	fs, o := execFlags(stderr)
	if _, err := parseFlags(fs, flagArgs); err != nil {
		return exitInvalid
	}
	if len(command) == 0 {
		cmd, _ := lookupCommand("exec")
		fmt.Fprintf(stderr, "heartbeat exec: missing the command to run, after --\nusage: %s\nrun 'heartbeat exec --help' for more\n", synopsis(cmd))
		return exitInvalid
	}
	o.set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
	if err := o.check(); err != nil {
		fmt.Fprintf(stderr, "heartbeat exec: %v\n", err)
		return exitInvalid
	}
	periodic := o.every != "" || o.cron != ""
	if !periodic {
		o.c.quieter()
	}
	// The job's output and heartbeat's own lines share the terminal: one
	// lock keeps each line whole.
	out := newLineLock(stdout, stderr)
	logger, err := o.c.logger(out.stderr)
	if err != nil {
		printError(stderr, err)
		return exitInvalid
	}
	var sched *schedule.Schedule
	if periodic {
		if sched, err = o.schedule(); err != nil {
			fmt.Fprintf(stderr, "heartbeat exec: %v\n", err)
			return exitInvalid
		}
	}
	cfg, warnings, err := o.reportConfig(os.LookupEnv)
	if err != nil {
		printError(stderr, err)
		return exitInvalid
	}
	for _, w := range warnings {
		fmt.Fprintf(out.stderr, "heartbeat exec: warning: %s\n", w)
	}

	// Signals are handled from before the plugins start: a signal then
	// stops heartbeat before the job runs.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, forwardedSignals()...)
	defer signal.Stop(sigs)
	var alarms chan os.Signal
	if periodic {
		alarms = make(chan os.Signal, 1)
		notifyAlarm(alarms)
		defer signal.Stop(alarms)
	}
	router := newSignalRouter(ctx, sigs)
	defer router.close()

	d, err := daemon.Start(router.ctx, cfg, daemon.Options{Logger: logger, PluginPath: o.c.pluginPath, CheckWrapper: selfExecutable(), RetryTimedOut: true})
	if err != nil {
		if sig := router.stoppedBy(); sig != nil {
			return signalExitCode(sig)
		}
		printError(stderr, err)
		return exitInvalid
	}
	defer d.Stop()
	r := &execRunner{o: o, d: d, logger: logger, out: out, command: command, router: router, periodic: periodic, name: o.jobName(command)}
	if !periodic {
		return r.runOnce(time.Now(), 1)
	}
	return r.loop(sched, alarms)
}

// check validates flag combinations, before anything runs.
func (o *execOptions) check() error {
	var errs []string
	add := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if o.every != "" && o.cron != "" {
		add("--every and --cron both say when to run: give one")
	}
	if o.timezone != "" && o.every == "" && o.cron == "" {
		add("--timezone applies to --every and --cron: add one, or remove --timezone")
	}
	if o.lockWait && o.lock == "" {
		add("--lock-wait needs --lock PATH")
	}
	if o.set["skip-exit-code"] && o.lock == "" {
		add("--skip-exit-code needs --lock PATH")
	}
	if o.skipCode < 0 || o.skipCode > 255 {
		add("--skip-exit-code %d: use 0 to 255", o.skipCode)
	}
	if o.set["report-failure-exit-code"] && (o.reportFailCode < 1 || o.reportFailCode > 255) {
		add("--report-failure-exit-code %d: use 1 to 255", o.reportFailCode)
	}
	if o.retries < 0 || o.retries > 10 {
		add("--retries %d: use 0 to 10", o.retries)
	}
	if o.set["request-timeout"] && o.requestTimeout == 0 {
		add("--request-timeout must be more than 0, e.g. 5s")
	}
	if o.reportTimeout == 0 {
		add("--report-timeout must be more than 0, e.g. 30s")
	}
	if o.set["kill-grace"] && o.killGrace == 0 {
		add("--kill-grace must be more than 0, e.g. 10s")
	}
	if o.lock != "" {
		if dir := filepath.Dir(o.lock); dir != "" {
			if st, err := os.Stat(dir); err != nil || !st.IsDir() {
				add("--lock %s: its directory %s does not exist; create it or choose another path", boundText(o.lock), boundText(dir))
			}
		}
	}
	for _, h := range o.headers {
		if _, _, err := parseHeader(h); err != nil {
			add("--header: %v", err)
		}
	}
	if len(o.headers) > 0 && len(o.urls) == 0 && o.uuid == "" && o.slug == "" && (len(o.targets) > 0 || o.heartbeat != "") {
		add("--header applies to the targets of --url, --uuid and --slug; for a target of the config, set its headers in the config")
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "\nheartbeat exec: "))
	}
	return nil
}

// schedule parses --every or --cron as the daemon parses a heartbeat's
// frequency or cron.
func (o *execOptions) schedule() (*schedule.Schedule, error) {
	var s *schedule.Schedule
	var err error
	if o.cron != "" {
		s, err = schedule.ParseCron(o.cron)
		if err != nil {
			return nil, fmt.Errorf("--cron: %w", err)
		}
	} else {
		s, err = schedule.Parse(o.every)
		if err != nil {
			if d, derr := time.ParseDuration(strings.TrimSpace(o.every)); derr == nil && d > 0 {
				return nil, fmt.Errorf("--every takes a later.js frequency, not a duration: write e.g. --every \"every %s\" (see heartbeat next for its times)", laterWords(d))
			}
			return nil, fmt.Errorf("--every: %w", err)
		}
	}
	if o.timezone != "" {
		loc, err := time.LoadLocation(o.timezone)
		if err != nil || o.timezone == "Local" {
			return nil, fmt.Errorf("--timezone %s: not an IANA time zone name such as Europe/Paris or America/New_York", boundText(o.timezone))
		}
		s = s.In(loc)
	}
	return s, nil
}

// laterWords words a duration the way later.js frequencies are written.
func laterWords(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%d hours", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%d minutes", d/time.Minute)
	}
	return fmt.Sprintf("%d seconds", max(d/time.Second, 1))
}

// jobName is the job's name in the beats.
func (o *execOptions) jobName(command []string) string {
	switch {
	case o.name != "":
		return o.name
	case o.heartbeat != "":
		return o.heartbeat
	}
	return filepath.Base(command[0])
}

// forwardedSignals are passed on to the job while it runs.
func forwardedSignals() []os.Signal {
	return []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}
}

// signalExitCode is a shell's status for a process ended by sig.
func signalExitCode(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return exitFailed
}

// boundText keeps a value from the command line short and on one line
// for a message.
func boundText(s string) string {
	const max = 200
	if len(s) > max {
		s = strings.ToValidUTF8(s[:max], "") + "…"
	}
	return strconv.QuoteToGraphic(s)
}
