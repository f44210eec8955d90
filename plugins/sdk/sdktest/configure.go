package sdktest

import (
	"context"
	"encoding/json"
	"maps"
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

// Instance dials target (see Dial) and configures instance with settings.
// It returns the client, the instance's description, and the error
// Configure returned.
func Instance(t testing.TB, target sdk.Target, instance string, settings any) (sdk.Client, string, error) {
	t.Helper()
	c := Dial(t, target)
	desc, err := Configure(t, c, instance, settings)
	return c, desc, err
}

// MustInstance is Instance for settings that must be valid: an error
// fails the test.
func MustInstance(t testing.TB, target sdk.Target, instance string, settings any) (sdk.Client, string) {
	t.Helper()
	c, desc, err := Instance(t, target, instance, settings)
	if err != nil {
		t.Fatalf("configure %v: %v", settings, err)
	}
	return c, desc
}

// Beat sends b to instance on c, filling in what the core always sets:
// Heartbeat (heartbeat when empty) and Attempt (1 when 0).
func Beat(ctx context.Context, c sdk.Client, instance, heartbeat string, b sdk.Beat) (sdk.Result, error) {
	if b.Heartbeat == "" {
		b.Heartbeat = heartbeat
	}
	if b.Attempt == 0 {
		b.Attempt = 1
	}
	return c.Beat(ctx, instance, b)
}

// Merge returns settings a with the entries of b added or replaced; a
// and b are left as they are.
func Merge[M ~map[string]V, V any](a, b M) M {
	out := make(M, len(a)+len(b))
	maps.Copy(out, a)
	maps.Copy(out, b)
	return out
}
