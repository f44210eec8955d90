package metrics

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/seed-e9b80cf6/heartbeat/core/dispatch"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// The duration histogram reads exactly as the client library's own
// histogram with the same buckets and observations.
func TestDurationsMatchTheLibraryHistogram(t *testing.T) {
	tests := []struct {
		name      string
		durations []time.Duration
	}{
		{"none failed or delivered", nil},
		{"one fast", []time.Duration{time.Millisecond}},
		{"on the bounds", []time.Duration{5 * time.Millisecond, 10 * time.Millisecond, time.Second, 30 * time.Second}},
		{"above every bound", []time.Duration{31 * time.Second, time.Hour}},
		{"spread", []time.Duration{0, 7 * time.Millisecond, 120 * time.Millisecond, 600 * time.Millisecond, 3 * time.Second, 11 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New()
			ref := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "ref", Buckets: durationBuckets[:]})
			// A skipped beat counts, but has no duration.
			m.Outcome(dispatch.Outcome{Heartbeat: "svc", Target: "hc", Signal: sdk.SignalSuccess, Skipped: true, Duration: time.Hour})
			for i, d := range tt.durations {
				o := dispatch.Outcome{Heartbeat: "svc", Target: "hc", Signal: sdk.SignalSuccess, Duration: d}
				if i%2 == 1 {
					o.Err = sdk.Temporary(errors.New("down"))
				}
				m.Outcome(o)
				ref.Observe(d.Seconds())
			}
			want := &dto.Metric{}
			if err := ref.Write(want); err != nil {
				t.Fatal(err)
			}
			got := gatherHistogram(t, m, "hc")
			if len(tt.durations) == 0 {
				if got != nil {
					t.Fatalf("a target with only skipped beats has a duration series: %v", got)
				}
				return
			}
			if got == nil {
				t.Fatal("no duration series")
			}
			if got.GetSampleCount() != want.GetHistogram().GetSampleCount() || got.GetSampleSum() != want.GetHistogram().GetSampleSum() {
				t.Errorf("count %d sum %v, want %d %v", got.GetSampleCount(), got.GetSampleSum(), want.GetHistogram().GetSampleCount(), want.GetHistogram().GetSampleSum())
			}
			gb, wb := got.GetBucket(), want.GetHistogram().GetBucket()
			if len(gb) != len(wb) {
				t.Fatalf("%d buckets, want %d", len(gb), len(wb))
			}
			for i := range wb {
				if gb[i].GetUpperBound() != wb[i].GetUpperBound() || gb[i].GetCumulativeCount() != wb[i].GetCumulativeCount() {
					t.Errorf("bucket %d: le %v count %d, want le %v count %d", i, gb[i].GetUpperBound(), gb[i].GetCumulativeCount(), wb[i].GetUpperBound(), wb[i].GetCumulativeCount())
				}
			}
		})
	}
}

// A target's durations stay while any heartbeat in force still has it.
func TestDurationsOfASharedTargetOutliveOneHeartbeat(t *testing.T) {
	m := New()
	m.InForce(map[string][]string{"a": {"hc"}, "b": {"hc"}})
	m.Outcome(dispatch.Outcome{Heartbeat: "a", Target: "hc", Signal: sdk.SignalSuccess, Duration: time.Millisecond})
	m.Outcome(dispatch.Outcome{Heartbeat: "b", Target: "hc", Signal: sdk.SignalSuccess, Duration: time.Millisecond})
	m.InForce(map[string][]string{"b": {"hc"}})
	m.Outcome(dispatch.Outcome{Heartbeat: "b", Target: "hc", Signal: sdk.SignalSuccess, Duration: time.Millisecond})
	if h := gatherHistogram(t, m, "hc"); h.GetSampleCount() != 3 {
		t.Errorf("%d durations of hc, want 3 (kept across the reload)", h.GetSampleCount())
	}
	m.InForce(map[string][]string{})
	if h := gatherHistogram(t, m, "hc"); h != nil {
		t.Errorf("the durations of a target no heartbeat has remain: %v", h)
	}
	// Added again: counted from zero.
	m.InForce(map[string][]string{"c": {"hc"}})
	m.Outcome(dispatch.Outcome{Heartbeat: "c", Target: "hc", Signal: sdk.SignalSuccess, Duration: time.Millisecond})
	if h := gatherHistogram(t, m, "hc"); h.GetSampleCount() != 1 {
		t.Errorf("%d durations of hc added again, want 1", h.GetSampleCount())
	}
}

// gatherHistogram is target's duration histogram in m's registry, or nil.
func gatherHistogram(t *testing.T, m *Metrics, target string) *dto.Histogram {
	t.Helper()
	families, err := m.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "heartbeat_delivery_duration_seconds" {
			continue
		}
		for _, metric := range f.GetMetric() {
			for _, l := range metric.GetLabel() {
				if l.GetName() == "target" && l.GetValue() == target {
					return metric.GetHistogram()
				}
			}
		}
	}
	return nil
}

// Outcomes from many goroutines at once are all counted.
func TestOutcomesCountedConcurrently(t *testing.T) {
	m := New()
	const goroutines, each = 8, 500
	done := make(chan struct{})
	for g := range goroutines {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range each {
				o := dispatch.Outcome{Heartbeat: "svc", Target: "hc", Signal: sdk.SignalSuccess, Duration: time.Duration(i) * time.Millisecond}
				if (g+i)%5 == 0 {
					o.Err = sdk.NotFound(errors.New("gone"))
				}
				m.Outcome(o)
			}
		}()
	}
	for range goroutines {
		<-done
	}
	_, body := scrape(t, m.Handler(fakeStatus{running: true}), "/metrics")
	for _, want := range []string{
		`heartbeat_beats_total{heartbeat="svc",reason="",result="delivered",signal="success",target="hc"} 3200`,
		`heartbeat_beats_total{heartbeat="svc",reason="not_found",result="failed",signal="success",target="hc"} 800`,
		`heartbeat_delivery_duration_seconds_count{target="hc"} 4000`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s:\n%s", want, grepLines(body, `target="hc"`))
		}
	}
}
