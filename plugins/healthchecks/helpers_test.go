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
