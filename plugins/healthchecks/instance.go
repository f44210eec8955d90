package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/httpclient"
)

// instance is one configured check. Beats of several heartbeats may use it
// at once.
type instance struct {
	// Limit bounds the beats sent at once to the ping URL's host (every
	// beat goes there) through this client's transport.
	httpclient.Limit
	cfg    config
	client *http.Client
	logger hclog.Logger
	// bodyLimit is the last Ping-Body-Limit the server sent; 0 before one.
	bodyLimit atomic.Int64
	// header and postHeader are the headers of a request without and with
	// a body, worked out once: beats only copy them.
	header, postHeader http.Header
}

var _ sdk.Limited = (*instance)(nil)

func newInstance(cfg config, client *http.Client, logger hclog.Logger) *instance {
	in := &instance{cfg: cfg, client: client, logger: logger}
	in.header = make(http.Header, len(cfg.headers)+1)
	// Set before the headers setting, whose User-Agent replaces it.
	in.header.Set("User-Agent", sdk.UserAgent())
	names := make([]string, 0, len(cfg.headers))
	for name := range cfg.headers {
		names = append(names, name)
	}
	// Sorted, so that of two names differing only in case the same one
	// wins every time.
	sort.Strings(names)
	for _, name := range names {
		in.header.Set(name, cfg.headers[name])
	}
	in.postHeader = in.header.Clone()
	in.postHeader.Set("Content-Type", "text/plain; charset=utf-8")
	return in
}

func (in *instance) Beat(ctx context.Context, b sdk.Beat) (sdk.Result, error) {
	suffix, err := endpoint(b)
	if err != nil {
		return sdk.Result{}, err
	}
	u := in.cfg.ping.JoinPath(suffix...)
	u.RawQuery = query(runID(b.RunID), in.cfg.create)

	method := in.cfg.method
	var body []byte
	if method == "" || method == http.MethodPost {
		body = fitBody(b.Message, b.Log, in.limit())
	}
	if method == "" {
		method = http.MethodGet
		if len(body) > 0 {
			method = http.MethodPost
		}
	}
	req := in.newRequest(method, u, body)
	where := in.cfg.display + joinSuffix(suffix)
	resp, err := httpclient.Do(ctx, in.client, req)
	if err != nil {
		return sdk.Result{}, fmt.Errorf("pinging Healthchecks at %s: %w", where, err)
	}
	in.rememberLimit(resp.Header)
	if method == http.MethodHead {
		resp.Body = []byte(headAnswer(resp))
	}
	res, err := in.classify(b, where, resp)
	if !in.logger.IsDebug() {
		// Spare every beat the summary and the arguments of a line not
		// written.
		return res, err
	}
	in.logger.Debug("pinged Healthchecks", "signal", b.Signal.String(), "url", where, "method", method, "body_bytes", len(body), "answer", answer(resp, in.cfg.secret), "error", err)
	return res, err
}

// query is the ping URL's query: the run id and create, in the order
// url.Values.Encode would write them.
func query(rid string, create bool) string {
	var q string
	if create {
		// Exactly "1": the server ignores create=true.
		q = "create=1"
	}
	if rid != "" {
		if q != "" {
			q += "&"
		}
		q += "rid=" + url.QueryEscape(rid)
	}
	return q
}

// newRequest builds a request to u, which it takes, as http.NewRequest
// would, without writing u out and parsing it again. A body of known
// length gets a Content-Length: the server stores an empty log for a
// chunked body.
func (in *instance) newRequest(method string, u *url.URL, body []byte) *http.Request {
	// Without an empty port ("host:"), as http.NewRequest sends it.
	u.Host = strings.TrimSuffix(u.Host, ":")
	// Host stays empty: net/http then sends u.Host, where a Host set
	// would make it copy the URL on every request. The headers are
	// shared between beats: neither net/http nor httpclient.Do changes
	// them.
	req := &http.Request{
		Method:     method,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
	}
	if len(body) == 0 {
		req.Header = in.header
		req.Body = http.NoBody
		req.GetBody = func() (io.ReadCloser, error) { return http.NoBody, nil }
		return req
	}
	req.Header = in.postHeader
	req.ContentLength = int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	req.Body, _ = req.GetBody()
	return req
}

func joinSuffix(suffix []string) string {
	if len(suffix) == 0 {
		return ""
	}
	return "/" + strings.Join(suffix, "/")
}

// endpoint returns the path after the check's ping URL for b.
func endpoint(b sdk.Beat) ([]string, error) {
	finish := b.Signal == sdk.SignalSuccess || b.Signal == sdk.SignalFail
	// The exit-status endpoint replaces success and /fail: Healthchecks
	// shows the code and treats 0 as success, anything else as failure.
	// Codes it cannot take (negative, over 255: it answers 400) fall back to
	// the signal itself.
	if finish && b.ExitCode != nil && *b.ExitCode >= 0 && *b.ExitCode <= 255 {
		return []string{strconv.Itoa(*b.ExitCode)}, nil
	}
	switch b.Signal {
	case sdk.SignalSuccess:
		return nil, nil
	case sdk.SignalStart:
		return []string{"start"}, nil
	case sdk.SignalFail:
		return []string{"fail"}, nil
	case sdk.SignalLog:
		return []string{"log"}, nil
	}
	return nil, sdk.Errorf(sdk.KindPermanent, "the healthchecks plugin cannot deliver the %s signal", b.Signal)
}

