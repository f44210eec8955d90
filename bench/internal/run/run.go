//go:build linux

// Package run starts the processes the benches measure — the heartbeat
// daemon with n heartbeats through the http plugin, or the bare-Go floor —
// against a receiver, and measures a window of whole seconds: beats
// delivered and their lateness, CPU time and memory of the process and
// everything it started. It drives only the binaries and HTTP.
package run

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/bench/internal/build"
	"github.com/seed-e9b80cf6/heartbeat/bench/internal/proc"
	"github.com/seed-e9b80cf6/heartbeat/bench/internal/receiver"
	"github.com/seed-e9b80cf6/heartbeat/bench/internal/stats"
)

// Schedules for WriteConfig, as YAML.
const (
	// EverySecond fires at every whole second. A six-field cron is used,
	// not the later.js text "every 1 sec": later.js's setInterval rule
	// fires that 1 s after the previous fire, at the sub-second phase of
	// the start-up beat and slipping by each timer's delay, so a receiver
	// could not tell which instant a beat was due at. With a whole-second
	// schedule the daemon and the floor are due at the same instants and
	// the lateness of every beat is known from its arrival alone.
	EverySecond = `cron: "* * * * * *"`
	// Hourly leaves the daemon at rest after its start-up beat.
	Hourly = "frequency: every 1 hour"
)

// WriteConfig writes a heartbeat config with n heartbeats on schedule
// (EverySecond, Hourly), heartbeat i with its own http target sending GET
// to url(i).
func WriteConfig(path string, n int, schedule string, url func(int) string) error {
	var b strings.Builder
	b.WriteString("targets:\n")
	for i := range n {
		fmt.Fprintf(&b, "  t%d: { plugin: http, config: { url: %q } }\n", i, url(i))
	}
	b.WriteString("heartbeats:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - { name: hb%d, %s, targets: [t%d] }\n", i, schedule, i)
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}

// Process is a started daemon or floor, its output going to a log file.
type Process struct {
	Name    string
	LogPath string
	cmd     *exec.Cmd
	log     *os.File
	exited  chan struct{}
	started time.Time
}

// Start runs argv with its stdout and stderr to logPath.
func Start(name, logPath string, argv ...string) (*Process, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	p := &Process{Name: name, LogPath: logPath, cmd: cmd, log: f, exited: make(chan struct{})}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	go func() {
		_ = cmd.Wait()
		f.Close()
		close(p.exited)
	}()
	return p, nil
}

// StartDaemon runs `heartbeat run` on cfgPath with the plugins of bin,
// logging at warn level (at info every delivered beat is a log line).
func StartDaemon(bin build.Binaries, cfgPath, logPath string) (*Process, error) {
	return Start("heartbeat", logPath, bin.Core, "run", "--config", cfgPath, "--plugin-dir", bin.PluginDir, "--log-level", "warn")
}

// StartFloor runs the floor program with n heartbeats against base.
func StartFloor(floorBin, base string, n int, logPath string) (*Process, error) {
	return Start("floor", logPath, floorBin, "-n", fmt.Sprint(n), "-base", base)
}

// Pid is the process's id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Started is when the process was started.
func (p *Process) Started() time.Time { return p.started }

// Pids are the process and the processes it started (a daemon's plugins).
func (p *Process) Pids() []int { return proc.Tree(p.Pid()) }

// Exited is closed when the process has ended.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Sleep waits d; false when the process ended meanwhile.
func (p *Process) Sleep(d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.exited:
		return false
	case <-t.C:
		return true
	}
}

// SleepUntil waits until t; false when the process ended meanwhile.
func (p *Process) SleepUntil(t time.Time) bool { return p.Sleep(time.Until(t)) }

// Stop sends SIGTERM and waits up to grace for the exit, then kills. It
// returns the exit code and how long the exit took after SIGTERM.
func (p *Process) Stop(grace time.Duration) (code int, took time.Duration, err error) {
	at := time.Now()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return p.cmd.ProcessState.ExitCode(), time.Since(at), nil
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return -1, time.Since(at), fmt.Errorf("%s did not exit within %s of SIGTERM; killed", p.Name, grace)
	}
}

// Kill ends the process at once, if it still runs.
func (p *Process) Kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// LogCounts are the lines of the daemon's log the benches count.
type LogCounts struct {
	// Deadline counts warning and error lines that name a deadline
	// ("context deadline exceeded", "deadline"). The dispatcher logs a
	// target's repeated failure once, then at debug level, so this is a
	// floor on the beats lost that way: Expected - Delivered is the count.
	Deadline int `json:"deadline_lines"`
	// NotDelivered counts "beat not delivered" and "still not delivered" lines.
	NotDelivered int `json:"not_delivered_lines"`
	// Skipped counts warnings about a tick skipped because the previous
	// beat was still in progress (the first of a run per heartbeat).
	Skipped int `json:"skipped_lines"`
	// Errors and Warnings count lines at those levels.
	Errors   int `json:"error_lines"`
	Warnings int `json:"warning_lines"`
	// First is the first warning or error line, cut to 300 bytes.
	First string `json:"first_problem,omitempty"`
}

