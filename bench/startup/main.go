//go:build linux

// Command startup measures the time from starting `heartbeat run` (one
// heartbeat, http target) to its first beat arriving at a local receiver,
// against go-plugin's own spawn-and-handshake of the same plugin (the
// spawn program: start it, Client(), Info once), in the same run,
// interleaved.
//
//	go run ./bench/startup              # 10 runs of each
//	go run ./bench/startup -runs 5 -json startup.json
//
// See README.md in this directory.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/bench/internal/build"
	"github.com/seed-e9b80cf6/heartbeat/bench/internal/proc"
	"github.com/seed-e9b80cf6/heartbeat/bench/internal/receiver"
	"github.com/seed-e9b80cf6/heartbeat/bench/internal/run"
	"github.com/seed-e9b80cf6/heartbeat/bench/internal/stats"
)

func main() {
	runs := flag.Int("runs", 10, "timed runs of each (after one untimed run of each)")
	jsonOut := flag.String("json", "", "also write the results to this JSON file")
	keep := flag.Bool("keep", false, "keep the work directory (binaries, config, logs)")
	flag.Parse()
	if *runs < 1 {
		fmt.Fprintln(os.Stderr, "bench/startup: -runs must be at least 1")
		os.Exit(2)
	}
	if err := bench(*runs, *jsonOut, *keep, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench/startup:", err)
		os.Exit(1)
	}
}

// Run is one timed run of each.
type Run struct {
	// Heartbeat is from exec of `heartbeat run` to the first beat's arrival.
	Heartbeat time.Duration `json:"heartbeat_to_first_beat_ns"`
	// SpawnSelf is the spawn program's own figure, from the start of its
	// main to Info done; SpawnExec from the bench's exec of it to reading
	// its line (process start of the host included).
	SpawnSelf time.Duration `json:"spawn_self_ns"`
	SpawnExec time.Duration `json:"spawn_exec_ns"`
}

// Report is the output of -json.
type Report struct {
	Started time.Time `json:"started"`
	CPUs    int       `json:"cpus"`
	LoadAvg string    `json:"load_average_start"`
	Runs    []Run     `json:"runs"`
}

func bench(runs int, jsonOut string, keep bool, out io.Writer) error {
	work, err := os.MkdirTemp("", "heartbeat-bench-startup-")
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
	spawnBin := filepath.Join(work, "spawn")
	if err := build.Package(spawnBin, "./bench/startup/spawn"); err != nil {
		return err
	}
	rep := Report{Started: time.Now().UTC(), CPUs: runtime.NumCPU(), LoadAvg: proc.LoadAverage()}
	fmt.Fprintf(out, "bench/startup: heartbeat run (one heartbeat, http target) to its first beat vs go-plugin spawn+handshake+Info of heartbeat-target-http; %d runs of each, interleaved; %d CPUs, %s/%s; load average %s\n",
		runs, rep.CPUs, runtime.GOOS, runtime.GOARCH, rep.LoadAvg)
	for i := range runs + 1 { // the first run warms the page cache and is not counted
		hb, err := heartbeatOnce(bin, work, i)
		if err != nil {
			return err
		}
		self, viaExec, err := spawnOnce(spawnBin, bin.Plugin("http"))
		if err != nil {
			return err
		}
		if i > 0 {
			rep.Runs = append(rep.Runs, Run{hb, self, viaExec})
		}
	}
	if err := printReport(out, rep); err != nil {
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

// heartbeatOnce starts the daemon with one hourly heartbeat and times
// the start-up beat's arrival, then stops the daemon.
func heartbeatOnce(bin build.Binaries, work string, i int) (time.Duration, error) {
	rec, err := receiver.Start(1, 4)
	if err != nil {
		return 0, err
	}
	defer rec.Close()
	cfg := filepath.Join(work, "heartbeat.yaml")
	if err := run.WriteConfig(cfg, 1, run.Hourly, rec.URL); err != nil {
		return 0, err
	}
	p, err := run.StartDaemon(bin, cfg, filepath.Join(work, fmt.Sprintf("daemon-%d.log", i)))
	if err != nil {
		return 0, err
	}
	defer p.Kill()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	at, ok := rec.WaitFirst(ctx, 0)
	if !ok {
		return 0, fmt.Errorf("heartbeat: no beat within a minute: %s", run.Tail(p.LogPath, 2000))
	}
	if _, _, err := p.Stop(30 * time.Second); err != nil {
		return 0, err
	}
	return at.Sub(p.Started()), nil
}

// spawnOnce runs the spawn program and returns its own figure and the
// time from its exec to its line.
func spawnOnce(spawnBin, plugin string) (self, viaExec time.Duration, err error) {
	cmd := exec.Command(spawnBin, plugin)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return 0, 0, err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	line, readErr := bufio.NewReader(io.LimitReader(stdout, 4096)).ReadString('\n')
	viaExec = time.Since(start)
	_, _ = io.Copy(io.Discard, stdout)
	if err := cmd.Wait(); err != nil {
		return 0, 0, fmt.Errorf("spawn: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	var ns int64
	if _, err := fmt.Sscanf(line, "spawn: info done in %d ns", &ns); readErr != nil || err != nil {
		return 0, 0, fmt.Errorf("spawn printed %q, want \"spawn: info done in N ns ...\"", line)
	}
	return time.Duration(ns), viaExec, nil
}

func printReport(out io.Writer, rep Report) error {
	col := func(f func(Run) time.Duration) stats.Spread {
		xs := make([]float64, len(rep.Runs))
		for i, r := range rep.Runs {
			xs[i] = float64(f(r))
		}
		return stats.SpreadOf(xs)
	}
	ratio := func(f func(Run) float64) stats.Spread {
		xs := make([]float64, len(rep.Runs))
		for i, r := range rep.Runs {
			xs[i] = f(r)
		}
		return stats.SpreadOf(xs)
	}
	ms := func(x float64) string { return fmt.Sprintf("%.1f ms", x/float64(time.Millisecond)) }
	x := func(v float64) string { return fmt.Sprintf("%.2fx", v) }
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "figure\tmin\tmedian\tmax\t")
	row := func(name string, s stats.Spread, f func(float64) string) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", name, f(s.Min), f(s.Median), f(s.Max))
	}
	row("heartbeat run: exec to first beat at the receiver", col(func(r Run) time.Duration { return r.Heartbeat }), ms)
	row("go-plugin spawn: exec to Info done", col(func(r Run) time.Duration { return r.SpawnExec }), ms)
	row("go-plugin spawn: its main to Info done (own figure)", col(func(r Run) time.Duration { return r.SpawnSelf }), ms)
	row("ratio heartbeat / spawn from exec (per run)", ratio(func(r Run) float64 { return stats.Ratio(float64(r.Heartbeat), float64(r.SpawnExec)) }), x)
	row("ratio heartbeat / spawn own figure (per run)", ratio(func(r Run) float64 { return stats.Ratio(float64(r.Heartbeat), float64(r.SpawnSelf)) }), x)
	if err := tw.Flush(); err != nil {
		return err
	}
	hb, sp := col(func(r Run) time.Duration { return r.Heartbeat }), col(func(r Run) time.Duration { return r.SpawnExec })
	fmt.Fprintf(out, "ratio of the medians, heartbeat / spawn from exec: %.2fx; load average at the end %s\n", stats.Ratio(hb.Median, sp.Median), proc.LoadAverage())
	return nil
}
