package main

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/internal/limittest"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/httpclient"
)

// TestInstancesShareTransport checks that the plugin's instances take their
// transport from the target's pool: one per TLS setting, not one each.
func TestInstancesShareTransport(t *testing.T) {
	tg := target{pool: httpclient.NewPool()}
	base := map[string]any{"dsn": "https://0123456789abcdef0123456789abcdef@o1.ingest.sentry.io/1", "monitor_slug": "nightly"}
	with := func(k string, v any) map[string]any {
		s := map[string]any{k: v}
		for name, value := range base {
			s[name] = value
		}
		return s
	}
	a := transportOf(t, tg, base)
	b := transportOf(t, tg, with("timeout", "3s"))
	insecure := transportOf(t, tg, with("insecure_skip_verify", true))
	if a != b {
		t.Error("two instances with the same TLS settings got transports of their own")
	}
	if a == insecure {
		t.Error("insecure_skip_verify: true got the transport that verifies certificates")
	}
	if own := transportOf(t, target{}, base); own == a {
		t.Error("a target without a pool shared the pool's transport")
	}
}

func transportOf(t *testing.T, tg target, settings map[string]any) http.RoundTripper {
	t.Helper()
	return configured(t, tg, settings).client.Transport
}

// configured is the instance tg makes of settings, which must be valid.
// Its failure message leaves the settings out: they hold secrets.
func configured(t *testing.T, tg target, settings map[string]any) *instance {
	t.Helper()
	raw, err := json.Marshal(settings)
	if err != nil {
		t.Fatal(err)
	}
	in, err := tg.Configure(context.Background(), sdk.ConfigureRequest{Instance: "pooled", Settings: raw, Logger: hclog.NewNullLogger()})
	if err != nil {
		t.Fatalf("configure: %v", err)
	}
	i, ok := in.(*instance)
	if !ok {
		t.Fatalf("Configure returned a %T", in)
	}
	return i
}

// TestBeatLimitByHost checks that an instance bounds its beats by the host
// they are sent to: instances on one host (and transport) share the bound.
func TestBeatLimitByHost(t *testing.T) {
	limittest.SharedBounds(t, target{pool: httpclient.NewPool()}, map[string]any{"dsn": "https://0123456789abcdef0123456789abcdef@o1.ingest.sentry.io/1", "monitor_slug": "nightly"}, []limittest.Case{
		{Name: "another monitor and project, same host", Settings: map[string]any{"dsn": "https://fedcba9876543210fedcba9876543210@o1.ingest.sentry.io/2", "monitor_slug": "weekly"}, SameBound: true},
		{Name: "a DSN on another host", Settings: map[string]any{"dsn": "https://0123456789abcdef0123456789abcdef@o2.ingest.sentry.io/1", "monitor_slug": "nightly"}, SameBound: false},
	})
}
