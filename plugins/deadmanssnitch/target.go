package main

import (
	"context"
	"fmt"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/httpclient"
)

// target is the Dead Man's Snitch plugin.
type target struct {
	// pool shares HTTP transports, and so connections, between the
	// instances; nil gives each instance its own.
	pool *httpclient.Pool
}

var _ sdk.Target = target{}

func (target) Info() sdk.Info {
	return sdk.Info{
		Name:        "deadmanssnitch",
		Version:     sdk.Version(),
		Description: "checks in to a Dead Man's Snitch snitch, with a message and the exit status of a failure",
		// Any request is a check-in, so a start would hide a run that
		// never finishes; output travels only in the message of a
		// check-in.
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
	return fmt.Sprintf("GET %s (timeout %s)", in.cfg.display, in.cfg.timeout)
}
