package sdk

import (
	"errors"

	"golang.org/x/sys/windows"
)

// watchParent calls gone, from another goroutine, once the process parent
// (this process's parent when it started) has exited: a goroutine waits on
// a handle of the parent, so nothing wakes up until then. Windows keeps a
// process's parent pid after the parent exits, so polling it would never
// notice. It returns how it watches.
func watchParent(parent int, gone func()) string {
	h, err := windows.OpenProcess(windows.SYNCHRONIZE|windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(parent))
	if errors.Is(err, windows.ERROR_INVALID_PARAMETER) {
		// No process has that pid any more.
		go gone()
		return watchHandle
	}
	if err != nil {
		go pollParent(parent, gone)
		return watchPolling
	}
	// The pid may have been reused by a process started after this one,
	// which cannot be its parent.
	if startedAfterSelf(h) {
		_ = windows.CloseHandle(h)
		go gone()
		return watchHandle
	}
	go func() {
		defer windows.CloseHandle(h)
		ev, err := windows.WaitForSingleObject(h, windows.INFINITE)
		if err != nil || ev != windows.WAIT_OBJECT_0 {
			pollParent(parent, gone)
			return
		}
		gone()
	}()
	return watchHandle
}

// startedAfterSelf reports whether the process h was created after this one.
func startedAfterSelf(h windows.Handle) bool {
	var theirs, ours, exit, kernel, user windows.Filetime
	if windows.GetProcessTimes(h, &theirs, &exit, &kernel, &user) != nil ||
		windows.GetProcessTimes(windows.CurrentProcess(), &ours, &exit, &kernel, &user) != nil {
		return false
	}
	return theirs.Nanoseconds() > ours.Nanoseconds()
}
