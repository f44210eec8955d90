package main

import (
	"context"
	"fmt"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/httpclient"
)

// target is the Better Stack plugin.
type target struct {
	// pool shares HTTP transports, and so connections, between the
	// instances; nil gives each instance its own.
	pool *httpclient.Pool
}

var _ sdk.Target = target{}

func (target) Info() sdk.Info {
	return sdk.Info{
		Name:        "betterstack",
		Version:     sdk.Version(),
		Description: "reports to a Better Stack (Better Uptime) heartbeat monitor: success, or failure with the exit code and output",
		// Better Stack has no start signal (any request counts as a
		// heartbeat, so a start would hide a run that never ends) and no
		// separate log: output travels in the body of a report.
		Signals:  []sdk.Signal{sdk.SignalSuccess, sdk.SignalFail},
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
	in := &instance{Limit: httpclient.LimitOf(client, cfg.base), cfg: cfg, client: client, logger: logger}
	logger.Debug("configured", "target", in.Describe())
	return in, nil
}

func (in *instance) Describe() string {
	return fmt.Sprintf("GET/POST %s (timeout %s)", in.cfg.display, in.cfg.timeout)
}
