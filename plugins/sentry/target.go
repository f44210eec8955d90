package main

import (
	"context"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/httpclient"
)

// target is the Sentry Crons plugin.
type target struct {
	// pool shares HTTP transports, and so connections, between the
	// instances; nil gives each instance its own.
	pool *httpclient.Pool
}

var _ sdk.Target = target{}

func (target) Info() sdk.Info {
	return sdk.Info{
		Name:        "sentry",
		Version:     sdk.Version(),
		Description: "sends check-ins to a Sentry cron monitor (sentry.io or self-hosted)",
		// Check-ins carry no text, so there is no log signal.
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
	in := newInstance(cfg, client, logger)
	// Here, not in newInstance: tests build instances there without a client.
	in.Limit = httpclient.LimitOf(client, cfg.dsn.baseURL)
	logger.Debug("configured", "target", in.Describe())
	return in, nil
}
