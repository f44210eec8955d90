package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/httpclient"
)

// maxQuoted bounds how much of the gateway's answer an error quotes.
const maxQuoted = 300

// target is the Pushgateway plugin.
type target struct {
	// pool shares HTTP transports, and so connections, between the
	// instances; nil gives each instance its own.
	pool *httpclient.Pool
}

var _ sdk.Target = target{}

func (target) Info() sdk.Info {
	return sdk.Info{
		Name:        "pushgateway",
		Version:     sdk.Version(),
		Description: "pushes last-success, last-start, duration and exit-code gauges to a Prometheus Pushgateway",
		// Metrics only: a log signal's text has nowhere to go.
		Signals:  []sdk.Signal{sdk.SignalSuccess, sdk.SignalStart, sdk.SignalFail},
		Settings: settingInfos(),
	}
}

func (t target) Configure(_ context.Context, req sdk.ConfigureRequest) (sdk.Instance, error) {
	logger := req.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	cfg, err := parseSettings(req.Settings)
	client, err := httpclient.NewChecked(err, cfg.timeout, cfg.tls, httpclient.WithPool(t.pool))
	if err != nil {
		return nil, err
	}
	cfg.tls.WarnIgnoredCA(logger)
	if cfg.username != "" && cfg.base.Scheme == "http" {
		logger.Warn("basic auth over plain http sends the password unencrypted; use an https url")
	}
	refuseMethodChange(client)
	in := &instance{Limit: httpclient.LimitOf(client, cfg.base), cfg: cfg, client: client, logger: logger, now: time.Now}
	in.describe = cfg.describe()
	return in, nil
}

// refuseMethodChange stops a redirect that would turn the push into a GET
// (301, 302 and 303 do, for POST): the gateway would answer 405 and the
// beat be lost with a misleading error. The client already refuses other
// hosts and plain http.
func refuseMethodChange(client *http.Client) {
	sameHostOnly := client.CheckRedirect
	client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.Method != via[0].Method {
			return &httpclient.RedirectError{
				From: where(via[len(via)-1].URL),
				To:   where(req.URL),
				Why:  fmt.Sprintf("a %d redirect turns the push into a %s; set url to the address it redirects to", req.Response.StatusCode, req.Method),
			}
		}
		return sameHostOnly(req, via)
	}
}

// instance is one configured Pushgateway group template. It is not changed
// after Configure, so concurrent beats are safe.
type instance struct {
	// Limit bounds the pushes sent at once to the gateway's host (every
	// push goes there) through this client's transport.
	httpclient.Limit
	cfg      config
	client   *http.Client
	logger   hclog.Logger
	now      func() time.Time
	describe string
}

var _ sdk.Limited = (*instance)(nil)

func (in *instance) Describe() string { return in.describe }

func (in *instance) Beat(ctx context.Context, b sdk.Beat) (sdk.Result, error) {
	ss, err := samples(b, in.now())
	if err != nil {
		return sdk.Result{}, err
	}
	labels := append(slices.Clone(in.cfg.labels), label{heartbeatLabel, b.Heartbeat})
	slices.SortFunc(labels, func(a, b label) int { return strings.Compare(a.name, b.name) })
	path := groupPath(in.cfg.job, labels)
	payload := body(in.cfg.prefix, ss)
	// POST, never PUT: PUT replaces every metric of the group, and a
	// failure would erase the last success.
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.cfg.base.String()+path, bytes.NewReader(payload))
	if err != nil {
		return sdk.Result{}, sdk.Errorf(sdk.KindPermanent, "cannot build the push request for %s: %v", in.cfg.where, err)
	}
	req.Header.Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	if in.cfg.username != "" {
		req.SetBasicAuth(in.cfg.username, in.cfg.password)
	}
	// The path holds label values, which may name hosts or paths: debug
	// level only.
	in.logger.Debug("pushing", "signal", b.Signal.String(), "path", path, "metrics", len(ss), "attempt", b.Attempt)
	resp, err := httpclient.Do(ctx, in.client, req)
	if err != nil {
		return sdk.Result{}, fmt.Errorf("pushing the %s gauges to the Pushgateway at %s: %w", b.Signal, in.cfg.where, err)
	}
	res, err := in.interpret(resp)
	in.logger.Debug("pushed", "signal", b.Signal.String(), "status", resp.StatusCode, "error", err)
	return res, err
}

