package main

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/sdktest"
	"github.com/seed-e9b80cf6/heartbeat/plugins/uptimekuma/kumafake"
)

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
	c, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// configure sends settings as instance "kuma".
func (p plugin) configure(settings conf) (string, error) {
	p.t.Helper()
	raw, err := json.Marshal(settings)
	if err != nil {
		p.t.Fatal(err)
	}
	return p.c.Configure(ctx(p.t), "kuma", raw)
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
	if b.Attempt == 0 {
		b.Attempt = 1
	}
	return p.c.Beat(ctx(p.t), "kuma", b)
}

func success() sdk.Beat { return sdk.Beat{Heartbeat: "hb", Signal: sdk.SignalSuccess} }
func fail() sdk.Beat    { return sdk.Beat{Heartbeat: "hb", Signal: sdk.SignalFail} }

// lastPush returns the fake's newest push, failing the test when none came.
func lastPush(t *testing.T, s *kumafake.Server) kumafake.Push {
	t.Helper()
	p, ok := s.LastPush()
	if !ok {
		t.Fatal("Uptime Kuma received no push")
	}
	return p
}
