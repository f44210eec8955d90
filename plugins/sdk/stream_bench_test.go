package sdk

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// quickTarget's instances answer at once: what a beat costs is then the
// stream's own work in both processes.
type quickTarget struct{}

func (quickTarget) Info() Info { return Info{Name: "quick", Signals: []Signal{SignalSuccess}} }

func (quickTarget) Configure(context.Context, ConfigureRequest) (Instance, error) {
	return quickInstance{}, nil
}

type quickInstance struct{}

func (quickInstance) Describe() string { return "quick" }

func (quickInstance) Beat(context.Context, Beat) (Result, error) { return Result{}, nil }

// BenchmarkBeatStream starts bursts of beats, as the scheduler hands over
// the beats due at one instant, and waits for every answer. One op is one
// beat; the plugin's side runs in the same process.
func BenchmarkBeatStream(b *testing.B) {
	const burst, instances = 1000, 1000
	c, _ := dialStream(b, newServer(quickTarget{}, nil))
	names := make([]string, instances)
	for i := range names {
		names[i] = fmt.Sprintf("t%d", i)
	}
	configureAll(b, c, names...)
	if _, err := c.Beat(context.Background(), names[0], Beat{Signal: SignalSuccess}); err != nil {
		b.Fatal(err)
	}
	starter := c.(BeatStarter)
	sched := Schedule{Cron: "* * * * * *"}
	var wg sync.WaitGroup
	done := func(_ Result, err error) {
		if err != nil {
			b.Error(err)
		}
		wg.Done()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; {
		k := min(burst, b.N-n)
		deadline := time.Now().Add(time.Minute)
		wg.Add(k)
		for i := range k {
			beat := Beat{Heartbeat: names[i%instances], Signal: SignalSuccess, Sequence: uint64(n + i), ScheduledAt: deadline, Schedule: sched, Attempt: 1}
			if _, ok := starter.StartBeat(names[i%instances], beat, deadline, done); !ok {
				b.Fatal("the beat could not be started over the stream")
			}
		}
		wg.Wait()
		n += k
	}
}
