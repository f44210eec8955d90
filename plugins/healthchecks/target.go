package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/httpclient"
)

// target is the Healthchecks plugin.
type target struct {
	// pool shares HTTP transports, and so connections, between the
	// instances; nil gives each instance its own.
	pool *httpclient.Pool
}

func (target) Info() sdk.Info {
	return sdk.Info{
		Name:        "healthchecks",
		Version:     sdk.Version(),
		Description: "pings a Healthchecks check (healthchecks.io or a self-hosted server)",
		Signals:     []sdk.Signal{sdk.SignalSuccess, sdk.SignalStart, sdk.SignalFail, sdk.SignalLog},
		Settings:    settingInfos(),
	}
}

func (t target) Configure(_ context.Context, req sdk.ConfigureRequest) (sdk.Instance, error) {
	logger := req.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	cfg, err := parseSettings(req.Settings, logger)
	errs := fieldErrors(err)
	client, err := httpclient.New(cfg.timeout, cfg.tls, httpclient.WithPool(t.pool))
	if err != nil {
		errs = append(errs, sdk.AsFieldErrors(err)...)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if cfg.method == "HEAD" || cfg.method == "GET" {
		logger.Info(fmt.Sprintf("method is %s: beats' messages and logs are not sent to Healthchecks (only POST sends them)", cfg.method))
	}
	in := newInstance(cfg, client, logger)
	// Here, not in newInstance: tests build instances there without a client.
	in.Limit = httpclient.LimitOf(client, cfg.ping)
	return in, nil
}

func fieldErrors(err error) sdk.FieldErrors {
	if err == nil {
		return nil
	}
	return sdk.AsFieldErrors(err)
}

func (in *instance) Describe() string {
	method := in.cfg.method
	if method == "" {
		method = "POST/GET"
	}
	var extra []string
	extra = append(extra, "timeout "+in.cfg.timeout.String())
	if in.cfg.create {
		extra = append(extra, "creates the check if missing")
	}
	return fmt.Sprintf("%s %s (%s)", method, in.cfg.display, strings.Join(extra, ", "))
}
