//go:build !linux && !windows && !darwin && !dragonfly && !freebsd && !netbsd && !openbsd

package sdk

// watchParent calls gone, from another goroutine, once the process parent
// (this process's parent when it started) has exited. Here it polls the
// parent pid. It returns how it watches.
func watchParent(parent int, gone func()) string {
	go pollParent(parent, gone)
	return watchPolling
}
