package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/httpclient"
)

const (
	// unknownFailure is the status of a failure without an exit code (an
	// HTTP check, a check that timed out): any status but 0 or empty
	// marks the snitch errored, and 1 is the conventional "failed".
	unknownFailure = "1"
	// defaultFailMessage is m for a failure that says nothing else.
	defaultFailMessage = "failed"
)

// instance is one configured snitch. It is not changed after Configure, so
// concurrent beats are safe.
type instance struct {
	// Limit bounds the check-ins sent at once to the check-in URL's host
	// (every check-in goes there) through this client's transport.
	httpclient.Limit
	cfg    config
	client *http.Client
	logger hclog.Logger
}

var _ sdk.Limited = (*instance)(nil)

func (in *instance) Beat(ctx context.Context, b sdk.Beat) (sdk.Result, error) {
	status, err := checkInStatus(b)
	if err != nil {
		return sdk.Result{}, err
	}
	m := checkInMessage(b.Message, b.CheckLatency, b.Log)
	if m == "" && b.Signal == sdk.SignalFail {
		m = defaultFailMessage
	}
	q := url.Values{}
	if m != "" {
		q.Set("m", m)
	}
	if status != "" {
		q.Set("s", status)
	}
	u := in.cfg.url()
	// Spaces as %20: "+" means a space only in some query parsers.
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		// The error would quote the URL, token included.
		return sdk.Result{}, sdk.Permanent(fmt.Errorf("cannot build the check-in request for %s", in.cfg.display))
	}
	resp, err := httpclient.Do(ctx, in.client, req)
	if err != nil {
		return sdk.Result{}, fmt.Errorf("checking in to Dead Man's Snitch at %s: %w", in.cfg.display, err)
	}
	res, err := answers.Classify(resp, in.cfg.display, in.answer(resp), in.cfg.fields, time.Now())
	in.logger.Debug("checked in to Dead Man's Snitch", "signal", b.Signal.String(), "url", in.cfg.display,
		"status", status, "message_chars", len([]rune(m)), "answer", in.answer(resp), "error", err)
	return res, err
}

// checkInStatus is s for b: none for a success (the exit code 0 when there
// is one), the exit code of a failure, or unknownFailure.
func checkInStatus(b sdk.Beat) (string, error) {
	switch b.Signal {
	case sdk.SignalSuccess:
		// A success is a success whatever its exit code: another code
		// would mark the snitch errored.
		if b.ExitCode != nil && *b.ExitCode == 0 {
			return "0", nil
		}
		return "", nil
	case sdk.SignalFail:
		// 0 (or nothing) would report success.
		if b.ExitCode != nil && *b.ExitCode != 0 {
			return strconv.Itoa(*b.ExitCode), nil
		}
		return unknownFailure, nil
	}
	// The core sends only the signals Info lists; never turn another one
	// into a request, which Dead Man's Snitch would count as a check-in.
	return "", sdk.Errorf(sdk.KindPermanent, "the deadmanssnitch plugin cannot deliver the %s signal: a snitch only takes check-ins that succeeded or failed", b.Signal)
}

// answers reads Dead Man's Snitch's answer: any 2xx is a check-in, as its
// own client takes it; the rest is not documented, and is read as other
// targets read HTTP answers.
var answers = httpclient.PingAnswers{
	Service:  "Dead Man's Snitch",
	Thing:    "snitch",
	Report:   "check-in",
	URLs:     "check-in URLs",
	SlowDown: "check in less often; one check-in per snitch interval is enough",
}

// answer summarises a response for Result.Detail and messages, e.g.
// "202 Got it, thanks!" or "404 Not Found", with the token masked in case
// the server or a proxy echoes the URL.
func (in *instance) answer(resp httpclient.Response) string {
	return httpclient.Summary(resp, in.cfg.token)
}
