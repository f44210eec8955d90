package sdktest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// Configure sends settings, marshalled to JSON as the core sends them, to
// configure instance on c, and returns the instance's description.
func Configure(t testing.TB, c sdk.Client, instance string, settings any) (string, error) {
	t.Helper()
	raw, err := json.Marshal(settings)
	if err != nil {
		t.Fatalf("settings %v: %v", settings, err)
	}
	return c.Configure(context.Background(), instance, raw)
}