// CountLog reads the log of a process that has ended (at most its first
// 256 MiB).
func CountLog(path string) (LogCounts, error) {
	var c LogCounts
	f, err := os.Open(path)
	if err != nil {
		return c, err
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, 256<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		warn, errLine := strings.Contains(line, "[WARN]"), strings.Contains(line, "[ERROR]")
		if !warn && !errLine {
			continue
		}
		if c.First == "" {
			c.First = cut(line, 300)
		}
		if warn {
			c.Warnings++
		} else {
			c.Errors++
		}
		if strings.Contains(line, "deadline") {
			c.Deadline++
		}
		if strings.Contains(line, "not delivered") {
			c.NotDelivered++
		}
		if strings.Contains(line, "still in progress") {
			c.Skipped++
		}
	}
	if err := sc.Err(); err != nil && !errors.Is(err, bufio.ErrTooLong) {
		return c, err
	}
	return c, nil
}

// Tail is the last max bytes of a file, for error messages.
func Tail(path string, max int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > max {
		_, _ = f.Seek(st.Size()-max, io.SeekStart)
	}
	b, _ := io.ReadAll(io.LimitReader(f, max))
	return strings.TrimSpace(string(b))
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// Window says which seconds to measure: from the first whole second
// Warmup after every heartbeat's first beat arrived (the start-up burst),
// for Duration.
type Window struct {
	Warmup, Duration time.Duration
	// StartTimeout bounds the wait for the start-up burst; the window
	// starts when it ends, with the heartbeats still silent counted.
	StartTimeout time.Duration
	// Grace is how long to wait after the window for the beats due in it
	// that are still under way.
	Grace time.Duration
}

// Result is one measured window of one process.
type Result struct {
	Kind       string `json:"kind"` // heartbeat or floor
	Heartbeats int    `json:"heartbeats"`
	// StartupBurst is from the start of the process until every heartbeat's
	// first beat had arrived.
	StartupBurst Duration `json:"startup_burst"`
	// SilentAtStart counts the heartbeats without a beat when StartTimeout
	// ended the wait for the start-up burst (the window starts anyway).
	SilentAtStart int          `json:"silent_at_start,omitempty"`
	From          time.Time    `json:"window_from"`
	To            time.Time    `json:"window_to"`
	Expected      int          `json:"expected"`
	Delivered     int          `json:"delivered"`
	Lost          int          `json:"lost"`
	Late1s        int          `json:"late_1s_or_more"`
	LostAt        []LostSecond `json:"lost_at,omitempty"`
	LatencyP50    Duration     `json:"lateness_p50"`
	LatencyP99    Duration     `json:"lateness_p99"`
	LatencyMax    Duration     `json:"lateness_max"`
	// CPU is user+system time of the process and its children over the
	// window; CPUPerBeat that over Delivered.
	CPU        Duration `json:"cpu"`
	CPUPerBeat Duration `json:"cpu_per_beat"`
	// BenchCPU is the CPU time of the bench process itself over the
	// window: mostly the receiver. Near a whole CPU per second it may not
	// keep up, and late or lost beats are partly its own.
	BenchCPU Duration `json:"bench_cpu"`
	// RSSKB is VmRSS summed over the process and its children at the end
	// of the window; Start* at its start.
	RSSKB        int64     `json:"rss_kb"`
	RSSStartKB   int64     `json:"rss_start_kb"`
	Procs        int       `json:"processes"`
	Threads      int       `json:"threads"`
	FDs          int       `json:"fds"`
	ThreadsStart int       `json:"threads_start"`
	FDsStart     int       `json:"fds_start"`
	Log          LogCounts `json:"log"`
	FloorFailed  int       `json:"floor_failed_requests,omitempty"`
	ExitCode     int       `json:"exit_code"`
	ExitTook     Duration  `json:"exit_took"`
	// StopProblem says that the process did not exit after SIGTERM in
	// time and was killed; the figures still hold.
	StopProblem string `json:"stop_problem,omitempty"`
	// Lateness holds every delivered beat's lateness, sorted; not in JSON.
	Lateness []time.Duration `json:"-"`
}

// LostSecond is a due second of the window that lost beats.
type LostSecond struct {
	At   time.Time `json:"at"`
	Lost int       `json:"lost"`
}

// Duration marshals as a Go duration string.
type Duration time.Duration

func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }
func (d Duration) String() string               { return time.Duration(d).String() }

