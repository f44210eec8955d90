//go:build linux

// Command scale measures the heartbeat daemon at several numbers of
// heartbeats, each `every 1 sec` with its own http target, against a bare-Go
// floor doing the same GETs, side by side in one run: beats delivered,
// lateness p50/p99/max, CPU per beat, memory and memory per heartbeat, and
// the ratios heartbeat/floor.
//
//	go run ./bench/scale                                   # 1,100,1000,10000; 60s; 3 runs
//	go run ./bench/scale -levels 1,100,1000 -duration 20s -runs 1 -json out.json
//
// See README.md in this directory.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/bench/internal/build"
	"github.com/seed-e9b80cf6/heartbeat/bench/internal/proc"
	"github.com/seed-e9b80cf6/heartbeat/bench/internal/run"
	"github.com/seed-e9b80cf6/heartbeat/bench/internal/stats"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/memtrim"
)

func main() {
	levels := flag.String("levels", "1,100,1000,10000", "numbers of heartbeats, comma-separated")
	duration := flag.Duration("duration", 60*time.Second, "measured window per level and run (whole seconds)")
	warmup := flag.Duration("warmup", minWarmup, "time skipped after the start-up burst before the window (at least the default: see minWarmup)")
	runs := flag.Int("runs", 3, "runs of each level (heartbeat and floor each time)")
	jsonOut := flag.String("json", "", "also write the results to this JSON file")
	keep := flag.Bool("keep", false, "keep the work directory (binaries, configs, logs)")
	flag.Parse()
	ns, err := parseLevels(*levels)
	if err == nil && *runs < 1 {
		err = errors.New("-runs must be at least 1")
	}
	if err == nil && *duration < time.Second {
		err = errors.New("-duration must be at least 1s")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/scale:", err)
		os.Exit(2)
	}
	if err := bench(ns, *duration, *warmup, *runs, *jsonOut, *keep, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench/scale:", err)
		os.Exit(1)
	}
}

func parseLevels(s string) ([]int, error) {
	var ns []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-levels %q: want positive whole numbers, comma-separated, e.g. 1,100,1000", s)
		}
		ns = append(ns, n)
	}
	return ns, nil
}

// Pair is one run of a level: the daemon and the floor, one after the other.
type Pair struct {
	Heartbeat run.Result `json:"heartbeat"`
	Floor     run.Result `json:"floor"`
	// Heartbeat / floor of this run; 0 when the floor's figure is 0.
	RatioCPUPerBeat  float64 `json:"ratio_cpu_per_beat"`
	RatioLatenessP99 float64 `json:"ratio_lateness_p99"`
}

// Level is every run of one number of heartbeats.
type Level struct {
	Heartbeats int    `json:"heartbeats"`
	Runs       []Pair `json:"runs"`
	// (median VmRSS here - median VmRSS at 1 heartbeat) / heartbeats, KB;
	// 0 at 1 heartbeat or when that level did not run first.
	HeartbeatRSSPerHeartbeatKB float64 `json:"heartbeat_rss_per_heartbeat_kb"`
	FloorRSSPerHeartbeatKB     float64 `json:"floor_rss_per_heartbeat_kb"`
}

// Report is the whole output, as written by -json.
type Report struct {
	Started  time.Time `json:"started"`
	CPUs     int       `json:"cpus"`
	GOOS     string    `json:"goos"`
	GOARCH   string    `json:"goarch"`
	LoadAvg  string    `json:"load_average_start"`
	Duration string    `json:"window"`
	Warmup   string    `json:"warmup"`
	Levels   []Level   `json:"levels"`
}

// minWarmup is the least warm-up: the window opens once both of the
// daemon's processes have made their one-time start-up trim (memtrim,
// AfterStartup after they start: a collection, the heap and the start-up
// pages given back, faulted in again). At 1,000 heartbeats it costs about
// 75 ms of CPU once, which a 20 s window would count as 3.7 µs a beat:
// start-up work, not a beat's. bench/soak waits for it too.
const minWarmup = memtrim.AfterStartup + 5*time.Second

