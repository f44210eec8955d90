package jobrun

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

// ErrLocked is returned by AcquireLock when another process holds the lock
// and the caller chose not to wait.
var ErrLocked = errors.New("lock is held by another process")

// lockPoll bounds the wait between two attempts to take a busy lock: the
// OS's blocking lock cannot be interrupted by a context.
const (
	lockPollMin = 20 * time.Millisecond
	lockPollMax = 500 * time.Millisecond
)

// Lock is an exclusive advisory lock on a file, held until Release (or
// until the process ends: the OS drops it then).
type Lock struct {
	f    *os.File
	path string
}

// AcquireLock takes an exclusive advisory lock on path (flock(2) on unix,
// LockFileEx on Windows), creating the file with mode 0600 if needed; its
// directory must exist. The holder writes its pid into the file so that a
// process that finds it busy can say who holds it. With wait false a busy
// lock returns an error wrapping ErrLocked at once; with wait true it waits
// until the lock is free or ctx ends. The file is opened close-on-exec, so
// a job started meanwhile never inherits the lock.
func AcquireLock(ctx context.Context, path string, wait bool) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock file: %w", err)
	}
	delay := lockPollMin
	for {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock file %s: %w", quoteName(path), err)
		}
		if ok {
			break
		}
		if !wait {
			holder := readHolder(f)
			f.Close()
			if holder > 0 {
				return nil, fmt.Errorf("%s: %w (pid %d)", quoteName(path), ErrLocked, holder)
			}
			return nil, fmt.Errorf("%s: %w", quoteName(path), ErrLocked)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, fmt.Errorf("waiting for the lock %s: %w", quoteName(path), ctx.Err())
		case <-t.C:
		}
		delay = min(2*delay, lockPollMax)
	}
	// The pid is a hint for a process that finds the lock busy; failing to
	// write it does not make the lock less held.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f, path: path}, nil
}

// Release drops the lock. The file stays, so that a lock path is never a
// file that one process removes while another has just opened it.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	_ = l.f.Truncate(0)
	err := unlock(l.f)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	if err != nil {
		return fmt.Errorf("releasing the lock %s: %w", quoteName(l.path), err)
	}
	return nil
}

// readHolder reads the pid a lock's holder wrote; 0 when there is none.
func readHolder(f *os.File) int {
	buf := make([]byte, 24)
	n, err := f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return 0
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(buf[:n])))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}
