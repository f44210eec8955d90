//go:build linux

// Command soak runs the real heartbeat daemon with many heartbeats, each
// `every 1 sec` through its own http target, against a local receiver for a
// long window, and the bare-Go floor for a shorter one in the same run. It
// reports every beat lost (how many, and in which seconds), lateness, CPU
// per beat, memory per heartbeat above the 1-heartbeat footprint measured
// first, threads and open files, the daemon's log, and the ratios to the
// floor.
//
//	go run ./bench/soak                                    # 1000 heartbeats, 10 minutes
//	go run ./bench/soak -heartbeats 10000 -duration 10m    # floor for 2 minutes
//	HEARTBEAT_SOAK_DURATION=30m go run ./bench/soak
//
// See README.md in this directory.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/bench/internal/build"
	"github.com/seed-e9b80cf6/heartbeat/bench/internal/proc"
	"github.com/seed-e9b80cf6/heartbeat/bench/internal/run"
	"github.com/seed-e9b80cf6/heartbeat/bench/internal/stats"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/memtrim"
)

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
	flag.DurationVar(&duration, "duration", duration, "measured window of the daemon (default: $HEARTBEAT_SOAK_DURATION or 10m)")
	heartbeats := flag.Int("heartbeats", 1000, "number of heartbeats, each with its own http target")
	floorDuration := flag.Duration("floor-duration", 2*time.Minute, "measured window of the floor (0: no floor)")
	idleDuration := flag.Duration("idle-duration", 10*time.Second, "measured window of the 1-heartbeat footprint run")
	warmup := flag.Duration("warmup", 5*time.Second, "time skipped after the start-up burst before each window")
	jsonOut := flag.String("json", "", "also write the results to this JSON file")
	keep := flag.Bool("keep", false, "keep the work directory (config, binaries, logs)")
	flag.Parse()
	var err error
	switch {
	case *heartbeats < 1:
		err = errors.New("-heartbeats must be at least 1")
	case duration < time.Second || *idleDuration < time.Second:
		err = errors.New("-duration and -idle-duration must be at least 1s")
	case *floorDuration != 0 && *floorDuration < time.Second:
		err = errors.New("-floor-duration must be 0 or at least 1s")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(2)
	}
	o := options{n: *heartbeats, duration: duration, floor: *floorDuration, idle: *idleDuration, warmup: *warmup, jsonOut: *jsonOut, keep: *keep}
	if err := soak(o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

type options struct {
	n                             int
	duration, floor, idle, warmup time.Duration
	jsonOut                       string
	keep                          bool
}

// Report is the output of -json.
type Report struct {
	Started   time.Time   `json:"started"`
	CPUs      int         `json:"cpus"`
	LoadAvg   string      `json:"load_average_start"`
	Idle      run.Result  `json:"idle_one_heartbeat"`
	Heartbeat run.Result  `json:"heartbeat"`
	Floor     *run.Result `json:"floor,omitempty"`
	// RSSPerHeartbeatKB is (heartbeat's VmRSS at the end - the 1-heartbeat
	// footprint) / heartbeats.
	RSSPerHeartbeatKB float64 `json:"rss_per_heartbeat_kb"`
}

func soak(o options, out io.Writer) error {
	limit, err := proc.RaiseFileLimit()
	if err != nil {
		return fmt.Errorf("raising the open-files limit: %w", err)
	}
	if need := uint64(o.n) + 256; limit < need {
		fmt.Fprintf(out, "warning: the open-files limit is %d; %d heartbeats need about %d in the receiver and in the plugin (a connection each)\n", limit, o.n, need)
	}
	work, err := os.MkdirTemp("", "heartbeat-soak-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintln(out, "work directory:", work)
	} else {
		defer os.RemoveAll(work)
	}
	bin, err := build.Heartbeat(work, "http")
	if err != nil {
		return err
	}
	floorBin := filepath.Join(work, "floor")
	if err := build.Package(floorBin, "./bench/scale/floor"); err != nil {
		return err
	}
	rep := Report{Started: time.Now().UTC(), CPUs: runtime.NumCPU(), LoadAvg: proc.LoadAverage()}
	fmt.Fprintf(out, "soak: %d heartbeats every whole second (cron \"* * * * * *\") through the http plugin, a %s window (floor: %s); %d CPUs, %s/%s; open files %d; load average %s at start\n",
		o.n, o.duration, orNone(o.floor), rep.CPUs, runtime.GOOS, runtime.GOARCH, limit, rep.LoadAvg)
	window := func(d time.Duration) run.Options {
		return run.Options{Bin: bin, FloorBin: floorBin, WorkDir: work, Window: run.Window{
			Warmup: o.warmup, Duration: d, Grace: 3 * time.Second, StartTimeout: 2 * time.Minute,
		}}
	}
	fmt.Fprintf(out, "1. the footprint: 1 heartbeat for %s\n", o.idle)
	// The footprint is the process at rest: measured once each process
	// has shed its start-up pages (memtrim), as bench/idle does, or it
	// counts start-up code as memory the heartbeats need.
	footprint := window(o.idle)
	footprint.Window.Warmup = max(o.warmup, memtrim.AfterStartup+5*time.Second)
	if rep.Idle, err = run.Heartbeat(footprint, 1); err != nil {
		return err
	}
	fmt.Fprintf(out, "2. the daemon: %d heartbeats for %s\n", o.n, o.duration)
	if rep.Heartbeat, err = run.Heartbeat(window(o.duration), o.n); err != nil {
		return err
	}
	if o.floor > 0 {
		fmt.Fprintf(out, "3. the floor: %d heartbeats for %s\n", o.n, o.floor)
		fl, err := run.Floor(window(o.floor), o.n)
		if err != nil {
			return err
		}
		rep.Floor = &fl
	}
	rep.RSSPerHeartbeatKB = float64(rep.Heartbeat.RSSKB-rep.Idle.RSSKB) / float64(o.n)
	report(out, rep)
	if o.jsonOut != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		return os.WriteFile(o.jsonOut, append(b, '\n'), 0o644)
	}
	return nil
}

