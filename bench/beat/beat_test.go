package beat

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/core/pluginhost"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// builds holds the binaries, built once per test binary run.
var builds struct {
	sync.Once
	dir  string
	core string
	http string // the http plugin, in dir/plugins
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if builds.dir != "" {
		_ = os.RemoveAll(builds.dir)
	}
	os.Exit(code)
}

// build compiles heartbeat and its http plugin into a temporary directory.
func build(tb testing.TB) (core, httpPlugin string) {
	tb.Helper()
	builds.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		dir, err := os.MkdirTemp("", "heartbeat-bench-")
		if err != nil {
			builds.err = err
			return
		}
		builds.dir = dir
		core := filepath.Join(dir, "heartbeat")
		plugin := filepath.Join(dir, "plugins", "heartbeat-target-http")
		for out, pkg := range map[string]string{core: "./cmd/heartbeat", plugin: "./plugins/http"} {
			cmd := exec.Command("go", "build", "-o", out, pkg)
			cmd.Dir = root
			if b, err := cmd.CombinedOutput(); err != nil {
				builds.err = fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
				return
			}
		}
		builds.core, builds.http = core, plugin
	})
	if builds.err != nil {
		tb.Fatal(builds.err)
	}
	return builds.core, builds.http
}

// newServer is the monitoring tool: 200 "OK" on 127.0.0.1.
func newServer(tb testing.TB) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "OK")
	}))
	tb.Cleanup(srv.Close)
	return srv
}

// measure runs beat in b.Loop and reports the p50 and p99 latency.
func measure(b *testing.B, beat func() error) {
	b.Helper()
	var lat []time.Duration
	for b.Loop() {
		start := time.Now()
		if err := beat(); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[int(p*float64(len(lat)-1))].Nanoseconds()) / 1e3
	}
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}

// A beat through the core's plugin host, over gRPC to the real http plugin
// process, which sends the HTTP request.
func BenchmarkBeatThroughPlugin(b *testing.B) {
	_, plugin := build(b)
	srv := newServer(b)
	ctx := context.Background()
	host := pluginhost.New(pluginhost.Options{})
	b.Cleanup(host.Stop)
	p, err := host.Start(ctx, pluginhost.Found{Name: "http", Path: plugin})
	if err != nil {
		b.Fatal(err)
	}
	settings, _ := json.Marshal(map[string]string{"url": srv.URL + "/ping"})
	if _, err := host.Configure(ctx, p, "web", settings); err != nil {
		b.Fatal(err)
	}
	beat := sdk.Beat{Heartbeat: "bench", Signal: sdk.SignalSuccess, Attempt: 1}
	measure(b, func() error {
		_, err := host.Beat(ctx, "web", beat)
		return err
	})
}

// The same request sent in-process with net/http, keeping the connection.
func BenchmarkBeatInProcess(b *testing.B) {
	srv := newServer(b)
	client := &http.Client{Timeout: 10 * time.Second}
	url := srv.URL + "/ping"
	measure(b, func() error {
		resp, err := client.Get(url)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %s", resp.Status)
		}
		return nil
	})
}

// The same request sent by a curl process started for each beat.
func BenchmarkBeatCurl(b *testing.B) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		b.Skip("curl not found")
	}
	srv := newServer(b)
	url := srv.URL + "/ping"
	measure(b, func() error {
		if out, err := exec.Command(curl, "-fsS", "-o", "/dev/null", url).CombinedOutput(); err != nil {
			return fmt.Errorf("curl: %v: %s", err, out)
		}
		return nil
	})
}

// TestMeasureStartupAndMemory starts `heartbeat run` with an http target
// several times, measuring the time from process start to the first request
// at the server; after the last start it lets the daemon idle for 5 s and
// reads the memory of the core and the plugin process. Run it with
// HEARTBEAT_BENCH=1 and -v.
func TestMeasureStartupAndMemory(t *testing.T) {
	if os.Getenv("HEARTBEAT_BENCH") != "1" {
		t.Skip("set HEARTBEAT_BENCH=1 to measure start-up time and memory")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs /proc")
	}
	core, plugin := build(t)
	hits := make(chan time.Time, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		select {
		case hits <- time.Now():
		default:
		}
		_, _ = io.WriteString(w, "OK")
	}))
	t.Cleanup(srv.Close)
	cfg := filepath.Join(t.TempDir(), "heartbeat.yaml")
	content := fmt.Sprintf("targets:\n  web: { plugin: http, config: { url: %q } }\nheartbeats:\n  - { name: bench, frequency: every 1 sec, targets: [web] }\n", srv.URL+"/ping")
	if err := os.WriteFile(cfg, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}

	const runs = 5
	var startups []time.Duration
	for i := range runs {
		for len(hits) > 0 {
			<-hits
		}
		cmd := exec.Command(core, "run", "--config", cfg, "--plugin-dir", filepath.Dir(plugin), "--log-level", "warn")
		start := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		select {
		case at := <-hits:
			startups = append(startups, at.Sub(start))
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatal("no beat within 20s of start")
		}
		if i == runs-1 {
			time.Sleep(5 * time.Second)
			pids := processesOf(t, filepath.Dir(plugin))
			if len(pids) != 1 {
				t.Errorf("want one plugin process, found %v", pids)
			}
			t.Logf("core   pid %d: %s", cmd.Process.Pid, memory(t, cmd.Process.Pid))
			for _, pid := range pids {
				t.Logf("plugin pid %d: %s", pid, memory(t, pid))
			}
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Errorf("exit after SIGTERM: %v", err)
		}
	}
	sorted := slices.Clone(startups)
	slices.Sort(sorted)
	t.Logf("start to first beat over %d runs: min %s, median %s, max %s (all: %v)", runs,
		sorted[0].Round(time.Millisecond), sorted[len(sorted)/2].Round(time.Millisecond),
		sorted[len(sorted)-1].Round(time.Millisecond), startups)
}

// processesOf lists the pids of processes running a binary from dir.
func processesOf(t *testing.T, dir string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err == nil && filepath.Dir(exe) == dir {
			pids = append(pids, pid)
		}
	}
	return pids
}

// memory reads VmRSS and VmHWM from /proc/<pid>/status and Pss from
// /proc/<pid>/smaps_rollup (when readable).
func memory(t *testing.T, pid int) string {
	t.Helper()
	fields := map[string]string{}
	for _, f := range []string{"status", "smaps_rollup"} {
		file, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), f))
		if err != nil {
			continue
		}
		s := bufio.NewScanner(file)
		for s.Scan() {
			k, v, ok := strings.Cut(s.Text(), ":")
			if ok {
				fields[k] = strings.Join(strings.Fields(v), " ")
			}
		}
		file.Close()
	}
	if fields["VmRSS"] == "" {
		t.Fatalf("no VmRSS for pid %d", pid)
	}
	return fmt.Sprintf("VmRSS %s, VmHWM %s, Pss %s", fields["VmRSS"], fields["VmHWM"], fields["Pss"])
}
