package sdk

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// watchParent calls gone, from another goroutine, once the process parent
// (this process's parent when it started) has exited. It waits on a pidfd
// of the parent through the Go netpoller, so nothing wakes up until then;
// on kernels without pidfd_open (before 5.3) it polls. It returns how it
// watches.
func watchParent(parent int, gone func()) string {
	fd, err := unix.PidfdOpen(parent, 0)
	if errors.Is(err, unix.ESRCH) {
		go gone()
		return watchPidfd
	}
	if err != nil {
		go pollParent(parent, gone)
		return watchPolling
	}
	// The parent may have died, and its pid been reused, before the pidfd
	// was opened: a child is handed to another parent when its own exits,
	// so while parent is still ours the pidfd names it.
	if os.Getppid() != parent {
		_ = unix.Close(fd)
		go gone()
		return watchPidfd
	}
	// os.NewFile registers a non-blocking fd with the netpoller.
	if err := unix.SetNonblock(fd, true); err != nil {
		_ = unix.Close(fd)
		go pollParent(parent, gone)
		return watchPolling
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	rc, err := f.SyscallConn()
	if err != nil {
		_ = f.Close()
		go pollParent(parent, gone)
		return watchPolling
	}
	go func() {
		// A pidfd becomes readable when its process exits; Read parks the
		// goroutine in the netpoller until then.
		err := rc.Read(func(fd uintptr) bool { return pidfdReadable(int(fd)) })
		_ = f.Close()
		if err != nil {
			pollParent(parent, gone)
			return
		}
		gone()
	}()
	return watchPidfd
}

// pidfdReadable reports, without waiting, whether the pidfd's process has
// exited.
func pidfdReadable(fd int) bool {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		return err == nil && n > 0 && fds[0].Revents != 0
	}
}
