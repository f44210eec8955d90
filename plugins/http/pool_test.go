package main

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/httpclient"
)

// TestInstancesShareTransport checks that the plugin's instances take their
// transport from the target's pool: one per TLS setting, not one each.
func TestInstancesShareTransport(t *testing.T) {
	tg := target{pool: httpclient.NewPool()}
	base := map[string]any{"url": "https://example.com/ping/" + secret}
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
	raw, err := json.Marshal(settings)
	if err != nil {
		t.Fatal(err)
	}
	in, err := tg.Configure(context.Background(), sdk.ConfigureRequest{Instance: "pooled", Settings: raw, Logger: hclog.NewNullLogger()})
	if err != nil {
		t.Fatalf("configure %v: %v", settings, err)
	}
	i, ok := in.(*instance)
	if !ok {
		t.Fatalf("Configure returned a %T", in)
	}
	return i.client.Transport
}

// Instances bound their beats by the host each beat goes to, shared with
// the other instances that reach that host through the same transport.
func TestBeatLimitByHost(t *testing.T) {
	tg := target{pool: httpclient.NewPool()}
	limitOf := func(s map[string]any, signal sdk.Signal) any {
		t.Helper()
		raw, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		in, err := tg.Configure(context.Background(), sdk.ConfigureRequest{Instance: instanceName, Settings: raw, Logger: hclog.NewNullLogger()})
		if err != nil {
			t.Fatal(err)
		}
		l, ok := in.(sdk.Limited)
		if !ok {
			t.Fatal("the http target's instance is not an sdk.Limited")
		}
		key, n := l.BeatLimit(sdk.Beat{Signal: signal})
		if key == nil || n <= 0 {
			t.Fatalf("BeatLimit = %v, %d: no bound", key, n)
		}
		return key
	}
	base := limitOf(map[string]any{"url": "https://a.example/ping/1"}, sdk.SignalSuccess)
	tests := []struct {
		name     string
		settings map[string]any
		signal   sdk.Signal
		same     bool
	}{
		{"another instance, same host", map[string]any{"url": "https://a.example/ping/2"}, sdk.SignalSuccess, true},
		{"another host", map[string]any{"url": "https://b.example/ping/1"}, sdk.SignalSuccess, false},
		{"a fail beat to the fail_url's host", map[string]any{"url": "https://a.example/1", "fail_url": "https://b.example/1/fail"}, sdk.SignalFail, false},
		{"a success beat of an instance with a fail_url", map[string]any{"url": "https://a.example/1", "fail_url": "https://b.example/1/fail"}, sdk.SignalSuccess, true},
		{"same host, its own transport", map[string]any{"url": "https://a.example/ping/1", "insecure_skip_verify": true}, sdk.SignalSuccess, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := limitOf(tt.settings, tt.signal); (got == base) != tt.same {
				t.Errorf("key %v shared with the first instance's = %v, want %v", got, got == base, tt.same)
			}
		})
	}
}
