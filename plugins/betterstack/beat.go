package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/httpclient"
)

// formContentType is what the documented `curl -d "$output" …` sends:
// Better Stack does not say which content types it shows, so heartbeat
// sends what its own example sends.
const formContentType = "application/x-www-form-urlencoded"

// instance is one configured heartbeat monitor. It is not changed after
// Configure, so concurrent beats are safe.
type instance struct {
	// Limit bounds the beats sent at once to the heartbeat URL's host
	// (every beat goes there) through this client's transport.
	httpclient.Limit
	cfg    config
	client *http.Client
	logger hclog.Logger
}

var _ sdk.Limited = (*instance)(nil)

func (in *instance) Beat(ctx context.Context, b sdk.Beat) (sdk.Result, error) {
	suffix, err := endpoint(b)
	if err != nil {
		return sdk.Result{}, err
	}
	body := bodyText(b.Message, b.CheckLatency, b.Log, maxBody)
	method := http.MethodGet
	if len(body) > 0 {
		method = http.MethodPost
	}
	req, err := http.NewRequestWithContext(ctx, method, in.cfg.url(suffix).String(), bytes.NewReader(body))
	if err != nil {
		// The error would quote the URL, token included.
		return sdk.Result{}, sdk.Permanent(fmt.Errorf("cannot build the request for %s", in.cfg.display))
	}
	if len(body) == 0 {
		req.Body, req.ContentLength = http.NoBody, 0
		req.GetBody = func() (io.ReadCloser, error) { return http.NoBody, nil }
	} else {
		req.Header.Set("Content-Type", formContentType)
	}
	where := in.cfg.display
	if suffix != "" {
		where += "/" + suffix
	}
	resp, err := httpclient.Do(ctx, in.client, req)
	if err != nil {
		return sdk.Result{}, fmt.Errorf("reporting to Better Stack at %s: %w", where, err)
	}
	res, err := answers.Classify(resp, where, in.answer(resp), in.cfg.fields, time.Now())
	in.logger.Debug("reported to Better Stack", "signal", b.Signal.String(), "url", where, "method", method,
		"body_bytes", len(body), "answer", in.answer(resp), "error", err)
	return res, err
}

// endpoint returns what follows the heartbeat URL for b: exit status 0 for
// a success, the exit code of a failure when Better Stack can take it, else
// "fail".
func endpoint(b sdk.Beat) (string, error) {
	code := b.ExitCode
	switch b.Signal {
	case sdk.SignalSuccess:
		// The plain URL is a heartbeat too, but only /0 is known to also
		// resolve an incident a failure opened. A success is a success
		// whatever its exit code: another code would report a failure.
		return "0", nil
	case sdk.SignalFail:
		// 0 would report success; the range Better Stack takes is not
		// documented, so only exit statuses a process can have go in the
		// URL.
		if code != nil && *code >= 1 && *code <= 255 {
			return strconv.Itoa(*code), nil
		}
		return "fail", nil
	}
	// The core sends only the signals Info lists; never turn another one
	// into a request, which Better Stack would count as a heartbeat.
	return "", sdk.Errorf(sdk.KindPermanent, "the betterstack plugin cannot deliver the %s signal: Better Stack heartbeats only take success and failure", b.Signal)
}

// answers reads Better Stack's answer. Better Stack documents none, so
// this follows what its clients do: any 2xx is success, anything else is
// not.
var answers = httpclient.PingAnswers{
	Service:  "Better Stack",
	Thing:    "heartbeat",
	Report:   "report",
	URLs:     "heartbeat URLs",
	SlowDown: "send beats less often",
}

// answer summarises a response for Result.Detail and messages, e.g.
// "200 OK" or "404 Not Found", with the token masked in case the server or
// a proxy echoes the URL.
func (in *instance) answer(resp httpclient.Response) string {
	return httpclient.Summary(resp, in.cfg.token)
}
