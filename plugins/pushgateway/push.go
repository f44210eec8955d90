package main

import (
	"encoding/base64"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// Metric names after the prefix. The first three and duration follow the
// conventional batch-job names of the Prometheus docs and client_golang's
// push example; no source defines a start or exit-code metric, so those two
// are ours.
const (
	lastSuccess    = "_last_success_timestamp_seconds"
	lastCompletion = "_last_completion_timestamp_seconds"
	lastStart      = "_last_start_timestamp_seconds"
	duration       = "_duration_seconds"
	lastExitCode   = "_last_exit_code"
)

// help texts stay the same for every group: the Pushgateway logs pushes of
// one metric name with different help texts as inconsistent.
var help = map[string]string{
	lastSuccess:    "Unix time of the heartbeat's last success.",
	lastCompletion: "Unix time of the heartbeat's last finished run, successful or not.",
	lastStart:      "Unix time of the start of the heartbeat's last health check or job.",
	duration:       "How long the heartbeat's last health check or job ran, in seconds.",
	lastExitCode:   "Exit code of the heartbeat's last run: 0 on success without one, -1 on a failure without one.",
}

// noExitCode is pushed as the exit code of a failure that has none (an
// HTTP check, a timeout, a kill): -1, as Go's ProcessState.ExitCode.
const noExitCode = -1

// sample is one gauge of a push.
type sample struct {
	suffix string
	value  string
}

// samples returns the gauges that b sets, or an error for a signal the
// Pushgateway cannot express. Only metrics that b changes are sent: a POST
// replaces just those, so a failure never touches the last success.
func samples(b sdk.Beat, now time.Time) ([]sample, error) {
	ts := timestamp(now)
	var out []sample
	switch b.Signal {
	case sdk.SignalStart:
		return []sample{{lastStart, ts}}, nil
	case sdk.SignalSuccess:
		code := 0
		if b.ExitCode != nil {
			code = *b.ExitCode
		}
		out = append(out, sample{lastSuccess, ts}, sample{lastCompletion, ts}, sample{lastExitCode, strconv.Itoa(code)})
	case sdk.SignalFail:
		code := noExitCode
		if b.ExitCode != nil {
			code = *b.ExitCode
		}
		out = append(out, sample{lastCompletion, ts}, sample{lastExitCode, strconv.Itoa(code)})
	default:
		// The core sends only the signals Info lists; never turn another
		// one into metrics that would read as a run.
		return nil, sdk.Errorf(sdk.KindPermanent, "the pushgateway plugin cannot deliver the %s signal: the Pushgateway stores metrics, not text", b.Signal)
	}
	if b.CheckLatency > 0 {
		out = append(out, sample{duration, strconv.FormatFloat(b.CheckLatency.Seconds(), 'f', -1, 64)})
	}
	return out, nil
}

// timestamp writes t as Unix seconds with milliseconds, the unit of the
// conventional *_timestamp_seconds gauges.
func timestamp(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)
}

// body is the text exposition format (0.0.4) of the gauges: HELP and TYPE
// lines, no sample timestamps (the Pushgateway rejects them), every line
// ending with LF (CR is a protocol error).
func body(prefix string, ss []sample) []byte {
	var b strings.Builder
	for _, s := range ss {
		name := prefix + s.suffix
		b.WriteString("# HELP " + name + " " + help[s.suffix] + "\n")
		b.WriteString("# TYPE " + name + " gauge\n")
		b.WriteString(name + " " + s.value + "\n")
	}
	return []byte(b.String())
}

// groupPath is the push path of a grouping key below the gateway's base:
// /metrics/job/<job>{/<name>/<value>}. Values that the path cannot carry
// as they are go base64-encoded (URL-safe alphabet, unpadded) after
// <name>@base64, as the Pushgateway requires for values with "/" (a %2F
// still splits the path) and for empty values (sent as "="). "." and ".."
// are encoded too: path cleaning (the client's, or the gateway's HTTP
// server redirecting to the clean path) would drop them.
func groupPath(job string, labels []label) string {
	var b strings.Builder
	b.WriteString("/metrics")
	writePair(&b, "job", job)
	for _, l := range labels {
		writePair(&b, l.name, l.value)
	}
	return b.String()
}

func writePair(b *strings.Builder, name, value string) {
	b.WriteString("/" + name)
	switch {
	case value == "":
		b.WriteString("@base64/=")
	case strings.Contains(value, "/"), value == ".", value == "..":
		b.WriteString("@base64/" + base64.RawURLEncoding.EncodeToString([]byte(value)))
	default:
		b.WriteString("/" + url.PathEscape(value))
	}
}
