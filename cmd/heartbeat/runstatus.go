package main

import (
	"sync/atomic"

	"github.com/seed-e9b80cf6/heartbeat/core/daemon"
	"github.com/seed-e9b80cf6/heartbeat/core/metrics"
)

// runStatus is what /healthz and /metrics report for `run`: not running
// until the daemon has started, then the daemon's own state.
type runStatus struct {
	d atomic.Pointer[daemon.Daemon]
}

func (s *runStatus) SchedulerRunning() bool {
	d := s.d.Load()
	return d != nil && d.SchedulerRunning()
}

func (s *runStatus) Plugins() []metrics.PluginState {
	if d := s.d.Load(); d != nil {
		return d.Plugins()
	}
	return nil
}
