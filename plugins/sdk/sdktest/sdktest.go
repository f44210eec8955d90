// Package sdktest runs a target in-process behind the real gRPC contract,
// so a plugin's tests exercise the same path the core uses.
package sdktest

import (
	"testing"

	"github.com/hashicorp/go-plugin"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// Dial serves target over an in-process gRPC connection and returns the
// host's client for it. Everything is closed when the test ends.
func Dial(t testing.TB, target sdk.Target) sdk.Client {
	t.Helper()
	client, _ := plugin.TestPluginGRPCConn(t, false, sdk.TestPluginSet(target))
	t.Cleanup(func() { _ = client.Close() })
	raw, err := client.Dispense(sdk.PluginName)
	if err != nil {
		t.Fatalf("dispense %s: %v", sdk.PluginName, err)
	}
	c, ok := raw.(sdk.Client)
	if !ok {
		t.Fatalf("dispensed %T, want sdk.Client", raw)
	}
	return c
}
