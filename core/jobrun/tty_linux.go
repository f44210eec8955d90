package jobrun

import (
	"os"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// terminal is the controlling terminal a job was given, as a shell gives
// its foreground job the terminal: heartbeat was in the terminal's
// foreground and the job's stdin is that terminal. The job's process group
// becomes the foreground one, so that it can read the terminal (in a
// background group a read stops it with SIGTTIN) and Ctrl-C and Ctrl-Z
// reach it; heartbeat takes the terminal back when the job exits or stops.
type terminal struct {
	fd   int
	self int // heartbeat's process group
}

// foreground returns the terminal to hand to the job, or nil.
func foreground(stdin *os.File) *terminal {
	fd := int(stdin.Fd())
	fg, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
	if err != nil || fg != syscall.Getpgrp() {
		return nil
	}
	return &terminal{fd: fd, self: fg}
}

// apply has the job's group made the terminal's foreground group as it
// starts.
func (t *terminal) apply(attr *syscall.SysProcAttr) {
	if t != nil {
		attr.Foreground = true
		attr.Ctty = t.fd
	}
}

// setForeground makes pgrp the terminal's foreground group when it is
// from. heartbeat may be in a background group by then, where the kernel
// would stop it with SIGTTOU: the signal is blocked on this thread for the
// call, as shells do.
func (t *terminal) setForeground(from, pgrp int) {
	if fg, err := unix.IoctlGetInt(t.fd, unix.TIOCGPGRP); err != nil || fg != from {
		return
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var block, old unix.Sigset_t
	bits := uint(unsafe.Sizeof(block.Val[0]) * 8)
	n := uint(syscall.SIGTTOU) - 1
	block.Val[n/bits] |= 1 << (n % bits)
	if unix.PthreadSigmask(unix.SIG_BLOCK, &block, &old) != nil {
		return
	}
	_ = unix.IoctlSetPointerInt(t.fd, unix.TIOCSPGRP, pgrp)
	_ = unix.PthreadSigmask(unix.SIG_SETMASK, &old, nil)
}

// reclaim takes the terminal back from the job's group once it is done.
func (t *terminal) reclaim(pgid int) {
	if t != nil {
		t.setForeground(pgid, t.self)
	}
}

// suspend follows a job stopped from the terminal (Ctrl-Z): heartbeat
// takes the terminal back and stops too, so that the shell that started it
// sees it stopped and gets the terminal; once continued (fg or bg), it
// gives the job the terminal again if heartbeat was put in the foreground,
// and continues the job.
func (t *terminal) suspend(pgid int) {
	t.setForeground(pgid, t.self)
	_ = syscall.Kill(os.Getpid(), syscall.SIGSTOP)
	t.setForeground(t.self, pgid)
	_ = syscall.Kill(-pgid, syscall.SIGCONT)
}
