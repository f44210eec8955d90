package main

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/sdktest"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sentry/sentryfake"
)

const instanceName = "sentry"

// conf is an instance's settings as the core sends them.
type conf map[string]any

// plugin is the plugin behind the real gRPC contract.
type plugin struct {
	t *testing.T
	c sdk.Client
}

func dial(t *testing.T) plugin {
	t.Helper()
	return plugin{t: t, c: sdktest.Dial(t, target{})}
}

func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func (p plugin) configure(settings conf) (string, error) {
	p.t.Helper()
	raw, err := json.Marshal(settings)
	if err != nil {
		p.t.Fatal(err)
	}
	return p.c.Configure(ctx(p.t), instanceName, raw)
}

func (p plugin) mustConfigure(settings conf) string {
	p.t.Helper()
	desc, err := p.configure(settings)
	if err != nil {
		p.t.Fatalf("configure %v: %v", settings, err)
	}
	return desc
}

func (p plugin) beat(b sdk.Beat) (sdk.Result, error) {
	p.t.Helper()
	if b.Heartbeat == "" {
		b.Heartbeat = "nightly"
	}
	if b.Attempt == 0 {
		b.Attempt = 1
	}
	return p.c.Beat(ctx(p.t), instanceName, b)
}

// withFake returns a plugin configured for monitor slug on srv, with extra
// settings.
func withFake(t *testing.T, srv *sentryfake.Server, slug string, extra conf) plugin {
	t.Helper()
	p := dial(t)
	settings := conf{"dsn": srv.DSN(), "monitor_slug": slug}
	for k, v := range extra {
		settings[k] = v
	}
	p.mustConfigure(settings)
	return p
}

// lastCheckIn returns the fake's newest request, failing when it holds no
// check-in.
func lastCheckIn(t *testing.T, srv *sentryfake.Server) sentryfake.Request {
	t.Helper()
	r, ok := srv.LastRequest()
	if !ok || r.CheckIn == nil {
		t.Fatalf("Sentry received no check-in (last request %+v)", r)
	}
	return r
}

func intp(i int) *int { return &i }
