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
	return sdktest.Instance(t, target{}, instanceName, s)
}

// mustConfigure is configure for settings that must be valid.
func mustConfigure(t *testing.T, s settingsMap) (sdk.Client, string) {
	t.Helper()
	return sdktest.MustInstance(t, target{}, instanceName, s)
}

func beat(t *testing.T, c sdk.Client, b sdk.Beat) (sdk.Result, error) {
	t.Helper()
	return sdktest.Beat(context.Background(), c, instanceName, "butler-sos", b)
}

func intp(i int) *int { return &i }

func merge(a, b settingsMap) settingsMap { return sdktest.Merge(a, b) }

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