func orNone(d time.Duration) string {
	if d == 0 {
		return "none"
	}
	return d.String()
}

func report(out io.Writer, rep Report) {
	h := rep.Heartbeat
	fmt.Fprintf(out, "\nheartbeat, %d heartbeats, window %s to %s (%s; start-up burst %s):\n",
		h.Heartbeats, h.From.UTC().Format(time.TimeOnly), h.To.UTC().Format(time.TimeOnly), h.To.Sub(h.From), dur(time.Duration(h.StartupBurst)))
	startLine(out, h)
	deliveredLine(out, h)
	latenessLine(out, h)
	fmt.Fprintf(out, "  CPU per beat (core + plugin): %s (%s over the window)\n", dur(time.Duration(h.CPUPerBeat)), dur(time.Duration(h.CPU)))
	fmt.Fprintf(out, "  VmRSS (core + plugin): %.1f MB at the window's start, %.1f MB at its end; the 1-heartbeat footprint %.1f MB; per heartbeat above it: %.1f KB\n",
		mb(h.RSSStartKB), mb(h.RSSKB), mb(rep.Idle.RSSKB), rep.RSSPerHeartbeatKB)
	fmt.Fprintf(out, "  processes %d; threads %d -> %d; open fds %d -> %d (window start -> end)\n", h.Procs, h.ThreadsStart, h.Threads, h.FDsStart, h.FDs)
	fmt.Fprintf(out, "  daemon log: %d lines naming a deadline, %d \"not delivered\", %d skipped-tick warnings, %d error and %d warning lines in all\n",
		h.Log.Deadline, h.Log.NotDelivered, h.Log.Skipped, h.Log.Errors, h.Log.Warnings)
	if h.Log.First != "" {
		fmt.Fprintf(out, "  first warning: %s\n", h.Log.First)
	}
	fmt.Fprintf(out, "  SIGTERM: exit code %d after %s\n", h.ExitCode, dur(time.Duration(h.ExitTook)))
	if h.StopProblem != "" {
		fmt.Fprintf(out, "  STOP PROBLEM: %s\n", h.StopProblem)
	}
	if rep.Floor == nil {
		fmt.Fprintf(out, "load average at the end %s\n", proc.LoadAverage())
		return
	}
	f := *rep.Floor
	fmt.Fprintf(out, "floor, %d heartbeats, window %s:\n", f.Heartbeats, f.To.Sub(f.From))
	startLine(out, f)
	deliveredLine(out, f)
	latenessLine(out, f)
	fmt.Fprintf(out, "  CPU per beat: %s; VmRSS %.1f MB; failed requests %d\n", dur(time.Duration(f.CPUPerBeat)), mb(f.RSSKB), f.FloorFailed)
	fmt.Fprintf(out, "heartbeat / floor: lateness p99 %s, CPU per beat %s\n",
		x(stats.Ratio(float64(h.LatencyP99), float64(f.LatencyP99))), x(stats.Ratio(float64(h.CPUPerBeat), float64(f.CPUPerBeat))))
	fmt.Fprintf(out, "load average at the end %s\n", proc.LoadAverage())
}

