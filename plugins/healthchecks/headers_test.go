package main

import (
	"strings"
	"testing"

	"github.com/seed-e9b80cf6/heartbeat/plugins/healthchecks/hcfake"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// headers are sent with every ping; their values are secrets, never shown.
func TestHeadersSent(t *testing.T) {
	srv := hcfake.New(t, hcfake.Config{})
	id := srv.AddCheck(hcfake.NewUUID())
	const token = "Bearer s3cr3t-proxy-token-value"
	c, desc := mustConfigure(t, settingsMap{"ping_url": srv.PingURL(id), "headers": map[string]string{"Authorization": token, "X-Env": "prod", "User-Agent": "my-agent/1"}})
	if strings.Contains(desc, token) {
		t.Errorf("Describe shows a header value: %s", desc)
	}
	for _, b := range []sdk.Beat{{Signal: sdk.SignalStart}, {Signal: sdk.SignalFail, Message: "boom", ExitCode: intp(3)}} {
		if _, err := beat(t, c, b); err != nil {
			t.Fatal(err)
		}
		r, _ := srv.LastRequest()
		if r.Header.Get("Authorization") != token || r.Header.Get("X-Env") != "prod" || r.UserAgent != "my-agent/1" {
			t.Errorf("%s: headers %v", b.Signal, r.Header)
		}
		if b.Message != "" && r.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
		}
	}
}

func TestHeadersRejected(t *testing.T) {
	const secret = "v@lue-that-is-secret"
	cases := []struct {
		name    string
		headers map[string]string
		want    string
	}{
		{"bad name", map[string]string{"Bad Name": "x"}, "not a valid header name"},
		{"line break in value", map[string]string{"Authorization": secret + "\r\nX-Injected: 1"}, "line break"},
		{"content type", map[string]string{"content-type": "application/json"}, "Content-Type is set by heartbeat"},
		{"host", map[string]string{"Host": "elsewhere.example"}, "Host is set by heartbeat"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := configure(t, settingsMap{"ping_url": "https://hc-ping.com/" + hcfake.NewUUID(), "headers": c.headers})
			fes := sdk.AsFieldErrors(err)
			if len(fes) != 1 || fes[0].Field != "headers" || !strings.Contains(fes[0].Message, c.want) {
				t.Fatalf("error %v, want one on headers saying %q", err, c.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("the error quotes a header value: %v", err)
			}
		})
	}
}
