//go:build linux

package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// idleWakeups bounds the wake-ups (context switches) of each process over
// idleWindow at rest. Sleeping until the next beat and waiting for events
// makes it close to 0; polling once a second would pass it within the
// window, let alone four times a second. The bound is generous so a
// loaded machine does not fail the test: it counts, it does not time.
const (
	idleWakeups = 30
	idleWindow  = 10 * time.Second
	idleTries   = 3
)

// A daemon with one hourly heartbeat sleeps until the beat: neither the
// core nor its plugin wakes up periodically, with or without the metrics
// endpoint.
func TestIdleDaemonDoesNotWakeUp(t *testing.T) {
	bins := buildBinaries(t)
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	for _, listen := range []bool{false, true} {
		t.Run(fmt.Sprintf("listen=%v", listen), func(t *testing.T) {
			cfg := fmt.Sprintf("targets:\n  web:\n    plugin: http\n    config:\n      url: %q\nheartbeats:\n  - name: hourly\n    frequency: every 1 hour\n    targets: [web]\n", srv.URL+"/ping")
			if listen {
				cfg = "listen: " + freeAddr(t) + "\n" + cfg
			}
			before := hits.Load()
			d := startDaemon(t, bins, "--config", writeConfig(t, cfg))
			waitFor(t, 60*time.Second, "the start-up beat", func() bool { return hits.Load() > before })
			core := d.cmd.Process.Pid
			var plugin int
			waitFor(t, 20*time.Second, "the http plugin process", func() bool {
				plugin = childNamed(core, "heartbeat-target-http")
				return plugin > 0
			})
			// Let the start-up beat's work end.
			time.Sleep(5 * time.Second)
			// The fewest wake-ups of up to idleTries windows: the tail of
			// start-up (a garbage collection, the runtime returning memory)
			// may fall in one window on a loaded machine; a periodic
			// wake-up falls in every one.
			coreMin, pluginMin := -1, -1
			for range idleTries {
				c0, p0 := contextSwitches(t, core), contextSwitches(t, plugin)
				time.Sleep(idleWindow)
				c1, p1 := contextSwitches(t, core), contextSwitches(t, plugin)
				if coreMin < 0 || c1-c0 < coreMin {
					coreMin = c1 - c0
				}
				if pluginMin < 0 || p1-p0 < pluginMin {
					pluginMin = p1 - p0
				}
				if coreMin < idleWakeups && pluginMin < idleWakeups {
					break
				}
			}
			if coreMin >= idleWakeups {
				t.Errorf("the core woke up at least %d times in each %s at rest, want fewer than %d", coreMin, idleWindow, idleWakeups)
			}
			if pluginMin >= idleWakeups {
				t.Errorf("the plugin woke up at least %d times in each %s at rest, want fewer than %d", pluginMin, idleWindow, idleWakeups)
			}
			if n := hits.Load() - before; n != 1 {
				t.Errorf("%d beats, want the start-up beat alone", n)
			}
		})
	}
}

// childNamed returns the pid of parent's child run from a file called
// name, 0 if none.
func childNamed(parent int, name string) int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", parent))
	for _, task := range tasks {
		data, _ := os.ReadFile(task)
		for _, f := range strings.Fields(string(data)) {
			pid, err := strconv.Atoi(f)
			if err != nil {
				continue
			}
			if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); err == nil && filepath.Base(exe) == name {
				return pid
			}
		}
	}
	return 0
}

// contextSwitches sums the voluntary and involuntary context switches of
// every thread of pid: each wake-up of a sleeping thread is one.
func contextSwitches(t *testing.T, pid int) int {
	t.Helper()
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	if len(files) == 0 {
		t.Fatalf("process %d is gone", pid)
	}
	total := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue // a thread that ended
		}
		for line := range strings.SplitSeq(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.HasSuffix(k, "voluntary_ctxt_switches") {
				n, _ := strconv.Atoi(strings.TrimSpace(v))
				total += n
			}
		}
	}
	return total
}