func bench(ns []int, duration, warmup time.Duration, runs int, jsonOut string, keep bool, out io.Writer) error {
	warmup = max(warmup, minWarmup)
	limit, err := proc.RaiseFileLimit()
	if err != nil {
		return fmt.Errorf("raising the open-files limit: %w", err)
	}
	if need := uint64(maxOf(ns)) + 256; limit < need {
		fmt.Fprintf(out, "warning: the open-files limit is %d; %d heartbeats need about %d in the receiver and in the plugin (a connection each)\n", limit, maxOf(ns), need)
	}
	work, err := os.MkdirTemp("", "heartbeat-bench-scale-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Fprintln(out, "work directory:", work)
	} else {
		defer os.RemoveAll(work)
	}
	bin, err := build.Heartbeat(work, "http")
	if err != nil {
		return err
	}
	floor := filepath.Join(work, "floor")
	if err := build.Package(floor, "./bench/scale/floor"); err != nil {
		return err
	}
	rep := Report{Started: time.Now().UTC(), CPUs: runtime.NumCPU(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH,
		LoadAvg: proc.LoadAverage(), Duration: duration.String(), Warmup: warmup.String()}
	fmt.Fprintf(out, "bench/scale: heartbeats every whole second (cron \"* * * * * *\") through the http plugin vs the floor; %s window after a %s warm-up; %d run(s); %d CPUs, %s/%s; open files %d; load average %s\n",
		duration, warmup, runs, rep.CPUs, rep.GOOS, rep.GOARCH, limit, rep.LoadAvg)
	opts := run.Options{Bin: bin, FloorBin: floor, WorkDir: work, Window: run.Window{
		Warmup: warmup, Duration: duration, Grace: 3 * time.Second, StartTimeout: 2 * time.Minute,
	}}
	// The median VmRSS at one heartbeat, KB, of the daemon and the floor.
	base := baseRSS{math.NaN(), math.NaN()}
	for _, n := range ns {
		lv := Level{Heartbeats: n}
		for i := range runs {
			fmt.Fprintf(out, "  %d heartbeats, run %d/%d: heartbeat...", n, i+1, runs)
			hb, err := run.Heartbeat(opts, n)
			if err != nil {
				fmt.Fprintln(out)
				return err
			}
			fmt.Fprintf(out, " floor...")
			fl, err := run.Floor(opts, n)
			if err != nil {
				fmt.Fprintln(out)
				return err
			}
			fmt.Fprintf(out, " done (load average %s)\n", proc.LoadAverage())
			lv.Runs = append(lv.Runs, Pair{Heartbeat: hb, Floor: fl,
				RatioCPUPerBeat:  finite(stats.Ratio(float64(hb.CPUPerBeat), float64(fl.CPUPerBeat))),
				RatioLatenessP99: finite(stats.Ratio(float64(hb.LatencyP99), float64(fl.LatencyP99))),
			})
		}
		if n == 1 {
			base.heartbeat = spread(lv.Runs, func(p Pair) float64 { return float64(p.Heartbeat.RSSKB) }).Median
			base.floor = spread(lv.Runs, func(p Pair) float64 { return float64(p.Floor.RSSKB) }).Median
		}
		if n > 1 {
			lv.HeartbeatRSSPerHeartbeatKB = finite((spread(lv.Runs, func(p Pair) float64 { return float64(p.Heartbeat.RSSKB) }).Median - base.heartbeat) / float64(n))
			lv.FloorRSSPerHeartbeatKB = finite((spread(lv.Runs, func(p Pair) float64 { return float64(p.Floor.RSSKB) }).Median - base.floor) / float64(n))
		}
		rep.Levels = append(rep.Levels, lv)
		if err := printLevel(out, lv, base); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "load average at the end %s\n", proc.LoadAverage())
	if jsonOut != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// finite is x, or 0 for NaN (which JSON cannot hold).
func finite(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return x
}

func maxOf(ns []int) int {
	m := 0
	for _, n := range ns {
		m = max(m, n)
	}
	return m
}

func spread(ps []Pair, f func(Pair) float64) stats.Spread {
	xs := make([]float64, len(ps))
	for i, p := range ps {
		xs[i] = f(p)
	}
	return stats.SpreadOf(xs)
}

// figure is one row of a level's table: how to read it from a run's
// heartbeat or floor result, and whether a heartbeat/floor ratio is shown.
type figure struct {
	name   string
	value  func(r run.Result) float64
	format func(float64) string
	ratio  bool
}

// baseRSS is the VmRSS at one heartbeat, KB; NaN when that level did not
// run (first).
type baseRSS struct{ heartbeat, floor float64 }

func printLevel(out io.Writer, lv Level, base baseRSS) error {
	n := lv.Heartbeats
	rssPerHB := func(r run.Result) float64 {
		b := base.heartbeat
		if r.Kind == "floor" {
			b = base.floor
		}
		if n == 1 || math.IsNaN(b) {
			return math.NaN()
		}
		return (float64(r.RSSKB) - b) / float64(n)
	}
	figs := []figure{
		{"delivered %", func(r run.Result) float64 { return pct(r.Delivered, r.Expected) }, func(x float64) string { return fmt.Sprintf("%.3f%%", x) }, false},
		{"lost (expected - delivered)", func(r run.Result) float64 { return float64(r.Lost) }, count, false},
		{"beats >= 1 s late", func(r run.Result) float64 { return float64(r.Late1s) }, count, false},
		{"lateness p50", func(r run.Result) float64 { return float64(r.LatencyP50) }, dur, false},
		{"lateness p99", func(r run.Result) float64 { return float64(r.LatencyP99) }, dur, true},
		{"lateness max", func(r run.Result) float64 { return float64(r.LatencyMax) }, dur, false},
		{"CPU per beat", func(r run.Result) float64 { return float64(r.CPUPerBeat) }, dur, true},
		{"VmRSS (process + children)", func(r run.Result) float64 { return float64(r.RSSKB) }, kb, false},
		{"VmRSS per heartbeat (vs 1)", rssPerHB, kb, false},
		{"start-up burst", func(r run.Result) float64 { return float64(r.StartupBurst) }, dur, false},
		{"bench (receiver) CPU ms/s", func(r run.Result) float64 {
			return float64(r.BenchCPU) / float64(time.Millisecond) / r.To.Sub(r.From).Seconds()
		}, func(x float64) string { return fmt.Sprintf("%.0f", x) }, false},
		{"processes / threads / fds", func(r run.Result) float64 { return float64(r.Threads) }, nil, false},
		{"deadline lines in log", func(r run.Result) float64 { return float64(r.Log.Deadline) }, count, false},
		{"skipped-tick lines in log", func(r run.Result) float64 { return float64(r.Log.Skipped) }, count, false},
	}
	multi := len(lv.Runs) > 1
	head := "value"
	if multi {
		head = "min / median / max"
	}
	fmt.Fprintf(out, "\n%d heartbeat(s) every 1 s (%d run(s); %s; window %s)\n", n, len(lv.Runs), head,
		lv.Runs[0].Heartbeat.To.Sub(lv.Runs[0].Heartbeat.From))
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\theartbeat\tfloor\theartbeat/floor\t")
	for _, f := range figs {
		if f.format == nil { // processes / threads / fds: last run, as text
			h, fl := lv.Runs[len(lv.Runs)-1].Heartbeat, lv.Runs[len(lv.Runs)-1].Floor
			fmt.Fprintf(tw, "%s (last run)\t%d / %d / %d\t%d / %d / %d\t\t\n", f.name, h.Procs, h.Threads, h.FDs, fl.Procs, fl.Threads, fl.FDs)
			continue
		}
		hb := spread(lv.Runs, func(p Pair) float64 { return f.value(p.Heartbeat) })
		fl := spread(lv.Runs, func(p Pair) float64 { return f.value(p.Floor) })
		ratio := ""
		if f.ratio {
			// The ratio of each run (heartbeat and floor measured side by
			// side), then their spread.
			ratio = show(spread(lv.Runs, func(p Pair) float64 { return stats.Ratio(f.value(p.Heartbeat), f.value(p.Floor)) }),
				func(x float64) string { return fmt.Sprintf("%.2fx", x) }, multi)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", f.name, show(hb, f.format, multi), show(fl, f.format, multi), ratio)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for i, p := range lv.Runs {
		if p.Heartbeat.Log.First != "" {
			fmt.Fprintf(out, "run %d: first warning in the daemon's log: %s\n", i+1, p.Heartbeat.Log.First)
		}
		for _, r := range []run.Result{p.Heartbeat, p.Floor} {
			if r.StopProblem != "" {
				fmt.Fprintf(out, "run %d: %s\n", i+1, r.StopProblem)
			}
			if r.SilentAtStart > 0 {
				fmt.Fprintf(out, "run %d: %s: %d heartbeats had sent no beat when the wait for the start-up burst ended; measured anyway\n", i+1, r.Kind, r.SilentAtStart)
			}
		}
		if p.Floor.FloorFailed > 0 {
			fmt.Fprintf(out, "run %d: the floor's failed requests (whole run, start-up included): %d\n", i+1, p.Floor.FloorFailed)
		}
		if len(p.Heartbeat.LostAt) > 0 {
			fmt.Fprintf(out, "run %d: heartbeat lost beats at %s\n", i+1, lostSummary(p.Heartbeat))
		}
		if len(p.Floor.LostAt) > 0 {
			fmt.Fprintf(out, "run %d: floor lost beats at %s\n", i+1, lostSummary(p.Floor))
		}
	}
	return nil
}

// lostSummary lists the first seconds that lost beats, as offsets into
// the window.
func lostSummary(r run.Result) string {
	var parts []string
	for i, l := range r.LostAt {
		if i == 10 {
			parts = append(parts, fmt.Sprintf("... (%d seconds in all)", len(r.LostAt)))
			break
		}
		parts = append(parts, fmt.Sprintf("+%ds: %d", int(l.At.Sub(r.From)/time.Second), l.Lost))
	}
	return strings.Join(parts, ", ")
}

func show(s stats.Spread, format func(float64) string, multi bool) string {
	f := func(x float64) string {
		if math.IsNaN(x) {
			return "-"
		}
		return format(x)
	}
	if !multi {
		return f(s.Median)
	}
	return f(s.Min) + " / " + f(s.Median) + " / " + f(s.Max)
}

func pct(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return 100 * float64(a) / float64(b)
}

func count(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

func dur(x float64) string {
	d := time.Duration(x)
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	default:
		return d.Round(100 * time.Nanosecond).String()
	}
}

func kb(x float64) string {
	if math.Abs(x) >= 10*1024 {
		return fmt.Sprintf("%.1f MB", x/1024)
	}
	return fmt.Sprintf("%.1f KB", x)
}
