//go:build linux

// Command idle measures the heartbeat daemon at rest: one heartbeat `every
// 1 hour` through the http plugin, after its start-up beat. Over a window
// it reports, for the core, the plugin and a sleeping Go process side by
// side, the wake-ups per second (context switches of every thread), CPU
// time per second and memory (VmRSS, Pss, private), and which threads
// woke.
//
//	go run ./bench/idle                  # 60s window
//	go run ./bench/idle -duration 20s -json idle.json
//
// See README.md in this directory.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/bench/internal/build"
	"github.com/seed-e9b80cf6/heartbeat/bench/internal/proc"
	"github.com/seed-e9b80cf6/heartbeat/bench/internal/receiver"
	"github.com/seed-e9b80cf6/heartbeat/bench/internal/run"
)

func main() {
	duration := flag.Duration("duration", 60*time.Second, "measured window")
	settle := flag.Duration("settle", 20*time.Second, "wait after the start-up beat before the window (heartbeat releases its start-up pages 15 s after it starts)")
	jsonOut := flag.String("json", "", "also write the results to this JSON file")
	keep := flag.Bool("keep", false, "keep the work directory (binaries, config, log)")
	flag.Parse()
	if *duration < time.Second {
		fmt.Fprintln(os.Stderr, "bench/idle: -duration must be at least 1s")
		os.Exit(2)
	}
	if err := bench(*duration, *settle, *jsonOut, *keep, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench/idle:", err)
		os.Exit(1)
	}
}

// snapshot is one process at one moment.
type snapshot struct {
	at      time.Time
	cpu     time.Duration
	status  proc.Status
	mem     proc.Memory
	threads []proc.Thread
}

func take(pid int) (snapshot, error) {
	s := snapshot{at: time.Now()}
	var err error
	if s.cpu, err = proc.CPU(pid); err != nil {
		return s, err
	}
	if s.status, err = proc.ReadStatus(pid); err != nil {
		return s, err
	}
	if s.threads, err = proc.Threads(pid); err != nil {
		return s, err
	}
	s.mem, err = proc.ReadMemory(pid)
	return s, err
}

// ThreadWakeups is one thread's context switches over the window.
type ThreadWakeups struct {
	TID      int     `json:"tid"`
	Comm     string  `json:"comm"`
	Switches int64   `json:"switches"`
	PerSec   float64 `json:"per_second"`
	New      bool    `json:"new,omitempty"` // started during the window
}

// Figures are one process's figures over the window.
type Figures struct {
	Name          string          `json:"name"`
	Pid           int             `json:"pid"`
	WakeupsPerSec float64         `json:"wakeups_per_second"`
	CPUmsPerSec   float64         `json:"cpu_ms_per_second"`
	VmRSSKB       int64           `json:"vmrss_kb"`
	PssKB         int64           `json:"pss_kb"`
	PrivateKB     int64           `json:"private_kb"` // Private_Clean + Private_Dirty
	Threads       int             `json:"threads"`
	ThreadsGone   int             `json:"threads_ended"` // their switches in the window are not counted
	Woke          []ThreadWakeups `json:"threads_woken"`
}

func figures(name string, pid int, a, b snapshot) Figures {
	secs := b.at.Sub(a.at).Seconds()
	f := Figures{Name: name, Pid: pid,
		CPUmsPerSec: float64(b.cpu-a.cpu) / float64(time.Millisecond) / secs,
		VmRSSKB:     b.status.VmRSSKB, PssKB: b.mem.PSS, PrivateKB: b.mem.PrivateClean + b.mem.PrivateDirty,
		Threads: len(b.threads)}
	before := map[int]int64{}
	for _, t := range a.threads {
		before[t.TID] = t.Switches
	}
	var total int64
	for _, t := range b.threads {
		prev, seen := before[t.TID]
		delete(before, t.TID)
		d := t.Switches - prev
		total += d
		if d > 0 {
			f.Woke = append(f.Woke, ThreadWakeups{TID: t.TID, Comm: t.Comm, Switches: d, PerSec: float64(d) / secs, New: !seen})
		}
	}
	f.ThreadsGone = len(before)
	f.WakeupsPerSec = float64(total) / secs
	slices.SortFunc(f.Woke, func(x, y ThreadWakeups) int { return int(y.Switches - x.Switches) })
	return f
}

// Report is the output of -json.
type Report struct {
	Started   time.Time `json:"started"`
	CPUs      int       `json:"cpus"`
	LoadAvg   string    `json:"load_average_start"`
	Window    string    `json:"window"`
	Beats     int       `json:"beats_received"` // the start-up beat only, with an hourly heartbeat
	Processes []Figures `json:"processes"`
}

