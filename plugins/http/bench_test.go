package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/httpclient"
)

// BenchmarkBeat measures one beat of a configured instance against a
// keep-alive server on 127.0.0.1: the plugin's per-request work plus
// net/http's. Run with -benchmem to see allocations.
func BenchmarkBeat(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, "OK")
	}))
	b.Cleanup(srv.Close)
	raw, err := json.Marshal(settingsMap{
		"url":     srv.URL + "/ping/" + secret + "?source=heartbeat",
		"method":  "POST",
		"body":    `{"status":"up"}`,
		"headers": map[string]string{"Authorization": "Bearer " + secret, "Content-Type": "application/json"},
	})
	if err != nil {
		b.Fatal(err)
	}
	in, err := target{pool: httpclient.NewPool()}.Configure(context.Background(), sdk.ConfigureRequest{Instance: instanceName, Settings: sdk.Settings(raw)})
	if err != nil {
		b.Fatal(err)
	}
	beat := sdk.Beat{Heartbeat: "butler-sos", Signal: sdk.SignalSuccess, Sequence: 1, Attempt: 1}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := in.Beat(ctx, beat); err != nil {
			b.Fatal(err)
		}
	}
}
