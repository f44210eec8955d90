// Command soak runs the real heartbeat daemon with many heartbeats through
// the http plugin against a local HTTP server for a while, then reports how
// many beats arrived, how late they were, and what the core and the plugin
// process hold in threads, open files and memory at the start and the end.
//
//	go run ./bench/soak                    # 1000 heartbeats, 10 minutes
//	go run ./bench/soak -duration 2m
//	HEARTBEAT_SOAK_DURATION=30m go run ./bench/soak
//
// See README.md in this directory.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/core/schedule"
)

const frequency = "every 1 sec"

func main() {
	duration := 10 * time.Minute
	if env := os.Getenv("HEARTBEAT_SOAK_DURATION"); env != "" {
		d, err := time.ParseDuration(env)
		if err != nil {
			fmt.Fprintf(os.Stderr, "soak: HEARTBEAT_SOAK_DURATION=%q: %v\n", env, err)
			os.Exit(2)
		}
		duration = d
	}
	flag.DurationVar(&duration, "duration", duration, "how long the daemon runs (default: $HEARTBEAT_SOAK_DURATION or 10m)")
	heartbeats := flag.Int("heartbeats", 1000, "number of heartbeats, each with its own http target")
	keep := flag.Bool("keep", false, "keep the work directory (config, binaries, daemon log)")
	flag.Parse()
	if err := run(duration, *heartbeats, *keep, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

func run(duration time.Duration, n int, keep bool, out io.Writer) error {
	if n < 1 {
		return errors.New("-heartbeats must be at least 1")
	}
	work, err := os.MkdirTemp("", "heartbeat-soak-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Fprintln(out, "work directory:", work)
	} else {
		defer os.RemoveAll(work)
	}
	core, pluginDir, err := build(work)
	if err != nil {
		return err
	}

	rec, addr, stopServer, err := serve(n)
	if err != nil {
		return err
	}
	defer stopServer()
	cfgPath := filepath.Join(work, "heartbeat.yaml")
	if err := os.WriteFile(cfgPath, []byte(config(addr, n)), 0o600); err != nil {
		return err
	}
	logPath := filepath.Join(work, "daemon.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()

	cmd := exec.Command(core, "run", "--config", cfgPath, "--plugin-dir", pluginDir, "--log-level", "warn")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	defer func() {
		_ = cmd.Process.Kill()
		<-exited
	}()
	started := time.Now()
	fmt.Fprintf(out, "soak: %d heartbeats %q through the http plugin for %s (%d CPUs, load average %s at start)\n",
		n, frequency, duration, runtime.NumCPU(), loadAvg())

	// Resource use once every heartbeat has beaten a few times, and at the end.
	settle := min(10*time.Second, duration/4)
	if !sleepUnlessExited(settle, exited) {
		return fmt.Errorf("the daemon exited early; see %s", logPath)
	}
	pluginPid := pluginProcess(pluginDir, "http")
	first := sample(cmd.Process.Pid, pluginPid)
	if !sleepUnlessExited(duration-settle, exited) {
		return fmt.Errorf("the daemon exited early; see %s", logPath)
	}
	last := sample(cmd.Process.Pid, pluginPid)

	stopAt := time.Now()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	var exitTook time.Duration
	select {
	case <-exited:
		exitTook = time.Since(stopAt)
	case <-time.After(30 * time.Second):
		return fmt.Errorf("the daemon did not exit within 30s of SIGTERM; see %s", logPath)
	}
	logText, err := os.ReadFile(logPath)
	if err != nil {
		return err
	}
	fires, err := fireTimes(string(logText), stopAt)
	if err != nil {
		return fmt.Errorf("%w; see %s", err, logPath)
	}
	res := analyse(rec.snapshot(), fires, stopAt.Add(-2*time.Second))
	report(out, reportData{
		n: n, ran: stopAt.Sub(started), res: res, fires: fires,
		first: first, last: last, exitCode: cmd.ProcessState.ExitCode(), exitTook: exitTook,
		skipped: strings.Count(string(logText), "previous beat still in progress"),
		failed:  strings.Count(string(logText), "beat not delivered"),
		errors:  strings.Count(string(logText), "[ERROR]"),
	})
	return nil
}

// build compiles the core and the http and log plugins into dir.
func build(dir string) (core, pluginDir string, err error) {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", "", fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	pluginDir = filepath.Join(dir, "plugins")
	if err := os.MkdirAll(pluginDir, 0o755); err != nil {
		return "", "", err
	}
	core = filepath.Join(dir, "heartbeat")
	for out, pkg := range map[string]string{
		core: "./cmd/heartbeat",
		filepath.Join(pluginDir, "heartbeat-target-http"): "./plugins/http",
		filepath.Join(pluginDir, "heartbeat-target-log"):  "./plugins/log",
	} {
		cmd := exec.Command("go", "build", "-o", out, pkg)
		cmd.Dir = root
		if b, err := cmd.CombinedOutput(); err != nil {
			return "", "", fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
		}
	}
	return core, pluginDir, nil
}

// config has n heartbeats, each with its own http target, and a "clock"
// heartbeat on the same schedule to the log plugin, whose log lines give
// the fire time of every tick: all heartbeats start together and share
// their fire times.
func config(addr string, n int) string {
	var b strings.Builder
	b.WriteString("targets:\n  clock: { plugin: log, config: { level: warn } }\n")
	for i := range n {
		fmt.Fprintf(&b, "  t%d: { plugin: http, config: { url: \"http://%s/hb/%d\" } }\n", i, addr, i)
	}
	fmt.Fprintf(&b, "heartbeats:\n  - { name: clock, frequency: %s, targets: [clock] }\n", frequency)
	for i := range n {
		fmt.Fprintf(&b, "  - { name: hb%d, frequency: %s, targets: [t%d] }\n", i, frequency, i)
	}
	return b.String()
}

// recorder keeps the arrival times of the beats of each heartbeat.
type recorder struct {
	mu   sync.Mutex
	hits [][]time.Time
	odd  int
}

func (r *recorder) snapshot() [][]time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([][]time.Time, len(r.hits))
	for i, h := range r.hits {
		out[i] = slices.Clone(h)
	}
	return out
}

func serve(n int) (*recorder, string, func(), error) {
	rec := &recorder{hits: make([][]time.Time, n)}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", nil, err
	}
	srv := &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			at := time.Now()
			i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/hb/"))
			rec.mu.Lock()
			if err != nil || i < 0 || i >= n {
				rec.odd++
			} else {
				rec.hits[i] = append(rec.hits[i], at)
			}
			rec.mu.Unlock()
			w.WriteHeader(http.StatusNoContent)
		}),
	}
	go func() { _ = srv.Serve(l) }()
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
	return rec, l.Addr().String(), stop, nil
}

