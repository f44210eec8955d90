package main

import (
	"net/http"

	"github.com/seed-e9b80cf6/heartbeat/core/config"
	"github.com/seed-e9b80cf6/heartbeat/core/metrics"
	"github.com/seed-e9b80cf6/heartbeat/core/status"
	"github.com/seed-e9b80cf6/heartbeat/core/status/page"
)

// listenHandler serves everything on the listen address, behind guard:
// /metrics and /healthz, the status as JSON (/api/v1/status) and as a
// page (/status).
func listenHandler(m *metrics.Metrics, st metrics.Status, rec *status.Recorder, guard *metrics.Guard) http.Handler {
	mux := http.NewServeMux()
	base := m.Handler(st)
	mux.Handle("/metrics", base)
	mux.Handle("/healthz", base)
	mux.Handle("/api/v1/status", status.Handler(rec.Snapshot))
	mux.Handle("/status", page.Handler(rec.Snapshot))
	return guard.Wrap(mux)
}

// listenCredentials are the credentials of cfg's listen_auth; nil when it
// has none.
func listenCredentials(cfg *config.Config) *metrics.Credentials {
	a := cfg.ListenAuth
	if a == nil {
		return nil
	}
	return &metrics.Credentials{
		Username: a.Username, Password: a.Password, Token: a.BearerToken,
		ProtectMetrics: a.ProtectMetrics, ProtectHealthz: a.ProtectHealthz,
	}
}

// statusRecorder returns the status recorder of `run`: ready as /healthz
// says, with the plugins of the daemon once it has started.
func statusRecorder(started *runStatus) *status.Recorder {
	return status.NewRecorder(status.Options{
		Ready: func() bool {
			ok, _ := metrics.Healthy(started)
			return ok
		},
		Plugins: func() []status.Plugin {
			if d := started.d.Load(); d != nil {
				return d.PluginStates()
			}
			return nil
		},
	})
}
