//go:build linux

// Command exec measures the overhead a job wrapper adds to a job: the
// command run bare, under `heartbeat exec --url` and under runitor, both
// reporting to the same local fake Healthchecks server, side by side in one
// run. For each it reports the wall time per run (median and p90 of N
// runs) and the CPU time (user+sys from the rusage of the wrapper and the
// processes it waited for), and the ratios.
//
//	go run ./bench/exec                       # 30 runs of each
//	go run ./bench/exec -n 100 -runitor PATH
//
// See README.md in this directory.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/bench/internal/build"
	"github.com/seed-e9b80cf6/heartbeat/bench/internal/proc"
	"github.com/seed-e9b80cf6/heartbeat/bench/internal/stats"
	"github.com/seed-e9b80cf6/heartbeat/plugins/healthchecks/hcfake"
)

func main() {
	home, _ := os.UserHomeDir()
	n := flag.Int("n", 30, "timed runs of each job under each wrapper")
	warmup := flag.Int("warmup", 3, "untimed runs of each first")
	runitor := flag.String("runitor", filepath.Join(home, ".cache", "runitor", "bin", "runitor"), "runitor binary (its column is left out when it is missing)")
	outputSize := flag.Int("output", 1<<20, "bytes the output job writes")
	keep := flag.Bool("keep", false, "keep the work directory (binaries, job file)")
	flag.Parse()
	if err := run(*n, *warmup, *runitor, *outputSize, *keep, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench/exec:", err)
		os.Exit(1)
	}
}

// sample is one timed run.
type sample struct{ wall, cpu time.Duration }

// wrapper turns a job's argv into the argv that runs it.
type wrapper struct {
	name string
	argv func(job []string) []string
}

type job struct {
	name string
	argv []string
	out  int64 // bytes it writes
}

