package sdk

import (
	"os"
	"time"
)

// parentPollInterval bounds how long a plugin outlives a core that died
// without stopping it (SIGKILL, crash) where the system offers no way to
// wait for the core's exit.
const parentPollInterval = 250 * time.Millisecond

// Ways watchParent learns that the core is gone.
const (
	watchPidfd   = "pidfd"
	watchKqueue  = "kqueue"
	watchHandle  = "process handle"
	watchPolling = "poll"
)

// pollParent calls gone once this process's parent is no longer parent:
// the fallback where the parent's exit cannot be waited for.
func pollParent(parent int, gone func()) {
	t := time.NewTicker(parentPollInterval)
	defer t.Stop()
	for range t.C {
		if os.Getppid() != parent {
			gone()
			return
		}
	}
}
