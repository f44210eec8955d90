package main

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
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
	limittest.SharedBounds(t, target{pool: httpclient.NewPool()}, map[string]any{"url": "https://a.example/ping/1"}, []limittest.Case{
		{Name: "another instance, same host", Settings: map[string]any{"url": "https://a.example/ping/2"}, SameBound: true},
		{Name: "another host", Settings: map[string]any{"url": "https://b.example/ping/1"}},
		{Name: "a fail beat to the fail_url's host", Settings: map[string]any{"url": "https://a.example/1", "fail_url": "https://b.example/1/fail"}, Signal: sdk.SignalFail},
		{Name: "a success beat of an instance with a fail_url", Settings: map[string]any{"url": "https://a.example/1", "fail_url": "https://b.example/1/fail"}, SameBound: true},
		{Name: "same host, its own transport", Settings: map[string]any{"url": "https://a.example/ping/1", "insecure_skip_verify": true}},
	})
}

// Instances without a headers setting share one header map, which an
// instance with headers never changes.
func TestPlainHeaderShared(t *testing.T) {
	tg := target{pool: httpclient.NewPool(), plainHeader: plainHeader()}
	headerOf := func(s map[string]any) http.Header {
		t.Helper()
		raw, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		in, err := tg.Configure(context.Background(), sdk.ConfigureRequest{Instance: instanceName, Settings: raw, Logger: hclog.NewNullLogger()})
		if err != nil {
			t.Fatal(err)
		}
		return in.(*instance).header
	}
	a := headerOf(map[string]any{"url": "https://a.example/1"})
	b := headerOf(map[string]any{"url": "https://b.example/2"})
	own := headerOf(map[string]any{"url": "https://a.example/3", "headers": map[string]string{"X-Token": "t"}})
	if reflect.ValueOf(a).Pointer() != reflect.ValueOf(b).Pointer() {
		t.Error("two instances without headers have header maps of their own")
	}
	if reflect.ValueOf(a).Pointer() == reflect.ValueOf(own).Pointer() {
		t.Fatal("an instance with headers shares the plain header map")
	}
	if len(a) != 1 || a.Get("User-Agent") != sdk.UserAgent() {
		t.Errorf("plain headers = %v, want the User-Agent alone", a)
	}
	if own.Get("User-Agent") != sdk.UserAgent() || own.Get("X-Token") != "t" {
		t.Errorf("an instance's own headers lack the User-Agent or its setting")
	}
}