var (
	clockLineRE   = regexp.MustCompile(`beat received:.*\bheartbeat=clock\b`)
	scheduledAtRE = regexp.MustCompile(`\bscheduled_at=(\S+)`)
)

// fireTimes are the fire times of the ticks, read from the clock
// heartbeat's lines in the daemon log. A tick the clock heartbeat missed is
// filled in with Schedule.NextFire.
func fireTimes(log string, until time.Time) ([]time.Time, error) {
	var logged []time.Time
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !clockLineRE.MatchString(line) {
			continue
		}
		m := scheduledAtRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, m[1])
		if err != nil {
			return nil, fmt.Errorf("scheduled_at %q: %w", m[1], err)
		}
		logged = append(logged, at)
	}
	if len(logged) == 0 {
		return nil, errors.New("no beat of the clock heartbeat in the daemon log")
	}
	slices.SortFunc(logged, func(a, b time.Time) int { return a.Compare(b) })
	logged = slices.CompactFunc(logged, func(a, b time.Time) bool { return a.Equal(b) })
	sched, err := schedule.Parse(frequency)
	if err != nil {
		return nil, err
	}
	fires := []time.Time{logged[0]}
	for i := 1; ; {
		next, ok := sched.NextFire(fires[len(fires)-1])
		switch {
		case i < len(logged) && !next.Before(logged[i].Add(-500*time.Millisecond)):
			// The logged time wins: the scheduler re-arms from the moment it
			// fired, which may be a little after the planned time.
			fires = append(fires, logged[i])
			i++
		case !ok || next.After(until):
			return fires, nil
		default:
			fires = append(fires, next)
		}
	}
}

type result struct {
	expected, delivered, duplicate, early int
	lateness                              []time.Duration
	// drift is how far the last fire time slipped from the same tick
	// chained from the first with NextFire, as if every timer fired on time.
	drift time.Duration
}

