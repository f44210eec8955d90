package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/httpclient"
)

// maxSeries bounds the series parameter. The core's run ids are UUIDs (36
// characters); a longer or odd one is replaced by a digest of it, the same
// for the start and the finish of a run.
const maxSeries = 64

// instance is one configured monitor. It is not changed after Configure,
// so concurrent beats are safe.
type instance struct {
	// Limit bounds the events sent at once to the telemetry host (every
	// event goes there) through this client's transport.
	httpclient.Limit
	cfg    config
	client *http.Client
	logger hclog.Logger
	// where is the telemetry URL with the key redacted, for messages.
	where string
}

var _ sdk.Limited = (*instance)(nil)

func (in *instance) Describe() string {
	kind := "job monitor"
	if in.cfg.heartbeatMonitor {
		kind = "heartbeat monitor"
		if in.cfg.successState != "" {
			kind += ", success state=" + in.cfg.successState
		}
	}
	extra := []string{kind}
	if in.cfg.env != "" {
		extra = append(extra, "env "+in.cfg.env)
	}
	if in.cfg.host != "" {
		extra = append(extra, "host "+in.cfg.host)
	}
	extra = append(extra, "timeout "+in.cfg.timeout.String())
	return fmt.Sprintf("GET %s (%s)", in.where, strings.Join(extra, ", "))
}

func (in *instance) Beat(ctx context.Context, b sdk.Beat) (sdk.Result, error) {
	q := url.Values{}
	finish := false
	switch b.Signal {
	case sdk.SignalStart:
		if in.cfg.heartbeatMonitor {
			// A heartbeat monitor has no runs: a run event would count as
			// a beat before the check has said anything.
			in.logger.Debug("start not sent: a Cronitor heartbeat monitor has no run state", "heartbeat", b.Heartbeat)
			return sdk.Result{Detail: "not sent: a Cronitor heartbeat monitor has no run state"}, nil
		}
		q.Set("state", "run")
	case sdk.SignalSuccess:
		if in.cfg.successState != "" {
			q.Set("state", in.cfg.successState)
		}
		finish = true
	case sdk.SignalFail:
		q.Set("state", "fail")
		finish = true
	default:
		// The core sends only the signals Info lists.
		return sdk.Result{}, sdk.Errorf(sdk.KindPermanent, "the cronitor plugin cannot deliver the %s signal: Cronitor has no log-only event", b.Signal)
	}
	if s := series(b.RunID); s != "" {
		q.Set("series", s)
	}
	if finish {
		if b.ExitCode != nil {
			q.Set("status_code", strconv.Itoa(*b.ExitCode))
		}
		if d, ok := durationSeconds(b.CheckLatency); ok {
			q.Set("metric", "duration:"+d)
		}
	}
	if msg := fitMessage(b.Message, b.Log, maxMessage); msg != "" {
		q.Set("message", msg)
	}
	if in.cfg.host != "" {
		q.Set("host", in.cfg.host)
	}
	if in.cfg.env != "" {
		q.Set("env", in.cfg.env)
	}

	u := in.cfg.base.JoinPath(route, url.PathEscape(in.cfg.apiKey), url.PathEscape(in.cfg.monitor))
	// Spaces as %20: "+" means a space only to some query parsers.
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), http.NoBody)
	if err != nil {
		// The error would quote the URL, key included.
		return sdk.Result{}, sdk.Errorf(sdk.KindPermanent, "cannot build the request for %s", in.where)
	}
	state := q.Get("state")
	if state == "" {
		state = "(none)"
	}
	resp, err := httpclient.Do(ctx, in.client, req)
	if err != nil {
		return sdk.Result{}, fmt.Errorf("sending state %s to Cronitor at %s: %w", state, in.where, in.redactErr(err))
	}
	res, err := in.classify(resp)
	in.logger.Debug("sent to Cronitor", "signal", b.Signal.String(), "url", in.where, "state", state,
		"series", q.Get("series"), "message_bytes", len(q.Get("message")), "answer", in.answer(resp), "error", err)
	return res, err
}

// series turns a run id into Cronitor's series: as is when it is short
// plain text, else a digest of it (deterministic: the start and the finish
// of a run may reach different plugin processes).
func series(runID string) string {
	if runID == "" {
		return ""
	}
	plain := len(runID) <= maxSeries && !strings.ContainsFunc(runID, func(r rune) bool {
		return r > unicode.MaxASCII || unicode.IsSpace(r) || unicode.IsControl(r)
	})
	if plain {
		return runID
	}
	sum := sha256.Sum256([]byte(runID))
	return "run-" + hex.EncodeToString(sum[:16])
}

