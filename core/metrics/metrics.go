// Package metrics exposes heartbeat's own health to an operator's
// monitoring: Prometheus metrics and a /healthz endpoint, served on the
// listen address behind an optional Guard (basic auth, bearer token).
package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/seed-e9b80cf6/heartbeat/core/dispatch"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// PluginState is what the health endpoint needs to know of a plugin.
type PluginState struct {
	Name     string
	Running  bool
	Restarts int
}

// Status reports the daemon's state at scrape time.
type Status interface {
	// SchedulerRunning is false before start and after shutdown began.
	SchedulerRunning() bool
	Plugins() []PluginState
}

// Metrics records beat outcomes and reloads. It implements the daemon's
// Observer. Its registry holds only heartbeat's metrics and the Go and
// process collectors.
type Metrics struct {
	registry   *prometheus.Registry
	beats      *beatCounts
	reloads    *prometheus.CounterVec
	lastReload prometheus.Gauge
}

// New returns Metrics registered in a registry of their own.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		beats:    newBeatCounts(),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "heartbeat_config_reloads_total",
			Help: "Config reloads by result (success or failure).",
		}, []string{"result"}),
		lastReload: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "heartbeat_config_last_reload_successful",
			Help: "1 when the last config reload was applied, 0 when it was rejected.",
		}),
	}
	m.lastReload.Set(1)
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "heartbeat_build_info",
		Help:        "heartbeat's version, commit and Go version.",
		ConstLabels: prometheus.Labels{"version": sdk.Version(), "commit": sdk.Commit(), "goversion": runtime.Version()},
	})
	build.Set(1)
	m.registry.MustRegister(m.beats, m.reloads, m.lastReload, build,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Outcome counts one delivery.
func (m *Metrics) Outcome(o dispatch.Outcome) {
	key := beatKey{heartbeat: o.Heartbeat, target: o.Target, signal: o.Signal}
	switch {
	case o.Skipped:
		key.result = "skipped"
	case o.Err != nil:
		key.result, key.reason = "failed", o.Kind()
	default:
		key.result = "delivered"
	}
	m.beats.count(key, !o.Skipped, o.Duration.Seconds())
}

// Reload counts a config reload.
func (m *Metrics) Reload(err error) {
	if err != nil {
		m.reloads.WithLabelValues("failure").Inc()
		m.lastReload.Set(0)
		return
	}
	m.reloads.WithLabelValues("success").Inc()
	m.lastReload.Set(1)
}

// pluginCollector reports plugin state at scrape time.
type pluginCollector struct {
	status   Status
	up       *prometheus.Desc
	restarts *prometheus.Desc
}

func (c pluginCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.up
	ch <- c.restarts
}

func (c pluginCollector) Collect(ch chan<- prometheus.Metric) {
	for _, p := range c.status.Plugins() {
		up := 0.0
		if p.Running {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, up, p.Name)
		ch <- prometheus.MustNewConstMetric(c.restarts, prometheus.CounterValue, float64(p.Restarts), p.Name)
	}
}

// Handler serves /metrics and /healthz.
func (m *Metrics) Handler(status Status) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(pluginCollector{
		status:   status,
		up:       prometheus.NewDesc("heartbeat_plugin_up", "1 while the plugin process runs.", []string{"plugin"}, nil),
		restarts: prometheus.NewDesc("heartbeat_plugin_restarts_total", "Times the plugin process was started again after it exited.", []string{"plugin"}, nil),
	})
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(prometheus.Gatherers{m.registry, reg}, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		healthy, reason := Healthy(status)
		w.Header().Set("Content-Type", "application/json")
		if !healthy {
			w.WriteHeader(http.StatusServiceUnavailable)
			_ = json.NewEncoder(w).Encode(map[string]string{"status": "unhealthy", "reason": reason})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"status": "ok"})
	})
	return mux
}

// Healthy is what /healthz answers: whether the scheduler runs and every
// plugin process is up, and if not, why.
func Healthy(status Status) (bool, string) {
	if !status.SchedulerRunning() {
		return false, "the scheduler is not running"
	}
	var down []string
	for _, p := range status.Plugins() {
		if !p.Running {
			down = append(down, p.Name)
		}
	}
	if len(down) > 0 {
		sort.Strings(down)
		return false, fmt.Sprintf("plugin process not running: %v", down)
	}
	return true, ""
}

// Serve listens on addr and serves h until ctx is done. It returns once the
// listener is open, or with the error that kept it from opening.
func Serve(ctx context.Context, addr string, h http.Handler) (net.Addr, <-chan error, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("metrics endpoint: %w", err)
	}
	// Bounded in every phase: a client that stalls or floods cannot hold a
	// connection or memory.
	srv := &http.Server{
		Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute, MaxHeaderBytes: 16 << 10,
	}
	done := make(chan error, 1)
	go func() {
		err := srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		done <- err
	}()
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	return ln.Addr(), done, nil
}
