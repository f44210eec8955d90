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

// BenchmarkBeat measures one beat with a message (a POST) of a configured
// check against a keep-alive server on 127.0.0.1 answering as
// Healthchecks does (200 "OK", Ping-Body-Limit). Run with -benchmem.
func BenchmarkBeat(b *testing.B) {
	const uuid = "5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Ping-Body-Limit", "100000")
		_, _ = io.WriteString(w, "OK")
	}))
	b.Cleanup(srv.Close)
	raw, err := json.Marshal(settingsMap{"ping_url": srv.URL + "/ping/" + uuid})
	if err != nil {
		b.Fatal(err)
	}
	in, err := target{pool: httpclient.NewPool()}.Configure(context.Background(), sdk.ConfigureRequest{Instance: instanceName, Settings: sdk.Settings(raw)})
	if err != nil {
		b.Fatal(err)
	}
	beat := sdk.Beat{Heartbeat: "butler-sos", Signal: sdk.SignalSuccess, Sequence: 1, Attempt: 1,
		Message: "exit 0 after 1.2s", RunID: "3f8a2d7e-4b1c-4e9a-8d2f-6c5b4a3e2d1f"}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := in.Beat(ctx, beat); err != nil {
			b.Fatal(err)
		}
	}
}