// Measure waits for w's window of p's run against rec, samples CPU and
// memory at its edges, then stops p and lines up the arrivals. p sends
// heartbeat i's beats to rec.URL(i), every whole second.
func Measure(p *Process, rec *receiver.Receiver, kind string, n int, w Window) (Result, error) {
	r := Result{Kind: kind, Heartbeats: n}
	ctx, cancel := context.WithTimeout(context.Background(), w.StartTimeout)
	ready, ok := rec.WaitAll(ctx, p.Exited())
	cancel()
	if !ok {
		select {
		case <-p.Exited():
			return r, exitedEarly(p)
		default:
		}
		// Measure anyway: an overloaded daemon is what the window shows.
		ready = time.Now()
		for _, a := range rec.Arrivals() {
			if len(a) == 0 {
				r.SilentAtStart++
			}
		}
	}
	r.StartupBurst = Duration(ready.Sub(p.Started()))
	from := ready.Add(w.Warmup).Truncate(time.Second).Add(time.Second)
	to := from.Add(w.Duration.Truncate(time.Second))
	if !to.After(from) {
		return r, fmt.Errorf("the window must be at least 1s")
	}
	r.From, r.To = from, to
	// CPU is sampled a little before each edge: a beat due at a whole
	// second is sent after it, so [from-lead, to-lead) holds the work of
	// the beats due from..to-1 (give or take those in flight at the edges).
	const lead = 300 * time.Millisecond
	if !p.SleepUntil(from.Add(-lead)) {
		return r, exitedEarly(p)
	}
	start := proc.Sum(p.Pids())
	benchStart, _ := proc.CPU(os.Getpid())
	if !p.SleepUntil(to.Add(-lead)) {
		return r, exitedEarly(p)
	}
	end := proc.Sum(p.Pids())
	benchEnd, _ := proc.CPU(os.Getpid())
	r.BenchCPU = Duration(benchEnd - benchStart)
	if !p.SleepUntil(to.Add(w.Grace)) {
		return r, exitedEarly(p)
	}
	code, took, stopErr := p.Stop(30 * time.Second)
	r.ExitCode, r.ExitTook = code, Duration(took)
	if stopErr != nil {
		r.StopProblem = stopErr.Error()
	}

	m := stats.MatchArrivals(rec.Arrivals(), stats.Window{From: from, To: to})
	r.Expected, r.Delivered, r.Lost, r.Late1s = m.Expected, m.Delivered, m.Lost(), m.Late1s
	for i, lost := range m.LostAt {
		if lost > 0 {
			r.LostAt = append(r.LostAt, LostSecond{At: from.Add(time.Duration(i) * time.Second), Lost: lost})
		}
	}
	r.Lateness = m.Lateness
	r.LatencyP50 = Duration(stats.Percentile(m.Lateness, 50))
	r.LatencyP99 = Duration(stats.Percentile(m.Lateness, 99))
	r.LatencyMax = Duration(stats.Percentile(m.Lateness, 100))
	r.CPU = Duration(end.CPU - start.CPU)
	if r.Delivered > 0 {
		r.CPUPerBeat = Duration(time.Duration(r.CPU) / time.Duration(r.Delivered))
	}
	r.RSSKB, r.RSSStartKB = end.RSSKB, start.RSSKB
	r.Procs, r.Threads, r.FDs = end.Procs, end.Threads, end.FDs
	r.ThreadsStart, r.FDsStart = start.Threads, start.FDs
	counts, err := CountLog(p.LogPath)
	if err != nil {
		return r, err
	}
	r.Log = counts
	if kind == "floor" {
		_, _ = fmt.Sscanf(Tail(p.LogPath, 200), "floor: %d requests failed", &r.FloorFailed)
	}
	return r, nil
}

func exitedEarly(p *Process) error {
	p.Kill()
	return fmt.Errorf("%s exited early: %s", p.Name, Tail(p.LogPath, 2000))
}

// Options are what one measured run needs.
type Options struct {
	Bin      build.Binaries
	FloorBin string
	WorkDir  string
	Window   Window
}

// Heartbeat runs the daemon with n heartbeats every whole second
// (EverySecond) and measures it.
func Heartbeat(o Options, n int) (Result, error) {
	return measureWith(o, n, "heartbeat", func(rec *receiver.Receiver, logPath string) (*Process, error) {
		cfg := filepath.Join(o.WorkDir, fmt.Sprintf("heartbeat-%d.yaml", n))
		if err := WriteConfig(cfg, n, EverySecond, rec.URL); err != nil {
			return nil, err
		}
		return StartDaemon(o.Bin, cfg, logPath)
	})
}

// Floor runs the floor with n heartbeats and measures it.
func Floor(o Options, n int) (Result, error) {
	return measureWith(o, n, "floor", func(rec *receiver.Receiver, logPath string) (*Process, error) {
		return StartFloor(o.FloorBin, rec.BaseURL(), n, logPath)
	})
}

func measureWith(o Options, n int, kind string, start func(*receiver.Receiver, string) (*Process, error)) (Result, error) {
	perHB := int((o.Window.Warmup+o.Window.Duration+o.Window.Grace)/time.Second) + 8
	rec, err := receiver.Start(n, perHB)
	if err != nil {
		return Result{}, err
	}
	defer rec.Close()
	logPath := filepath.Join(o.WorkDir, fmt.Sprintf("%s-%d.log", kind, n))
	p, err := start(rec, logPath)
	if err != nil {
		return Result{}, err
	}
	defer p.Kill()
	r, err := Measure(p, rec, kind, n, o.Window)
	if err != nil {
		return r, fmt.Errorf("%s with %d heartbeats: %w", kind, n, err)
	}
	return r, nil
}