// startLine warns of a start-up burst that had not ended when the window
// began, and of a receiver that may not have kept up.
func startLine(out io.Writer, r run.Result) {
	if r.SilentAtStart > 0 {
		fmt.Fprintf(out, "  START-UP NOT DONE: %d heartbeats had sent no beat when the wait for the start-up burst ended; measured anyway\n", r.SilentAtStart)
	}
	secs := r.To.Sub(r.From).Seconds()
	fmt.Fprintf(out, "  the bench's own CPU (the receiver, mostly): %.0f ms/s over the window\n", float64(r.BenchCPU)/float64(time.Millisecond)/secs)
}

// deliveredLine says 100% delivered, or how many were lost and when.
func deliveredLine(out io.Writer, r run.Result) {
	pct := 0.0
	if r.Expected > 0 {
		pct = 100 * float64(r.Delivered) / float64(r.Expected)
	}
	if r.Lost == 0 {
		fmt.Fprintf(out, "  delivered %d/%d (100%%): none lost\n", r.Delivered, r.Expected)
		return
	}
	fmt.Fprintf(out, "  delivered %d/%d (%.4f%%): %d LOST, in %d of the window's %d seconds:\n", r.Delivered, r.Expected, pct, r.Lost,
		len(r.LostAt), r.Expected/max(r.Heartbeats, 1))
	const show = 40
	for i, l := range r.LostAt {
		if i == show {
			fmt.Fprintf(out, "    ... and %d more seconds (all in -json)\n", len(r.LostAt)-show)
			break
		}
		fmt.Fprintf(out, "    %s (+%ds): %d\n", l.At.UTC().Format(time.TimeOnly), int(l.At.Sub(r.From)/time.Second), l.Lost)
	}
}

func latenessLine(out io.Writer, r run.Result) {
	p := func(q float64) string { return dur(stats.Percentile(r.Lateness, q)) }
	fmt.Fprintf(out, "  lateness (arrival - due second): p50 %s, p90 %s, p99 %s, p99.9 %s, max %s; %d beats 1 s or more late\n",
		p(50), p(90), p(99), p(99.9), p(100), r.Late1s)
}

func dur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	default:
		return d.Round(100 * time.Nanosecond).String()
	}
}

func mb(kb int64) float64 { return float64(kb) / 1024 }

func x(r float64) string {
	if r != r { // NaN
		return "-"
	}
	return fmt.Sprintf("%.2fx", r)
}
