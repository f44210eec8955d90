package sdk

import (
	"context"
	"slices"
	"sync"
	"time"
)

// beatContext is the context of one streamed beat: a root of its own,
// ended by its deadline, by the core cancelling the beat, by the stream's
// end, or as the beat returns.
//
// It stands for what context.WithDeadline, and a context.AfterFunc on it,
// would allocate per beat: a timer context, the map its children are kept
// in, and an after-func context. Its children (net/http derives one per
// request) register through its AfterFunc method, which the context
// package looks for, so that they need no goroutine to watch it.
type beatContext struct {
	deadline time.Time // zero: none
	done     chan struct{}
	timer    *time.Timer

	mu     sync.Mutex
	err    error
	onEnd  func()
	afters []afterFunc
	nextID uint64
}

type afterFunc struct {
	id uint64
	f  func()
}

// newBeatContext returns a context that ends at deadline (never, when
// zero) unless cancelled before.
func newBeatContext(deadline time.Time) *beatContext {
	c := &beatContext{deadline: deadline, done: make(chan struct{})}
	if !deadline.IsZero() {
		d := time.Until(deadline)
		if d <= 0 {
			c.err = context.DeadlineExceeded
			close(c.done)
			return c
		}
		// Under the lock: the timer may fire, and end read it, before
		// AfterFunc returns.
		c.mu.Lock()
		c.timer = time.AfterFunc(d, func() { c.end(context.DeadlineExceeded) })
		c.mu.Unlock()
	}
	return c
}

func (c *beatContext) Deadline() (time.Time, bool) { return c.deadline, !c.deadline.IsZero() }

func (c *beatContext) Done() <-chan struct{} { return c.done }

func (c *beatContext) Err() error {
	select {
	case <-c.done:
	default:
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *beatContext) Value(any) any { return nil }

// cancel ends the context with context.Canceled, unless it ended before.
func (c *beatContext) cancel() { c.end(context.Canceled) }

func (c *beatContext) end(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	close(c.done)
	onEnd, afters, timer := c.onEnd, c.afters, c.timer
	c.onEnd, c.afters = nil, nil
	c.mu.Unlock()
	if timer != nil {
		timer.Stop()
	}
	if onEnd != nil {
		onEnd()
	}
	// Run here, not each on a goroutine: the context package registers
	// only functions that cancel a child context, which do not block (a
	// context.AfterFunc's own function is started on a goroutine by its
	// child).
	for _, a := range afters {
		a.f()
	}
}

// AfterFunc arranges for f to run once c ends, and returns a function
// that stops it from running, reporting whether it did. The context
// package calls it for the children of c.
func (c *beatContext) AfterFunc(f func()) (stop func() bool) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		// Not here: the context package calls this holding the child's
		// lock, which f takes.
		go f()
		return func() bool { return false }
	}
	c.nextID++
	id := c.nextID
	c.afters = append(c.afters, afterFunc{id, f})
	c.mu.Unlock()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for i, a := range c.afters {
			if a.id == id {
				c.afters = slices.Delete(c.afters, i, i+1)
				return true
			}
		}
		return false
	}
}

// whenEnded makes f run, synchronously, if c ends before stop is called.
// It holds one function at a time.
func (c *beatContext) whenEnded(f func()) (stop func()) {
	c.mu.Lock()
	ended := c.err != nil
	if !ended {
		c.onEnd = f
	}
	c.mu.Unlock()
	if ended {
		f()
	}
	return func() {
		c.mu.Lock()
		c.onEnd = nil
		c.mu.Unlock()
	}
}
