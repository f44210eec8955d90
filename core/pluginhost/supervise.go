package pluginhost

import (
	"context"
	"maps"
	"time"
)

// exitSettle is how soon Supervise looks again at a plugin whose process
// was reaped but which go-plugin has not yet marked as exited (it does so
// right after its own wait returns).
const exitSettle = 10 * time.Millisecond

// Supervise starts plugins that exited again (subject to the restart
// backoff) without waiting for the next beat that needs them, and reaps
// adopted orphans that exited, until ctx is done, so a heartbeat beating
// hourly does not find its plugin dead. It never waits for a start.
//
// It wakes only on events: a child of the core exited (SIGCHLD, on Unix), a
// plugin process was reaped, a start finished, or a restart's backoff ran
// out. At rest nothing wakes it.
func (h *Host) Supervise(ctx context.Context) {
	children, stop := notifyChildExits()
	defer stop()
	started := make(chan struct{}, 1)
	watched := map[*attempt]bool{}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		again := h.supervisePass(ctx, watched, started)
		var wake <-chan time.Time
		if again > 0 {
			timer.Reset(again)
			wake = timer.C
		}
		select {
		case <-ctx.Done():
			return
		case <-children:
		case <-h.exits:
		case <-started:
		case <-wake:
		}
		timer.Stop()
	}
}

// supervisePass does the work of one wake-up: it starts the plugins that
// are not running and may start, and reaps adopted orphans. It returns how
// soon it must run again without an event (0: only on an event).
func (h *Host) supervisePass(ctx context.Context, watched map[*attempt]bool, started chan struct{}) time.Duration {
	var again time.Duration
	soon := func(d time.Duration) {
		if d > 0 && (again == 0 || d < again) {
			again = d
		}
	}
	for _, p := range h.Plugins() {
		if p.isStopped() {
			continue
		}
		if p.Running() {
			if p.reaped() {
				soon(exitSettle)
			}
			continue
		}
		_, a, err := p.ensure()
		if a != nil && !watched[a] {
			// A start that fails sets the backoff the next pass waits for.
			watched[a] = true
			go func() {
				select {
				case <-a.done:
				case <-ctx.Done():
				}
				poke(started)
			}()
		}
		if err != nil {
			h.logger.Debug("plugin not running", "plugin", p.Name(), "error", err.Error())
			soon(p.retryIn(h.now()))
		}
	}
	for a := range watched {
		select {
		case <-a.done:
			delete(watched, a)
		default:
		}
	}
	h.mu.Lock()
	pids, seen := maps.Clone(h.pids), h.adopted
	h.mu.Unlock()
	alive := reapAdopted(seen, pids, h.markerPrefix)
	h.mu.Lock()
	h.adopted = alive
	h.mu.Unlock()
	return again
}

// reaped reports whether the plugin's process was reaped while go-plugin
// has not yet noted its exit.
func (p *Plugin) reaped() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc == nil || p.proc.runner == nil {
		return false
	}
	select {
	case <-p.proc.runner.exited:
		return true
	default:
		return false
	}
}

// retryIn is how long until the restart backoff lets the plugin start
// again; 0 when nothing but an event can start it (a refused binary waits
// for a beat or a reload to find the file changed).
func (p *Plugin) retryIn(now time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.refused != nil || p.starting != nil || !now.Before(p.notBefore) {
		return 0
	}
	// A moment past the backoff, so the pass finds it over.
	return p.notBefore.Sub(now) + time.Millisecond
}

// poke sends on c without blocking: one pending wake-up is enough.
func poke(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
