package sdk

import (
	"fmt"
	"sync"
)

// Limited may be implemented by an Instance whose beats share a bound
// with the beats of other instances of the same plugin process, such as
// the connections a pooled HTTP transport opens to one host.
//
// BeatLimit returns the key of that bound for beat b, and how many beats
// with that key may be delivered at once (0 or a nil key: no bound). The
// SDK starts a beat beyond the bound only when one with its key ends,
// in the order they came; while it waits it holds no goroutine, and
// beats of other keys are not held up. A beat whose deadline passes, or
// that the core cancels, while waiting ends without being delivered.
//
// Without it, a burst of 10,000 beats to one host holds 10,000
// goroutines (each with a stack grown through the HTTP client) while
// all but the transport's connections wait in the transport.
// httpclient.BeatLimit gives the key and bound of an HTTP request.
//
// Keys are compared with ==; two instances that share a bound must
// return equal keys. A key that cannot be compared (a slice, a map) gives
// the beat no bound, and is logged once. BeatLimit must not block. A Beat
// still running when its context ends gives its place under the bound up
// then, so that one that overruns its context holds up no other beat.
type Limited interface {
	BeatLimit(b Beat) (key any, n int)
}

// beatStep runs one beat under its bound, and returns the waiting beat it
// handed its place to, to be run next on the same goroutine (nil: none).
type beatStep func() beatStep

// beatLimits holds the beats waiting for a bound of a Limited instance,
// for one plugin process.
type beatLimits struct {
	mu   sync.Mutex
	keys map[any]*limitQueue
}

// limitQueue is one key's beats: how many are being delivered, and those
// waiting, oldest first.
type limitQueue struct {
	running int
	waiting []beatStep
	head    int
}

// admit returns true when a beat with key may start now, bound n, and
// counts it running. Otherwise it queues run, to be returned by a later
// done, and returns false.
// A key that cannot be compared (a slice, or a struct holding one) is an
// error, and the beat has no bound.
func (l *beatLimits) admit(key any, n int, run beatStep) (admitted bool, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			admitted, err = false, fmt.Errorf("BeatLimit returned a key of type %T, which cannot be compared: %v", key, r)
		}
	}()
	if l.keys == nil {
		l.keys = map[any]*limitQueue{}
	}
	q := l.keys[key]
	if q == nil {
		q = &limitQueue{}
		l.keys[key] = q
	}
	if q.running < n {
		q.running++
		return true, nil
	}
	q.waiting = append(q.waiting, run)
	return false, nil
}

// done ends a beat with key that admit let start, and returns the next
// waiting beat of that key, which takes the slot, or nil.
func (l *beatLimits) done(key any) beatStep {
	l.mu.Lock()
	defer l.mu.Unlock()
	q := l.keys[key]
	if q == nil {
		return nil
	}
	if q.head < len(q.waiting) {
		next := q.waiting[q.head]
		q.waiting[q.head] = nil
		q.head++
		switch {
		case q.head == len(q.waiting):
			// Drained: start again at the front rather than growing.
			q.waiting, q.head = q.waiting[:0], 0
		case q.head >= 1024 && q.head*2 >= len(q.waiting):
			// Never drained under a steady load: move the rest to the
			// front, so the slice is bounded by the beats waiting.
			n := copy(q.waiting, q.waiting[q.head:])
			clear(q.waiting[n:])
			q.waiting, q.head = q.waiting[:n], 0
		}
		return next
	}
	q.running--
	if q.running <= 0 {
		// A key with nothing under way holds no memory.
		delete(l.keys, key)
	}
	return nil
}

// waiting is the number of beats queued behind every bound, for tests.
func (l *beatLimits) waiting() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, q := range l.keys {
		n += len(q.waiting) - q.head
	}
	return n
}
