package main

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/sdktest"
)

const instanceName = "pg"

// settingsMap is an instance's settings as the core sends them.
type settingsMap map[string]any

// configure sends settings through the real gRPC contract.
func configure(t *testing.T, s settingsMap) (sdk.Client, string, error) {
	t.Helper()
	c := sdktest.Dial(t, target{})
	desc, err := sdktest.Configure(t, c, instanceName, s)
	return c, desc, err
}

// mustConfigure is configure for settings that must be valid.
func mustConfigure(t *testing.T, s settingsMap) (sdk.Client, string) {
	t.Helper()
	c, desc, err := configure(t, s)
	if err != nil {
		t.Fatalf("configure %v: %v", s, err)
	}
	return c, desc
}

func beat(t *testing.T, c sdk.Client, b sdk.Beat) (sdk.Result, error) {
	t.Helper()
	if b.Heartbeat == "" {
		b.Heartbeat = "butler-sos"
	}
	if b.Attempt == 0 {
		b.Attempt = 1
	}
	return c.Beat(context.Background(), instanceName, b)
}

func intp(i int) *int { return &i }

func merge(a, b settingsMap) settingsMap {
	out := settingsMap{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// group is the grouping key of the default job for heartbeat hb.
func group(hb string, extra ...string) map[string]string {
	g := map[string]string{"job": "heartbeat", "heartbeat": hb}
	for i := 0; i+1 < len(extra); i += 2 {
		g[extra[i]] = extra[i+1]
	}
	return g
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