// limit is the body size the server keeps.
func (in *instance) limit() int {
	if v := in.bodyLimit.Load(); v > 0 {
		return int(min(v, maxBodyLimit))
	}
	if in.cfg.hosted {
		return hostedBodyLimit
	}
	return selfHostedBodyLimit
}

func (in *instance) rememberLimit(h http.Header) {
	v, err := strconv.ParseInt(strings.TrimSpace(h.Get("Ping-Body-Limit")), 10, 64)
	if err == nil && v > 0 {
		in.bodyLimit.Store(v)
	}
}

// headAnswer guesses the body of an answer to HEAD, which has none, from its
// Content-Length: hc-ping.com answers 200 to unknown and rate-limited checks,
// and only the length of the body it would send tells them from "OK".
func headAnswer(resp httpclient.Response) string {
	if len(resp.Body) > 0 {
		return string(resp.Body)
	}
	n := resp.Header.Get("Content-Length")
	switch {
	case resp.StatusCode == http.StatusOK && n == strconv.Itoa(len("OK (not found)")):
		return "OK (not found)"
	case resp.StatusCode == http.StatusOK && n == strconv.Itoa(len("OK (rate limited)")):
		return "OK (rate limited)"
	case resp.StatusCode == http.StatusOK:
		return "OK"
	case resp.StatusCode == http.StatusCreated:
		return "Created"
	}
	return ""
}

// classify reads Healthchecks' answer. Success is 200 "OK" or 201 "Created"
// and nothing else: hc-ping.com answers 200 to unknown and rate-limited
// checks too, with another body.
func (in *instance) classify(b sdk.Beat, where string, resp httpclient.Response) (sdk.Result, error) {
	status := resp.StatusCode
	text := strings.TrimSpace(string(resp.Body))
	said := answer(resp, in.cfg.secret)
	switch {
	case status == http.StatusOK && text == "OK", status == http.StatusCreated && text == "Created":
		return sdk.Result{Detail: said}, nil
	case status == http.StatusNotFound, status == http.StatusOK && text == "OK (not found)":
		return sdk.Result{}, sdk.NotFound(fmt.Errorf("Healthchecks has no check with this %s (%s answered %s): %s%s",
			in.what(), where, said, in.cfg.fix, in.notFoundHint(b, status)))
	case status == http.StatusTooManyRequests, status == http.StatusOK && strings.HasPrefix(text, "OK (rate"):
		return sdk.Result{}, sdk.RateLimited(fmt.Errorf("Healthchecks is rate limiting this check (%s answered %s) and did not record the ping: it takes about 5 pings a minute per check, so send beats less often", where, said))
	case status == http.StatusRequestTimeout, status >= 500:
		return sdk.Result{}, sdk.Temporary(fmt.Errorf("Healthchecks could not take the ping now (%s answered %s)", where, said))
	case status == http.StatusConflict:
		return sdk.Result{}, sdk.Permanent(fmt.Errorf("several checks of the project have the slug %q (%s answered %s): give them different slugs, or ping this check by its UUID", in.cfg.slug, where, said))
	case status == http.StatusBadRequest:
		return sdk.Result{}, sdk.Permanent(fmt.Errorf("Healthchecks rejected the ping (%s answered %s); check ping_url or base_url", where, said))
	case status >= 200 && status < 300:
		return sdk.Result{}, sdk.Permanent(fmt.Errorf("%s answered %s, not Healthchecks' \"OK\": is it a Healthchecks ping endpoint?", where, said))
	}
	return sdk.Result{}, sdk.Permanent(fmt.Errorf("Healthchecks refused the ping (%s answered %s)", where, said))
}

func (in *instance) what() string {
	if in.cfg.slug != "" {
		return "slug and ping key"
	}
	return "UUID"
}

// notFoundHint explains 404s that older servers (before v2) give for
// features they lack.
func (in *instance) notFoundHint(b sdk.Beat, status int) string {
	if status != http.StatusNotFound || in.cfg.hosted {
		return ""
	}
	switch {
	case b.Signal == sdk.SignalLog:
		return " (Healthchecks servers before v2 also answer 404 to log signals)"
	case in.cfg.create:
		return " (Healthchecks servers before v2 also answer 404 to create: true)"
	}
	return ""
}

// answer summarises a response for Result.Detail and messages: "200 OK",
// "404 not found". Bodies that are pages rather than a short word give way
// to the status text.
func answer(resp httpclient.Response, secret string) string {
	text := strings.TrimSpace(string(resp.Body))
	if text == "" || len(text) > 80 || strings.ContainsAny(text, "<\n\r") {
		text = http.StatusText(resp.StatusCode)
	}
	if secret != "" {
		// A proxy's error text may quote the URL.
		text = strings.ReplaceAll(text, secret, sdk.RedactSecret(secret))
	}
	return strings.TrimSpace(fmt.Sprintf("%d %s", resp.StatusCode, text))
}
