package main

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/sdktest"
)

const (
	instanceName = "dms"
	// testToken is the token of the snitch in Dead Man's Snitch's examples.
	testToken = "c2354d53d2"
	// longToken is long enough for descriptions to show its last four
	// characters.
	longToken = "Xq3vN7pL2mR9sT4wY6zA1bCd"
)

// settingsMap is an instance's settings as the core sends them.
type settingsMap map[string]any

// configure sends settings through the real gRPC contract.
func configure(t *testing.T, s settingsMap) (sdk.Client, string, error) {
	t.Helper()
	return sdktest.Instance(t, target{}, instanceName, s)
}

// mustConfigure is configure for settings that must be valid.
func mustConfigure(t *testing.T, s settingsMap) (sdk.Client, string) {
	t.Helper()
	return sdktest.MustInstance(t, target{}, instanceName, s)
}

func beat(t *testing.T, c sdk.Client, b sdk.Beat) (sdk.Result, error) {
	t.Helper()
	return beatCtx(context.Background(), c, b)
}

func beatCtx(ctx context.Context, c sdk.Client, b sdk.Beat) (sdk.Result, error) {
	return sdktest.Beat(ctx, c, instanceName, "nightly-backup", b)
}

func intp(i int) *int { return &i }

func merge(a, b settingsMap) settingsMap { return sdktest.Merge(a, b) }

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