// analyse lines up every heartbeat's beats with the fire times and counts
// those of the fire times due by end.
func analyse(hits [][]time.Time, fires []time.Time, end time.Time) result {
	var res result
	due := 0
	for due < len(fires) && !fires[due].After(end) {
		due++
	}
	res.expected = due * len(hits)
	for _, hs := range hits {
		got := make([]bool, len(fires))
		for _, h := range hs {
			// The last fire time at or before the beat (5 ms for clock
			// granularity).
			k, found := slices.BinarySearchFunc(fires, h.Add(5*time.Millisecond), func(f, t time.Time) int { return f.Compare(t) })
			if !found {
				k--
			}
			switch {
			case k < 0:
				res.early++
			case k >= due:
			case got[k]:
				res.duplicate++
			default:
				got[k] = true
				res.delivered++
				res.lateness = append(res.lateness, h.Sub(fires[k]))
			}
		}
	}
	slices.Sort(res.lateness)
	if due > 1 {
		sched, _ := schedule.Parse(frequency)
		ideal := fires[0]
		for range due - 1 {
			ideal, _ = sched.NextFire(ideal)
		}
		res.drift = fires[due-1].Sub(ideal)
	}
	return res
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p)
	return sorted[i]
}

// usage is what one process holds.
type usage struct {
	threads, fds int
	rssKB        int64
}

type snapshot struct{ core, plugin usage }

func sample(core, plugin int) snapshot {
	return snapshot{core: procUsage(core), plugin: procUsage(plugin)}
}

func procUsage(pid int) usage {
	var u usage
	if pid <= 0 {
		return u
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			switch f[0] {
			case "Threads:":
				u.threads, _ = strconv.Atoi(f[1])
			case "VmRSS:":
				u.rssKB, _ = strconv.ParseInt(f[1], 10, 64)
			}
		}
	}
	if fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid)); err == nil {
		u.fds = len(fds)
	}
	return u
}

// pluginProcess finds the running process of plugin started from dir.
func pluginProcess(dir, plugin string) int {
	entries, _ := os.ReadDir("/proc")
	want := filepath.Join(dir, "heartbeat-target-"+plugin)
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err == nil && exe == want {
			return pid
		}
	}
	return 0
}

func sleepUnlessExited(d time.Duration, exited <-chan struct{}) bool {
	select {
	case <-exited:
		return false
	case <-time.After(d):
		return true
	}
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

type reportData struct {
	n                       int
	ran                     time.Duration
	res                     result
	fires                   []time.Time
	first, last             snapshot
	exitCode                int
	exitTook                time.Duration
	skipped, failed, errors int
}

func report(out io.Writer, d reportData) {
	r := d.res
	pct := 0.0
	if r.expected > 0 {
		pct = 100 * float64(r.delivered) / float64(r.expected)
	}
	ms := func(x time.Duration) string { return x.Round(100 * time.Microsecond).String() }
	fmt.Fprintf(out, "ran %s; %d ticks due\n", d.ran.Round(time.Second), r.expected/max(d.n, 1))
	fmt.Fprintf(out, "delivered/expected: %d/%d (%.3f%%): fire times that got a beat (a beat belongs to the last fire time at or before it)\n",
		r.delivered, r.expected, pct)
	fmt.Fprintf(out, "received %d beats in all; %d more than one for a fire time (a beat later than the next fire time counts for that one), %d before the first fire time\n",
		r.delivered+r.duplicate+r.early, r.duplicate, r.early)
	fmt.Fprintf(out, "lateness (server receive time - fire time): p50 %s, p90 %s, p99 %s, p99.9 %s, max %s\n",
		ms(percentile(r.lateness, 0.5)), ms(percentile(r.lateness, 0.9)), ms(percentile(r.lateness, 0.99)),
		ms(percentile(r.lateness, 0.999)), ms(percentile(r.lateness, 1)))
	fmt.Fprintf(out, "schedule slip over the run (last fire time - the same tick chained from the first with NextFire): %s\n", ms(r.drift))
	fmt.Fprintf(out, "daemon log: %d skipped ticks (previous beat still in progress), %d beats not delivered, %d error lines\n",
		d.skipped, d.failed, d.errors)
	fmt.Fprintf(out, "%-12s %18s %19s %22s\n", "process", "threads start/end", "open fds start/end", "VmRSS start/end")
	row := func(name string, a, b usage) {
		fmt.Fprintf(out, "%-12s %18s %19s %22s\n", name,
			fmt.Sprintf("%d/%d", a.threads, b.threads), fmt.Sprintf("%d/%d", a.fds, b.fds),
			fmt.Sprintf("%.1f/%.1f MB", float64(a.rssKB)/1024, float64(b.rssKB)/1024))
	}
	row("core", d.first.core, d.last.core)
	row("http plugin", d.first.plugin, d.last.plugin)
	fmt.Fprintf(out, "SIGTERM: exit code %d after %s; load average at the end %s\n", d.exitCode, d.exitTook.Round(time.Millisecond), loadAvg())
}
