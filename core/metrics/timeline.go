package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/seed-e9b80cf6/heartbeat/core/status"
)

// Timeline is where the timestamps of each heartbeat come from: the
// status recorder. It knows only the heartbeats and targets in force, so
// the series of those a reload removed end with it.
type Timeline interface {
	Times() []status.Times
}

// Track exports the timestamps of tl at every scrape: the next beat and
// the last fire of each heartbeat, and the last beat each target accepted.
// Call it once.
func (m *Metrics) Track(tl Timeline) {
	m.registry.MustRegister(timelineCollector{
		timeline: tl,
		next: prometheus.NewDesc("heartbeat_next_beat_timestamp_seconds",
			"Unix time of the heartbeat's next scheduled beat; absent while it is not scheduled.", []string{"heartbeat"}, nil),
		lastFire: prometheus.NewDesc("heartbeat_last_beat_timestamp_seconds",
			"Unix time the heartbeat's last beat was due (skipped beats included).", []string{"heartbeat"}, nil),
		lastSuccess: prometheus.NewDesc("heartbeat_last_success_timestamp_seconds",
			"Unix time of the last beat (success or fail signal) delivered to each target of each heartbeat.", []string{"heartbeat", "target"}, nil),
	})
}

type timelineCollector struct {
	timeline                    Timeline
	next, lastFire, lastSuccess *prometheus.Desc
}

func (c timelineCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.next
	ch <- c.lastFire
	ch <- c.lastSuccess
}

func (c timelineCollector) Collect(ch chan<- prometheus.Metric) {
	for _, t := range c.timeline.Times() {
		if !t.Next.IsZero() {
			ch <- prometheus.MustNewConstMetric(c.next, prometheus.GaugeValue, unixSeconds(t.Next.UnixNano()), t.Heartbeat)
		}
		if !t.LastFire.IsZero() {
			ch <- prometheus.MustNewConstMetric(c.lastFire, prometheus.GaugeValue, unixSeconds(t.LastFire.UnixNano()), t.Heartbeat)
		}
		for _, tt := range t.Targets {
			if !tt.LastDelivered.IsZero() {
				ch <- prometheus.MustNewConstMetric(c.lastSuccess, prometheus.GaugeValue, unixSeconds(tt.LastDelivered.UnixNano()), t.Heartbeat, tt.Target)
			}
		}
	}
}

func unixSeconds(ns int64) float64 { return float64(ns) / 1e9 }

// InForce tells the metrics the heartbeats in force and their targets, at
// start and after each applied reload: the series of heartbeats and
// targets no longer there are deleted, and beats of theirs still in flight
// are not counted.
func (m *Metrics) InForce(heartbeats map[string][]string) {
	now := map[[2]string]bool{}
	targets := map[string]bool{}
	for hb, ts := range heartbeats {
		for _, t := range ts {
			now[[2]string{hb, t}] = true
			targets[t] = true
		}
	}
	m.beats.setInForce(now, targets)
}