func bench(duration, settle time.Duration, jsonOut string, keep bool, out io.Writer) error {
	work, err := os.MkdirTemp("", "heartbeat-bench-idle-")
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
	sleeperBin := filepath.Join(work, "sleeper")
	if err := build.Package(sleeperBin, "./bench/idle/sleeper"); err != nil {
		return err
	}
	// The heartbeat beats at every whole hour: a window across one
	// measures that beat, not the rest.
	if wait := untilClearOfTheHour(time.Now(), settle+duration+startupAllowance); wait > 0 {
		fmt.Fprintf(out, "bench/idle: waiting %s for the top of the hour to pass (the heartbeat beats then)\n", wait.Round(time.Second))
		time.Sleep(wait)
	}
	rec, err := receiver.Start(1, 4)
	if err != nil {
		return err
	}
	defer rec.Close()
	cfg := filepath.Join(work, "heartbeat.yaml")
	if err := run.WriteConfig(cfg, 1, run.Hourly, rec.URL); err != nil {
		return err
	}
	daemon, err := run.StartDaemon(bin, cfg, filepath.Join(work, "daemon.log"))
	if err != nil {
		return err
	}
	defer daemon.Kill()
	sleeper, err := run.Start("sleeper", filepath.Join(work, "sleeper.log"), sleeperBin)
	if err != nil {
		return err
	}
	defer sleeper.Kill()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	_, ok := rec.WaitAll(ctx, daemon.Exited())
	cancel()
	if !ok {
		return fmt.Errorf("no start-up beat within a minute: %s", run.Tail(daemon.LogPath, 2000))
	}
	if !daemon.Sleep(settle) {
		return fmt.Errorf("the daemon exited: %s", run.Tail(daemon.LogPath, 2000))
	}
	var plugin int
	for _, p := range proc.Descendants(daemon.Pid()) {
		if proc.Exe(p) == bin.Plugin("http") {
			plugin = p
		}
	}
	if plugin == 0 {
		return errors.New("found no http plugin process under the daemon")
	}
	pids := []struct {
		name string
		pid  int
	}{{"core", daemon.Pid()}, {"http plugin", plugin}, {"sleeping Go process", sleeper.Pid()}}
	loadStart := proc.LoadAverage()
	fmt.Fprintf(out, "bench/idle: one heartbeat every 1 hour through the http plugin, at rest for %s (after the start-up beat and %s); %d CPUs, %s/%s; load average %s\n",
		duration, settle, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, loadStart)
	first := make([]snapshot, len(pids))
	for i, p := range pids {
		if first[i], err = take(p.pid); err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
	}
	if !daemon.Sleep(duration) {
		return fmt.Errorf("the daemon exited: %s", run.Tail(daemon.LogPath, 2000))
	}
	rep := Report{Started: time.Now().UTC(), CPUs: runtime.NumCPU(), LoadAvg: loadStart, Window: duration.String(), Beats: rec.Count()}
	for i, p := range pids {
		last, err := take(p.pid)
		if err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		rep.Processes = append(rep.Processes, figures(p.name, p.pid, first[i], last))
	}
	if err := printReport(out, rep); err != nil {
		return err
	}
	if _, _, err := daemon.Stop(30 * time.Second); err != nil {
		return err
	}
	if jsonOut != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		return os.WriteFile(jsonOut, append(b, '\n'), 0o644)
	}
	return nil
}

func printReport(out io.Writer, rep Report) error {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "process\twake-ups/s\tCPU ms/s\tVmRSS MB\tPss MB\tprivate MB\tthreads\t")
	row := func(f Figures) {
		fmt.Fprintf(tw, "%s\t%.2f\t%.3f\t%.1f\t%.1f\t%.1f\t%d\t\n", f.Name, f.WakeupsPerSec, f.CPUmsPerSec,
			mb(f.VmRSSKB), mb(f.PssKB), mb(f.PrivateKB), f.Threads)
	}
	core, plugin := rep.Processes[0], rep.Processes[1]
	row(core)
	row(plugin)
	row(Figures{Name: "core + plugin", WakeupsPerSec: core.WakeupsPerSec + plugin.WakeupsPerSec,
		CPUmsPerSec: core.CPUmsPerSec + plugin.CPUmsPerSec, VmRSSKB: core.VmRSSKB + plugin.VmRSSKB,
		PssKB: core.PssKB + plugin.PssKB, PrivateKB: core.PrivateKB + plugin.PrivateKB, Threads: core.Threads + plugin.Threads})
	row(rep.Processes[2])
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "beats received: %d (the start-up beat; the next is due in an hour)\n", rep.Beats)
	fmt.Fprintln(out, "threads that woke (context switches in the window):")
	for _, f := range rep.Processes {
		if len(f.Woke) == 0 {
			fmt.Fprintf(out, "  %s: none\n", f.Name)
			continue
		}
		fmt.Fprintf(out, "  %s:", f.Name)
		for _, t := range f.Woke {
			nw := ""
			if t.New {
				nw = ", new"
			}
			fmt.Fprintf(out, " tid %d %q %d (%.2f/s%s);", t.TID, t.Comm, t.Switches, t.PerSec, nw)
		}
		if f.ThreadsGone > 0 {
			fmt.Fprintf(out, " and %d thread(s) ended, not counted", f.ThreadsGone)
		}
		fmt.Fprintln(out)
	}
	return nil
}

func mb(kb int64) float64 { return float64(kb) / 1024 }

// startupAllowance is the time allowed for the daemon's start-up beat.
const startupAllowance = time.Minute

// untilClearOfTheHour is how long to wait from now so that a run of need
// crosses no top of an hour, in UTC or in now's zone (whichever the
// schedule is read in); 0 when it crosses none anyway, or when need is an
// hour or more and nothing can keep it clear.
func untilClearOfTheHour(now time.Time, need time.Duration) time.Duration {
	if need >= time.Hour {
		return 0
	}
	var wait time.Duration
	for _, t := range []time.Time{now.UTC(), now} {
		start := t.Add(wait)
		next := time.Date(start.Year(), start.Month(), start.Day(), start.Hour(), 0, 0, 0, start.Location()).Add(time.Hour)
		if !start.Add(need).Before(next) {
			wait = next.Sub(t) + 2*time.Second
		}
	}
	return wait
}
