package main

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/sdktest"
)

const (
	instanceName = "bs"
	// testToken looks like the tokens in public heartbeat URLs.
	testToken = "Xq3vN7pL2mR9sT4wY6zA1bCd"
)

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
	return beatCtx(context.Background(), c, b)
}

func beatCtx(ctx context.Context, c sdk.Client, b sdk.Beat) (sdk.Result, error) {
	if b.Heartbeat == "" {
		b.Heartbeat = "nightly-backup"
	}
	if b.Attempt == 0 {
		b.Attempt = 1
	}
	return c.Beat(ctx, instanceName, b)
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

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
