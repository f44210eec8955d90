// Package workpool runs short functions each on a goroutine of their own,
// reusing goroutines that finished earlier ones. A beat's goroutine grows
// its stack through an HTTP client or a gRPC call; a fresh goroutine per
// beat pays that growth (copying the stack) every time, a reused one once.
//
// A function never waits for a free goroutine: when none is idle a new one
// starts, so one slow function delays no other. At most MaxIdle goroutines
// stay parked once their work is done; they wait on a channel, so an idle
// pool costs memory (their stacks) but never wakes the process. The core
// and the SDK use it for their per-beat goroutines.
package workpool

import (
	"sync"
	"sync/atomic"
)

// Pool reuses goroutines. The zero value is not usable: call New.
type Pool struct {
	work    chan func()
	closed  chan struct{}
	once    sync.Once
	idle    atomic.Int64
	maxIdle int64
	started atomic.Int64 // goroutines started, for tests
}

// New returns a pool that keeps at most maxIdle goroutines parked (at
// least 1).
func New(maxIdle int) *Pool {
	return &Pool{work: make(chan func()), closed: make(chan struct{}), maxIdle: int64(max(maxIdle, 1))}
}

// Go runs f on an idle goroutine of the pool, or on a new one when none is
// idle. It never blocks.
func (p *Pool) Go(f func()) {
	select {
	case p.work <- f:
	default:
		p.started.Add(1)
		go p.worker(f)
	}
}

// Close ends the parked goroutines, and those that park later. Go still
// works after Close, each function on a goroutine of its own.
func (p *Pool) Close() { p.once.Do(func() { close(p.closed) }) }

// Idle is the number of goroutines parked, waiting for work.
func (p *Pool) Idle() int { return int(p.idle.Load()) }

func (p *Pool) worker(f func()) {
	for {
		f()
		f = nil // let f's captures be collected while parked
		if !p.park() {
			return
		}
		select {
		case f = <-p.work:
			p.idle.Add(-1)
		case <-p.closed:
			p.idle.Add(-1)
			return
		}
	}
}

// park counts the caller idle; false when maxIdle are idle already.
func (p *Pool) park() bool {
	for {
		n := p.idle.Load()
		if n >= p.maxIdle {
			return false
		}
		if p.idle.CompareAndSwap(n, n+1) {
			return true
		}
	}
}