// interpret turns the gateway's answer into a result or an error of the
// right kind: 200 with an empty body (stored and checked) or 202 (queued,
// --push.disable-consistency-check) is success; the gateway's own 400s
// (bad grouping key, body, or metrics inconsistent with other groups) and
// 401 are not retried; 5xx and 408 are.
func (in *instance) interpret(resp httpclient.Response) (sdk.Result, error) {
	code := resp.StatusCode
	text := in.quote(resp.Body)
	at := in.cfg.where
	switch {
	case code == http.StatusOK && len(bytes.TrimSpace(resp.Body)) == 0:
		return sdk.Result{Detail: "200 OK"}, nil
	case code == http.StatusAccepted:
		return sdk.Result{Detail: "202 Accepted (queued unchecked: the Pushgateway runs with --push.disable-consistency-check)"}, nil
	case code == http.StatusOK:
		return sdk.Result{}, sdk.Errorf(sdk.KindPermanent,
			"%s answered 200 with %s, not the Pushgateway's empty answer: check that url points at the Pushgateway, path prefix included", at, text)
	case code == http.StatusBadRequest:
		hint := "the grouping key or the metrics were refused; check job, labels and metric_prefix"
		if strings.Contains(string(resp.Body), "inconsistent") {
			hint = "metrics of these names already exist on the gateway with another type, or the gateway's store is inconsistent: delete the offending group (DELETE on its /metrics/job/… URL, or the gateway's web UI), or set another metric_prefix"
		}
		return sdk.Result{}, sdk.Errorf(sdk.KindPermanent, "the Pushgateway at %s refused the push (400 %s): %s", at, text, hint)
	case code == http.StatusUnauthorized && in.cfg.username == "":
		return sdk.Result{}, sdk.Errorf(sdk.KindPermanent,
			"the Pushgateway at %s asks for a login (401): set username and password (or password_file)", at)
	case code == http.StatusUnauthorized:
		return sdk.Result{}, sdk.Errorf(sdk.KindPermanent,
			"the Pushgateway at %s refused the user name %q or its password (401): check username and password", at, bounded(in.cfg.username, 64))
	case code == http.StatusForbidden || code == http.StatusProxyAuthRequired:
		return sdk.Result{}, sdk.Errorf(sdk.KindPermanent,
			"%s refused the push (%s): a proxy in front of the Pushgateway does not let it through", at, httpclient.StatusText(code))
	case code == http.StatusNotFound || code == http.StatusMethodNotAllowed:
		return sdk.Result{}, sdk.Errorf(sdk.KindPermanent,
			"%s has no Pushgateway push route at /metrics/job/… (%s): check url, with the path prefix the gateway runs under (--web.route-prefix) and without /metrics", at, httpclient.StatusText(code))
	case code == http.StatusTooManyRequests:
		wait := ""
		if ra := strings.TrimSpace(resp.Header.Get("Retry-After")); ra != "" {
			wait = ", retry after " + bounded(sdk.OneLine(ra), 40)
		}
		return sdk.Result{}, sdk.Errorf(sdk.KindRateLimited,
			"%s asks to slow down (429%s); the Pushgateway itself has no rate limit, so a proxy in front of it does", at, wait)
	case code == http.StatusRequestTimeout || code >= 500:
		return sdk.Result{}, sdk.Errorf(sdk.KindTemporary, "the Pushgateway at %s could not take the push now (%s %s)", at, httpclient.StatusText(code), text)
	}
	return sdk.Result{}, sdk.Errorf(sdk.KindPermanent,
		"%s answered %s with %s, not a Pushgateway answer (200 or 202): check url", at, httpclient.StatusText(code), text)
}

// quote returns an answer's body as one bounded, quoted line, with the
// password masked in case a proxy echoes the request.
func (in *instance) quote(b []byte) string {
	s := strings.TrimSpace(sdk.OneLine(string(b)))
	if s == "" {
		return "an empty body"
	}
	if strings.HasPrefix(s, "<") {
		return "an HTML page"
	}
	if p := in.cfg.password; p != "" {
		basic := base64.StdEncoding.EncodeToString([]byte(in.cfg.username + ":" + p))
		s = strings.ReplaceAll(s, basic, sdk.RedactSecret(basic))
		s = strings.ReplaceAll(s, p, sdk.RedactSecret(p))
	}
	return strconv.Quote(bounded(s, maxQuoted))
}
