// Package workpool runs short functions each on a goroutine of their own,
// reusing goroutines that finished earlier ones. A beat's goroutine grows
// its stack through an HTTP client or a gRPC call; a fresh goroutine per
// beat pays that growth (copying the stack) every time, a reused one once.
//
// A function never waits for a free goroutine: when none is idle a new one
// starts, so one slow function delays no other. At most MaxIdle goroutines
// stay parked once their work is done, each on a channel of its own, so
// an idle pool costs memory (their stacks) but never wakes the process.
// The core and the SDK use it for their per-beat goroutines.
package workpool

import (
	"sync"
	"sync/atomic"
)

// Pool reuses goroutines. The zero value is not usable: call New.
//
// Each parked goroutine waits on a channel of its own, and the last one
// parked is the first reused. With one channel shared by every parked
// goroutine (and a select for Close), each hand-over locked the channels
// that a thousand parked goroutines queued on; the goroutine reused last
// also has the warmest stack.
type Pool struct {
	mu sync.Mutex
	// idle are the parked goroutines' channels, the most recent last:
	// each takes one function, or is closed by Close.
	idle    []chan func()
	closed  bool
	maxIdle int
	started atomic.Int64 // goroutines started, for tests
	ended   atomic.Int64 // goroutines ended, for tests
}

// New returns a pool that keeps at most maxIdle goroutines parked (at
// least 1).
func New(maxIdle int) *Pool {
	return &Pool{maxIdle: max(maxIdle, 1)}
}

// Go runs f on an idle goroutine of the pool, or on a new one when none is
// idle. It never blocks.
func (p *Pool) Go(f func()) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		work := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		work <- f // buffered, and empty while parked: never blocks
		return
	}
	p.mu.Unlock()
	p.started.Add(1)
	go p.run(make(chan func(), 1), f)
}

// Close ends the parked goroutines, and those that park later. Go still
// works after Close, each function on a goroutine of its own.
func (p *Pool) Close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, work := range idle {
		close(work)
	}
}

// Idle is the number of goroutines parked, waiting for work.
func (p *Pool) Idle() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.idle)
}

func (p *Pool) run(work chan func(), f func()) {
	defer p.ended.Add(1)
	for f != nil {
		f()
		f = nil // let f's captures be collected while parked
		if !p.park(work) {
			return
		}
		f = <-work // nil once Close closed it
	}
}

// park puts work on the idle list; false when maxIdle are idle already, or
// the pool is closed.
func (p *Pool) park(work chan func()) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || len(p.idle) >= p.maxIdle {
		return false
	}
	p.idle = append(p.idle, work)
	return true
}
