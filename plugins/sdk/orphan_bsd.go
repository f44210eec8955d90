//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package sdk

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// watchParent calls gone, from another goroutine, once the process parent
// (this process's parent when it started) has exited: a goroutine waits in
// kevent for the parent's NOTE_EXIT, so nothing wakes up until then. It
// returns how it watches.
func watchParent(parent int, gone func()) string {
	kq, err := unix.Kqueue()
	if err != nil {
		go pollParent(parent, gone)
		return watchPolling
	}
	var ev unix.Kevent_t
	unix.SetKevent(&ev, parent, unix.EVFILT_PROC, unix.EV_ADD|unix.EV_ONESHOT)
	ev.Fflags = unix.NOTE_EXIT
	if _, err := unix.Kevent(kq, []unix.Kevent_t{ev}, nil, nil); err != nil {
		_ = unix.Close(kq)
		if errors.Is(err, unix.ESRCH) {
			go gone()
			return watchKqueue
		}
		go pollParent(parent, gone)
		return watchPolling
	}
	// The parent may have died, and its pid been reused, before the event
	// was registered: a child is handed to another parent when its own
	// exits, so while parent is still ours the event watches it.
	if os.Getppid() != parent {
		_ = unix.Close(kq)
		go gone()
		return watchKqueue
	}
	go func() {
		defer unix.Close(kq)
		events := make([]unix.Kevent_t, 1)
		for {
			n, err := unix.Kevent(kq, nil, events, nil)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err != nil {
				pollParent(parent, gone)
				return
			}
			if n > 0 {
				gone()
				return
			}
		}
	}()
	return watchKqueue
}
