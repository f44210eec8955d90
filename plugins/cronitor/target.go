package main

import (
	"context"
	"net/url"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/httpclient"
)

// target is the Cronitor plugin.
type target struct {
	// pool shares HTTP transports, and so connections, between the
	// instances; nil gives each instance its own.
	pool *httpclient.Pool
}

var _ sdk.Target = target{}

func (target) Info() sdk.Info {
	return sdk.Info{
		Name:        "cronitor",
		Version:     sdk.Version(),
		Description: "sends run, complete and fail events to a Cronitor job or heartbeat monitor (telemetry API)",
		// Cronitor documents no log-only event: the output tail travels in
		// the message of the finishing event.
		Signals:  []sdk.Signal{sdk.SignalSuccess, sdk.SignalStart, sdk.SignalFail},
		Settings: settingInfos(),
	}
}

func (t target) Configure(_ context.Context, req sdk.ConfigureRequest) (sdk.Instance, error) {
	logger := req.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	cfg, err := parseSettings(req.Settings, logger)
	client, err := httpclient.NewChecked(err, cfg.timeout, cfg.tls, httpclient.WithPool(t.pool))
	if err != nil {
		return nil, err
	}
	in := &instance{Limit: httpclient.LimitOf(client, cfg.base), cfg: cfg, client: client, logger: logger, where: displayURL(cfg)}
	logger.Debug("configured", "target", in.Describe())
	return in, nil
}

// displayURL is the telemetry URL with the key redacted: the server, path
// prefix and monitor key are no secrets and tell targets apart.
func displayURL(cfg config) string {
	shown := url.URL{Scheme: cfg.base.Scheme, Host: cfg.base.Host, Path: cfg.base.Path, RawPath: cfg.base.RawPath}
	return strings.TrimSuffix(shown.String(), "/") + "/" + route + "/" + sdk.RedactSecret(cfg.apiKey) + "/" + url.PathEscape(cfg.monitor)
}