// durationSeconds formats a run's duration as Cronitor's duration metric:
// seconds, to the millisecond. ok is false when there is none.
func durationSeconds(d time.Duration) (string, bool) {
	if d <= 0 {
		return "", false
	}
	s := math.Round(d.Seconds()*1000) / 1000
	return strconv.FormatFloat(s, 'f', -1, 64), true
}

// classify reads Cronitor's answer. Cronitor answers 200 to every
// telemetry request, a wrong key included, so a 2xx proves only that the
// event arrived; any other answer comes from something in front of it or
// from a server that is not Cronitor.
func (in *instance) classify(resp httpclient.Response) (sdk.Result, error) {
	code := resp.StatusCode
	said := in.answer(resp)
	switch {
	case code >= 200 && code < 300:
		return sdk.Result{Detail: said}, nil
	case code == http.StatusTooManyRequests:
		wait := ""
		if ra := retryAfter(resp.Header.Get("Retry-After")); ra != "" {
			wait = " (Retry-After " + ra + ")"
		}
		return sdk.Result{}, sdk.RateLimited(fmt.Errorf("Cronitor is rate limiting events (%s answered %s%s) and did not record this one: send beats to this monitor less often", in.where, said, wait))
	case code == http.StatusRequestTimeout, code >= 500:
		return sdk.Result{}, sdk.Temporary(fmt.Errorf("Cronitor could not take the event now (%s answered %s)", in.where, said))
	case code == http.StatusNotFound:
		return sdk.Result{}, sdk.Permanent(fmt.Errorf("%s answered %s: there is no Cronitor telemetry endpoint there (Cronitor itself creates unknown monitors rather than answering 404); check %s", in.where, said, in.baseFix()))
	case code == http.StatusUnauthorized, code == http.StatusForbidden, code == http.StatusProxyAuthRequired:
		return sdk.Result{}, sdk.Permanent(fmt.Errorf("%s answered %s: Cronitor accepts every event with 200, even with a wrong key, so a proxy or another server refuses it; check %s and any proxy in between", in.where, said, in.baseFix()))
	case code >= 400:
		return sdk.Result{}, sdk.Permanent(fmt.Errorf("Cronitor refused the event (%s answered %s); it is not retried", in.where, said))
	}
	return sdk.Result{}, sdk.Permanent(fmt.Errorf("%s answered %s, not an answer of Cronitor's telemetry endpoint: check %s", in.where, said, in.baseFix()))
}

func (in *instance) baseFix() string {
	if in.cfg.fix == "ping_url" {
		return "ping_url"
	}
	return "base_url"
}

// answer summarises a response for Result.Detail and messages: "200 OK",
// "502 bad gateway", with the key masked in case a proxy echoes the URL.
func (in *instance) answer(resp httpclient.Response) string {
	return httpclient.Summary(resp, in.cfg.apiKey)
}

// redactErr masks the key in an error from the HTTP client, which names
// only the server already; a proxy's message might still quote the path.
func (in *instance) redactErr(err error) error {
	msg := err.Error()
	if in.cfg.apiKey == "" || !strings.Contains(msg, in.cfg.apiKey) {
		return err
	}
	return maskedError{msg: in.mask(msg), err: err}
}

// mask hides the API key, and its percent-encoded form, in s.
func (in *instance) mask(s string) string {
	return httpclient.MaskSecrets(s, in.cfg.apiKey)
}

// maskedError keeps the kind of the error it masks.
type maskedError struct {
	msg string
	err error
}

func (e maskedError) Error() string { return e.msg }

// Unwrap lets sdk.KindOf see the kind; callers printing the chain print
// Error only.
func (e maskedError) Unwrap() error { return e.err }

// retryAfter returns a Retry-After value fit to show: a number of seconds
// or an HTTP date, else "".
func retryAfter(v string) string {
	v = strings.TrimSpace(v)
	if v == "" || len(v) > 40 {
		return ""
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return v + "s"
	}
	if t, err := http.ParseTime(v); err == nil {
		return t.UTC().Format(time.RFC3339)
	}
	return ""
}
