package main

import (
	"context"
	"net/url"
	"slices"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/httpclient"
)

// target is the Uptime Kuma plugin.
type target struct {
	// pool shares HTTP transports, and so connections, between the
	// instances; nil gives each instance its own.
	pool *httpclient.Pool
}

var _ sdk.Target = target{}

func (target) Info() sdk.Info {
	return sdk.Info{
		Name:        "uptimekuma",
		Version:     sdk.Version(),
		Description: "pushes up and down beats to Uptime Kuma Push monitors",
		// Uptime Kuma push monitors only know up and down: no start, no log.
		Signals: []sdk.Signal{sdk.SignalSuccess, sdk.SignalFail},
		Settings: []sdk.SettingInfo{
			{
				Name: "push_url", Type: "string", Secret: true,
				Description: "The push URL the monitor shows, with or without `?status=up&msg=OK&ping=`. It must use `http://` or `https://` and end in `/api/push/<token>`; a path prefix before `/api/push/` is kept. Other query parameters are kept; `status`, `msg` and `ping` are set by each beat. Required unless `base_url` and `token` are set.",
			},
			{
				Name: "base_url", Type: "string",
				Description: "Instead of `push_url`: Uptime Kuma's address, including the path prefix when it runs behind a reverse proxy (`https://example.com/kuma`). No query, and not a push URL. Needs `token`.",
			},
			{
				Name: "token", Type: "string", Secret: true,
				Description: "Instead of `push_url`: the push token, the part of the push URL after `/api/push/`. It cannot contain `/`, `?`, `#`, `&`, `=`, spaces or control characters. Needs `base_url`.",
			},
			{
				Name: "timeout", Type: "duration", Default: defaultTimeout.String(),
				Description: "How long to wait for Uptime Kuma's answer, e.g. `5s` or `1m`. Must be more than 0.",
			},
			{
				Name: "headers", Type: "map", Secret: true,
				Description: "Extra request headers, name to value, e.g. for an authenticating reverse proxy in front of Uptime Kuma: `Authorization: \"Bearer ${TOKEN}\"`. Names must be valid HTTP header names; values may not hold line breaks or other control characters. A `User-Agent` here replaces heartbeat's; `Accept` and `Host` cannot be set.",
			},
			{
				Name: "ca_file", Type: "string",
				Description: "A PEM file of CA certificates to trust, in addition to the system's, for an Uptime Kuma with a certificate from its own CA.",
			},
			{
				Name: "insecure_skip_verify", Type: "bool", Default: "false",
				Description: "Do not verify Uptime Kuma's TLS certificate. Prefer `ca_file`.",
			},
		},
	}
}

const defaultTimeout = httpclient.DefaultTimeout

func (t target) Configure(_ context.Context, req sdk.ConfigureRequest) (sdk.Instance, error) {
	var s settings
	// Every problem is reported at once: decoding's, then the checks'
	// below, except for settings that failed to decode.
	var errs sdk.FieldErrors
	errs.Merge(req.Settings.Decode(&s))
	ep, checks := parseEndpoint(s)
	if len(checks) > 0 && (errs.Has("push_url") || errs.Has("base_url") || errs.Has("token")) {
		// The address was given in a form that did not decode: the
		// checks of what is left would only mislead.
		checks = slices.DeleteFunc(checks, func(fe sdk.FieldError) bool {
			return fe.Field == "push_url" || fe.Field == "base_url" || fe.Field == "token"
		})
	}
	timeout := defaultTimeout
	if s.Timeout != nil {
		timeout = s.Timeout.Std()
		if timeout <= 0 {
			checks.Add("timeout", "must be more than 0s, e.g. \"10s\"")
		}
	}
	checks = append(checks, checkHeaders(s.Headers)...)
	client, err := httpclient.New(timeout, s.tls(), httpclient.WithPool(t.pool))
	if err != nil {
		checks = append(checks, sdk.AsFieldErrors(err)...)
	}
	errs.Merge(checks.Err())
	if len(errs) > 0 {
		return nil, errs
	}
	logger := req.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	in := &instance{
		Limit:   httpclient.LimitOf(client, ep.base),
		ep:      ep,
		client:  client,
		logger:  logger,
		where:   where(ep.base),
		headers: s.Headers,
	}
	in.describe = "GET " + in.where + pushRoute + "/" + sdk.RedactSecret(ep.token)
	logger.Debug("configured", "target", in.describe, "timeout", timeout.String())
	return in, nil
}

// where names Uptime Kuma for messages: scheme, host and path prefix,
// without user info, which may hold a password.
func where(base *url.URL) string {
	u := url.URL{Scheme: base.Scheme, Host: base.Host, Path: base.Path}
	return strings.TrimRight(u.String(), "/")
}