func run(n, warmup int, runitor string, outputSize int, keep bool, out io.Writer) error {
	if n < 1 {
		return fmt.Errorf("-n must be at least 1")
	}
	dir, err := os.MkdirTemp("", "heartbeat-bench-exec-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Fprintln(out, "work directory:", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	// Built as the Makefile builds them (-trimpath, the version stamped in).
	bin, err := build.Heartbeat(dir, "healthchecks")
	if err != nil {
		return err
	}
	core, pluginDir := bin.Core, bin.PluginDir
	truePath, err := exec.LookPath("true")
	if err != nil {
		return err
	}
	catPath, err := exec.LookPath("cat")
	if err != nil {
		return err
	}
	outFile := filepath.Join(dir, "output.txt")
	if err := os.WriteFile(outFile, outputText(outputSize), 0o644); err != nil {
		return err
	}

	hc := hcfake.Start(hcfake.Config{})
	defer hc.Close()
	uuid := hc.AddCheck(hcfake.NewUUID())

	wrappers := []wrapper{
		{"bare", func(job []string) []string { return job }},
		{"heartbeat exec", func(job []string) []string {
			return append([]string{core, "exec", "--plugin-dir", pluginDir, "--url", hc.PingURL(uuid), "--"}, job...)
		}},
	}
	if _, err := os.Stat(runitor); err == nil {
		wrappers = append(wrappers, wrapper{"runitor", func(job []string) []string {
			return append([]string{runitor, "-api-url", strings.TrimSuffix(hc.BaseURL(), "/"), "-uuid", uuid, "--"}, job...)
		}})
	} else {
		fmt.Fprintf(out, "runitor not found at %s: its column is left out (build it with ../shared/servers/runitor/build.sh, or give -runitor)\n", runitor)
	}
	jobs := []job{
		{"true", []string{truePath}, 0},
		{fmt.Sprintf("cat %s of output", size(int64(outputSize))), []string{catPath, outFile}, int64(outputSize)},
	}

	fmt.Fprintf(out, "bench/exec: %d runs of each (after %d untimed), %d CPUs, %s/%s, load average %s\n",
		n, warmup, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, proc.LoadAverage())
	results := map[string]map[string][]sample{}
	for _, j := range jobs {
		results[j.name] = map[string][]sample{}
		// Interleaved, so that a change in the machine's load meanwhile
		// weighs on every wrapper alike.
		for i := range warmup + n {
			for _, w := range wrappers {
				before := len(hc.Pings(uuid))
				s, err := measure(w.argv(j.argv), j.out)
				if err != nil {
					return fmt.Errorf("%s under %s: %w", j.name, w.name, err)
				}
				if w.name != "bare" {
					// Each wrapper must really have reported: a start and
					// a finish.
					if got := len(hc.Pings(uuid)) - before; got != 2 {
						return fmt.Errorf("%s under %s: %d pings stored, want 2", j.name, w.name, got)
					}
				}
				if i >= warmup {
					results[j.name][w.name] = append(results[j.name][w.name], s)
				}
			}
		}
	}

	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "job\twrapper\twall p50\twall p90\tCPU p50\tCPU p90\twall p50 / bare\tCPU p50 / bare\twall p50 / runitor\tCPU p50 / runitor\t")
	for _, j := range jobs {
		bare := summarize(results[j.name]["bare"])
		rr, haveRunitor := results[j.name]["runitor"]
		var rs summary
		if haveRunitor {
			rs = summarize(rr)
		}
		for _, w := range wrappers {
			s := summarize(results[j.name][w.name])
			vsRunitor := []string{"-", "-"}
			if haveRunitor {
				vsRunitor = []string{ratio(s.wall50, rs.wall50), ratio(s.cpu50, rs.cpu50)}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", j.name, w.name,
				ms(s.wall50), ms(s.wall90), ms(s.cpu50), ms(s.cpu90),
				ratio(s.wall50, bare.wall50), ratio(s.cpu50, bare.cpu50), vsRunitor[0], vsRunitor[1])
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "overhead over bare (p50): ")
	var parts []string
	for _, j := range jobs {
		bare := summarize(results[j.name]["bare"])
		for _, w := range wrappers[1:] {
			s := summarize(results[j.name][w.name])
			parts = append(parts, fmt.Sprintf("%s %s +%s wall, +%s CPU", w.name, j.name, ms(s.wall50-bare.wall50), ms(s.cpu50-bare.cpu50)))
		}
	}
	fmt.Fprintln(out, strings.Join(parts, "; "))
	fmt.Fprintf(out, "load average at the end %s\n", proc.LoadAverage())
	return nil
}

// measure runs argv once, its output to a counter, and returns its wall
// and CPU time; the output must be the job's whole output.
func measure(argv []string, want int64) (sample, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	var c counter
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &c, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return sample{}, fmt.Errorf("%v: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	wall := time.Since(start)
	if c.n != want {
		return sample{}, fmt.Errorf("passed on %d bytes of output, want %d", c.n, want)
	}
	ps := cmd.ProcessState
	return sample{wall: wall, cpu: ps.UserTime() + ps.SystemTime()}, nil
}

type counter struct{ n int64 }

func (c *counter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

type summary struct{ wall50, wall90, cpu50, cpu90 time.Duration }

func summarize(ss []sample) summary {
	walls := make([]time.Duration, len(ss))
	cpus := make([]time.Duration, len(ss))
	for i, s := range ss {
		walls[i], cpus[i] = s.wall, s.cpu
	}
	return summary{percentile(walls, 50), percentile(walls, 90), percentile(cpus, 50), percentile(cpus, 90)}
}

// percentile is the nearest-rank percentile p (0..100).
func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return stats.Percentile(s, p)
}

func ratio(a, b time.Duration) string {
	if b <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", float64(a)/float64(b))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func size(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d B", n)
}

// outputText is n bytes of 64-byte text lines.
func outputText(n int) []byte {
	line := []byte(strings.Repeat("0123456789abcdef", 4)[:63] + "\n")
	b := bytes.Repeat(line, n/len(line)+1)
	return b[:n]
}
