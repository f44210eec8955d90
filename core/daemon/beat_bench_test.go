//go:build unix

package daemon

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/core/metrics"
	"github.com/seed-e9b80cf6/heartbeat/core/scheduler"
	"github.com/seed-e9b80cf6/heartbeat/core/status"
)

// BenchmarkStartBeat hands the daemon bursts of ticks, as the scheduler
// does with the beats due at one instant, through a plugin process that
// answers at once. One op is one beat; allocations and core-µs/beat are
// the core's alone (the plugin is another process).
func BenchmarkStartBeat(b *testing.B) {
	const n = 1000
	dir := hostileDir(b)
	var y strings.Builder
	y.WriteString("targets:\n")
	for i := range n {
		fmt.Fprintf(&y, "  t%d: { plugin: hostile }\n", i)
	}
	y.WriteString("heartbeats:\n")
	for i := range n {
		fmt.Fprintf(&y, "  - { name: hb%d, cron: \"* * * * * *\", targets: [t%d] }\n", i, i)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := metrics.New()
	rec := status.NewRecorder(status.Options{})
	m.Track(rec)
	d, err := Start(ctx, parseConfig(b, y.String()), Options{PluginDir: dir, Observer: m, Recorder: rec, Logger: hclog.NewNullLogger()})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Stop()
	var wg sync.WaitGroup
	seq := uint64(0)
	burst := func(k int) {
		seq++
		now := time.Now()
		wg.Add(k)
		for i := range k {
			t := scheduler.Tick{Heartbeat: fmt.Sprintf("hb%d", i%n), Sequence: seq, ScheduledAt: now, Next: now.Add(time.Minute)}
			if !d.startBeat(ctx, t, wg.Done) {
				b.Fatal("startBeat did not take the tick")
			}
		}
		wg.Wait()
	}
	burst(n) // opens the stream
	burst(n)
	var before, after syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; {
		k := min(n, b.N-done)
		burst(k)
		done += k
	}
	b.StopTimer()
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "core-µs/beat")
}
