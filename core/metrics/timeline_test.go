package metrics

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/core/dispatch"
	"github.com/seed-e9b80cf6/heartbeat/core/status"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

func TestTimelineGauges(t *testing.T) {
	at := time.Unix(1700000000, 0)
	rec := status.NewRecorder(status.Options{Now: func() time.Time { return at }})
	rec.Configure([]status.HeartbeatSpec{
		{Name: "svc", Targets: []status.TargetSpec{{Name: "hc", Plugin: "healthchecks"}, {Name: "kuma", Plugin: "uptimekuma"}}},
		{Name: "idle", Targets: []status.TargetSpec{{Name: "hc", Plugin: "healthchecks"}}},
	})
	rec.Planned("svc", time.Unix(1700000060, 0), true)
	rec.Planned("idle", time.Time{}, false)
	b := rec.Begin("svc", 1, time.Unix(1699999999, 0))
	b.Deliver(status.Delivery{Target: "hc", Signal: "success", Result: status.ResultDelivered})
	b.Deliver(status.Delivery{Target: "kuma", Signal: "success", Result: status.ResultFailed, Kind: "not_found"})
	b.Finish()

	m := New()
	m.Track(rec)
	_, body := scrape(t, m.Handler(fakeStatus{running: true}), "/metrics")
	for _, want := range []string{
		`heartbeat_next_beat_timestamp_seconds{heartbeat="svc"} 1.70000006e+09`,
		`heartbeat_last_beat_timestamp_seconds{heartbeat="svc"} 1.699999999e+09`,
		`heartbeat_last_success_timestamp_seconds{heartbeat="svc",target="hc"} 1.7e+09`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	for _, absent := range []string{
		`heartbeat_last_success_timestamp_seconds{heartbeat="svc",target="kuma"}`, // failed
		`heartbeat_next_beat_timestamp_seconds{heartbeat="idle"}`,                 // not scheduled
		`heartbeat_last_beat_timestamp_seconds{heartbeat="idle"}`,                 // never fired
	} {
		if strings.Contains(body, absent) {
			t.Errorf("metrics have %s", absent)
		}
	}

	// A reload that removes a heartbeat ends its series.
	rec.Configure([]status.HeartbeatSpec{{Name: "idle", Targets: []status.TargetSpec{{Name: "hc", Plugin: "healthchecks"}}}})
	_, body = scrape(t, m.Handler(fakeStatus{running: true}), "/metrics")
	if strings.Contains(body, `heartbeat="svc"`) {
		t.Errorf("series of a removed heartbeat remain:\n%s", grepLines(body, `heartbeat="svc"`))
	}
}

func TestInForceDropsRemovedSeries(t *testing.T) {
	m := New()
	m.InForce(map[string][]string{"svc": {"hc", "kuma"}, "old": {"web"}})
	m.Outcome(dispatch.Outcome{Heartbeat: "svc", Target: "hc", Signal: sdk.SignalSuccess})
	m.Outcome(dispatch.Outcome{Heartbeat: "svc", Target: "kuma", Signal: sdk.SignalSuccess, Err: sdk.NotFound(errors.New("gone"))})
	m.Outcome(dispatch.Outcome{Heartbeat: "old", Target: "web", Signal: sdk.SignalSuccess})
	m.InForce(map[string][]string{"svc": {"hc"}})
	// A beat of a removed heartbeat still in flight at the reload.
	m.Outcome(dispatch.Outcome{Heartbeat: "old", Target: "web", Signal: sdk.SignalSuccess})
	// A kept pair counts on, across the reload, through its cached series.
	m.Outcome(dispatch.Outcome{Heartbeat: "svc", Target: "hc", Signal: sdk.SignalSuccess})
	m.Outcome(dispatch.Outcome{Heartbeat: "svc", Target: "hc", Signal: sdk.SignalSuccess})
	_, body := scrape(t, m.Handler(fakeStatus{running: true}), "/metrics")
	if !strings.Contains(body, `heartbeat_beats_total{heartbeat="svc",reason="",result="delivered",signal="success",target="hc"} 3`) {
		t.Errorf("the series of a kept target is gone:\n%s", grepLines(body, "heartbeat_beats_total"))
	}
	for _, gone := range []string{`target="kuma"`, `target="web"`, `heartbeat="old"`} {
		if strings.Contains(body, gone) {
			t.Errorf("series with %s remain:\n%s", gone, grepLines(body, gone))
		}
	}
}

func grepLines(body, s string) string {
	var out []string
	for _, line := range strings.Split(body, "\n") {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
