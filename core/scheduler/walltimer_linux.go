package scheduler

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// newWallTimer returns a timerfd on CLOCK_REALTIME read through the Go
// netpoller: it expires at the wall-clock time armed, across a suspend too,
// and a read fails with ECANCELED when the clock is set.
func (SystemClock) newWallTimer() (wallTimer, error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_REALTIME, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("creating a timerfd: %w", err)
	}
	// The fd is non-blocking, so os.NewFile registers it with the netpoller:
	// a Read parks the goroutine, no thread waits. f.Fd() is never called,
	// as it would make the fd blocking again.
	f := os.NewFile(uintptr(fd), "timerfd")
	t := &timerfd{fd: fd, f: f, c: make(chan struct{}, 1)}
	go func() {
		if err := watchExpiries(f.Read, t.c); !errors.Is(err, os.ErrClosed) {
			// The next Arm fails, and the scheduler falls back to short
			// sleeps.
			t.failed.Store(&err)
			wake(t.c)
		}
	}()
	return t, nil
}

type timerfd struct {
	fd     int
	f      *os.File
	c      chan struct{}
	failed atomic.Pointer[error]
}

func (t *timerfd) Arm(at time.Time) error {
	if err := t.failed.Load(); err != nil {
		return fmt.Errorf("reading the timerfd: %w", *err)
	}
	var spec unix.ItimerSpec
	if !at.IsZero() {
		spec.Value = unix.NsecToTimespec(at.UnixNano())
		if spec.Value.Sec == 0 && spec.Value.Nsec == 0 {
			// A zero value would disarm the timer.
			spec.Value.Nsec = 1
		}
	}
	if err := unix.TimerfdSettime(t.fd, unix.TFD_TIMER_ABSTIME|unix.TFD_TIMER_CANCEL_ON_SET, &spec, nil); err != nil {
		return fmt.Errorf("arming the timerfd: %w", err)
	}
	return nil
}

func (t *timerfd) C() <-chan struct{} { return t.c }

func (t *timerfd) Close() error { return t.f.Close() }

// watchExpiries reads a timerfd until a read fails for good, signalling c
// on each expiry and each change of the clock (ECANCELED), and returns that
// failure (os.ErrClosed once the timer is closed). read is the file's Read;
// tests pass their own.
func watchExpiries(read func([]byte) (int, error), c chan<- struct{}) error {
	buf := make([]byte, 8)
	for {
		n, err := read(buf)
		switch {
		case err == nil && n > 0, errors.Is(err, unix.ECANCELED):
			wake(c)
		case errors.Is(err, unix.EINTR), errors.Is(err, unix.EAGAIN):
		case err == nil:
			return io.ErrUnexpectedEOF
		default:
			return err
		}
	}
}

// wake sends on c without blocking: one pending wake-up is enough.
func wake(c chan<- struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
