// Package heapgoal sets how much garbage a long-running heartbeat process
// lets pile up between two collections: Floor while its live heap is
// small, a quarter of the live heap once that is large.
//
// Go's collector lets the heap grow to twice the live heap before it
// collects again (GOGC=100). For a daemon keeping the state of ten
// thousand heartbeats that is over a hundred MB of garbage, resident, for
// nothing. For a process holding a few MB it is a collection every few MB
// allocated: at a thousand beats a second, a collection every two or
// three seconds, each marking every goroutine's stack, which cost the
// plugin about a tenth of its CPU. Start sets GOGC after every collection
// so that the headroom is Floor until the live heap passes 4×Floor, and a
// quarter of the live heap from there:
//
//	live heap   headroom   GOGC
//	≤ 4 MB      to 16 MB   400 (Go's least heap goal, 4 MB, scaled: Floor)
//	8 MB        16 MB      200
//	16 MB       16 MB      100 (Go's default)
//	32 MB       16 MB       50
//	≥ 64 MB     live/4      25
//
// Memory is traded for CPU where memory is small, and CPU for memory
// where it is large: a process never holds more than Floor, or a quarter
// of its live heap, of garbage. A process at rest allocates next to
// nothing, so its heap stays where its last collection left it; the
// garbage of start-up goes with the collection made once start-up is
// over (see memtrim). A process whose user set GOGC keeps the user's
// setting.
package heapgoal

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

const (
	// Floor is the headroom of a live heap up to 4×Floor.
	Floor = 16 << 20
	// MinPercent is the least GOGC set: a quarter of the live heap.
	MinPercent = 25
	// MaxPercent is the most GOGC set. Go scales its least heap goal,
	// 4 MB, by GOGC: at MaxPercent that is Floor, not more.
	MaxPercent = 400
	// defaultPercent is Go's GOGC, set back by stop.
	defaultPercent = 100
)

// Percent is the GOGC for a live heap of live bytes.
func Percent(live uint64) int {
	if live == 0 {
		return MaxPercent
	}
	return int(min(MaxPercent, max(MinPercent, uint64(Floor)*100/live)))
}

// tuner sets GOGC after each collection, from a cleanup that runs once
// per cycle: it wakes the process only when the collector ran anyway.
type tuner struct {
	mu      sync.Mutex
	stopped bool
	percent int // the GOGC set last
	sample  []metrics.Sample
}

// sentinel is the object whose collection marks the end of a cycle. It
// holds a pointer so that it is not batched with other tiny objects,
// which would keep it alive.
type sentinel struct{ _ *tuner }

// Start tunes GOGC after every collection from now on, unless the GOGC
// environment variable is set. stop ends the tuning and puts back Go's
// default.
func Start() (stop func()) {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	t := &tuner{sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}, percent: defaultPercent}
	t.arm()
	return func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		if !t.stopped {
			t.stopped = true
			debug.SetGCPercent(defaultPercent)
		}
	}
}

func (t *tuner) arm() {
	runtime.AddCleanup(&sentinel{}, func(t *tuner) { t.tune() }, t)
}

// tune runs on the cleanup goroutine once a cycle is over.
func (t *tuner) tune() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return
	}
	metrics.Read(t.sample)
	if v := t.sample[0].Value; v.Kind() == metrics.KindUint64 {
		if p := Percent(v.Uint64()); p != t.percent {
			t.percent = p
			debug.SetGCPercent(p)
		}
	}
	t.arm()
}
