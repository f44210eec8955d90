package pluginhost

import "time"

// Plugin process states, as State reports them.
const (
	StateRunning    = "running"
	StateRestarting = "restarting" // not running; started again after its backoff
	StateRefused    = "refused"    // the binary does not match its pin
	StateStopped    = "stopped"
)

// PluginState is a plugin's process as an operator sees it.
type PluginState struct {
	Name     string
	State    string
	Restarts int
	// NextRestart is the earliest time the process is started again;
	// zero when it runs, is starting now, or is refused.
	NextRestart time.Time
	// Detail says why it is not running: the last start failure or exit.
	// It holds no settings.
	Detail string
}

// State reports the plugin's process state. It reads the plugin under its
// short lock, never calling the plugin.
func (p *Plugin) State() PluginState {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := PluginState{Name: p.found.Name, Restarts: max(p.starts-1, 0)}
	switch {
	case p.stopped:
		st.State = StateStopped
	case p.proc != nil && !p.proc.client.Exited():
		st.State = StateRunning
	case p.refused != nil:
		st.State = StateRefused
	default:
		st.State = StateRestarting
		if p.starting == nil && p.host.now().Before(p.notBefore) {
			st.NextRestart = p.notBefore
		}
	}
	switch {
	case st.State == StateRunning:
	case p.proc != nil && p.proc.client.Exited():
		st.Detail = "its process exited"
	case p.lastErr != nil:
		st.Detail = p.lastErr.Error()
	}
	return st
}
