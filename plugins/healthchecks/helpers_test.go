package main

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"unicode/utf8"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/sdktest"
)

const instanceName = "hc"

// settingsMap is an instance's settings as the core sends them.
type settingsMap map[string]any

// configure sends settings through the real gRPC contract.
func configure(t *testing.T, s settingsMap) (sdk.Client, string, error) {
	t.Helper()
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	c := sdktest.Dial(t, target{})
	desc, err := c.Configure(context.Background(), instanceName, raw)
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

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func itoa(i int) string { return strconv.Itoa(i) }

func utf8Valid(s string) bool { return utf8.ValidString(s) }

// clientInstance delivers beats of the configured instance through the
// contract, like an sdk.Instance.
type clientInstance struct{ c sdk.Client }

func (ci clientInstance) Describe() string { return "" }

func (ci clientInstance) Beat(ctx context.Context, b sdk.Beat) (sdk.Result, error) {
	return ci.c.Beat(ctx, instanceName, b)
}
