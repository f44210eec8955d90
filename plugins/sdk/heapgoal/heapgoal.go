// Package heapgoal keeps the heap of a long-running heartbeat process
// close to what it holds live, once that is large.
//
// Go's collector lets the heap grow to twice the live heap before it
// collects again (GOGC=100). For a process holding little that is a few
// MB; for a daemon keeping the state of ten thousand heartbeats it is
// over a hundred MB of garbage, resident, for nothing. Start lowers the
// collector's target as the live heap grows, so that the headroom stays
// at least Floor but no more than a quarter of the live heap once the
// live heap passes 4×Floor:
//
//	live heap   headroom   GOGC
//	≤ 16 MB     = live     100 (Go's default)
//	32 MB       16 MB       50
//	≥ 64 MB     live/4      25
//
// The cost is more frequent collections in a large process, each of which
// marks the live heap: CPU traded for memory only where memory is large.
// A process whose user set GOGC keeps the user's setting.
package heapgoal

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

const (
	// Floor is the least headroom: a heap whose live part is up to Floor
	// may double, as Go's default lets it.
	Floor = 16 << 20
	// MinPercent is the least GOGC set: a quarter of the live heap.
	MinPercent = 25
	// defaultPercent is Go's GOGC, never exceeded.
	defaultPercent = 100
)

// Percent is the GOGC for a live heap of live bytes.
func Percent(live uint64) int {
	if live <= Floor {
		return defaultPercent
	}
	return max(MinPercent, int(uint64(Floor)*100/live))
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
