package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/sdktest"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sentry/sentryfake"
)

// The public key never follows a redirect to another server or to plain
// http; a redirect on the same server is followed without a Referer.
func TestRedirects(t *testing.T) {
	sdktest.RunRedirects(t, sdktest.Redirects{
		Secret: testKey,
		Path:   "/api/1/cron/x/" + testKey + "/",
		Status: http.StatusAccepted,
		Beat: func(t *testing.T, serverURL string, tls bool) (sdk.Result, error) {
			p := dial(t)
			p.mustConfigure(conf{"dsn": dsnFor(serverURL), "monitor_slug": "x", "insecure_skip_verify": tls})
			return p.beat(sdk.Beat{Signal: sdk.SignalSuccess})
		},
	})
}

func headerValues(h http.Header) []string {
	var out []string
	for k, vs := range h {
		out = append(out, k+"="+strings.Join(vs, ","))
	}
	return out
}

// dsnFor is the DSN of project 1 on the server at serverURL.
func dsnFor(serverURL string) string {
	return strings.Replace(serverURL, "://", "://"+testKey+"@", 1) + "/1"
}

// TestSecretsNeverShown collects everything the plugin shows (descriptions,
// details, errors, log lines at trace level) across successes and
// failures, and looks for the public key and the DSN's secret key.
func TestSecretsNeverShown(t *testing.T) {
	srv := sentryfake.New(t, sentryfake.Options{})
	srv.AddMonitor("nightly")
	key := srv.PublicKey()
	const secretKey = "feedfacefeedfacefeedfacefeedface"
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A proxy that quotes the path in its error, as text and as JSON.
		if strings.Contains(r.URL.Path, "/2/") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"detail":"no project for ` + r.URL.Path + `"}`))
			return
		}
		http.Error(w, "no route to "+r.URL.Path, http.StatusBadGateway)
	}))
	t.Cleanup(echo.Close)
	gone := sentryfake.Start(sentryfake.Options{PublicKey: key})
	gone.Close()
	dsnFor := func(base string, project string) string {
		return strings.Replace(base, "://", "://"+key+"@", 1) + "/" + project
	}

	var logs bytes.Buffer
	logger := hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Trace})
	var shown []string
	for _, s := range []conf{
		{"dsn": srv.DSN(), "monitor_slug": "nightly"},
		{"dsn": strings.Replace(srv.DSN(), key+"@", key+":"+secretKey+"@", 1), "monitor_slug": "nightly", "environment": "prod", "schedule": "every hour"},
		{"dsn": dsnFor(echo.URL, "1"), "monitor_slug": "nightly"},
		{"dsn": dsnFor(echo.URL, "2"), "monitor_slug": "nightly"},
		{"dsn": dsnFor(gone.URL(), "1"), "monitor_slug": "nightly"},
		{"dsn": strings.Replace(srv.DSN(), "http://", "https://", 1), "monitor_slug": "nightly"}, // TLS to a plain server
	} {
		inst, err := target{}.Configure(context.Background(), sdk.ConfigureRequest{Instance: "s", Settings: mustJSON(t, s), Logger: logger})
		if err != nil {
			t.Fatalf("configure %v: %v", s, err)
		}
		shown = append(shown, inst.Describe())
		for _, outage := range []int{0, 403, 500} {
			srv.SetOutage(outage)
			for i, sig := range []sdk.Signal{sdk.SignalStart, sdk.SignalSuccess, sdk.SignalFail} {
				res, err := inst.Beat(context.Background(), sdk.Beat{Heartbeat: "hb", Signal: sig, RunID: "r", Sequence: uint64(i), Message: "m"})
				shown = append(shown, res.Detail)
				if err != nil {
					shown = append(shown, err.Error())
				}
			}
		}
	}
	srv.SetOutage(0)
	// Configure errors, through the contract.
	p := dial(t)
	for _, s := range []conf{
		{"dsn": "ftp://" + key + "@h/1", "monitor_slug": "x"},
		{"dsn": "https://" + key + "@h", "monitor_slug": "x"},
		{"dsn": "https://" + key + "@h:port/1", "monitor_slug": "x"},
		{"dsn": "https://" + key + "!@h/1", "monitor_slug": "x"},
		{"dsn": "https://" + key + ":" + secretKey + "@h/1?q", "monitor_slug": "x"},
		{"dsn": key, "monitor_slug": "x"},
	} {
		_, err := p.configure(s)
		if err == nil {
			t.Fatalf("accepted %v", s)
		}
		shown = append(shown, err.Error())
	}
	shown = append(shown, strings.Split(logs.String(), "\n")...)
	if len(shown) < 60 {
		t.Fatalf("only %d things shown: the test lost its cases", len(shown))
	}
	for _, s := range shown {
		for _, secret := range []string{key, secretKey} {
			if strings.Contains(s, secret) {
				t.Errorf("shows a secret: %q", s)
			}
		}
	}
	// The secret key never travels; the public key only in the path.
	for _, r := range srv.Requests() {
		if strings.Contains(string(r.Body), key) || strings.Contains(strings.Join(headerValues(r.Header), " "), key) ||
			strings.Contains(r.Path+string(r.Body)+strings.Join(headerValues(r.Header), " "), secretKey) {
			t.Errorf("request %s carries a key outside the path", r.Path)
		}
	}
}

// A hostile or broken server cannot hold a beat or flood the plugin: a
// huge answer is read bounded and not quoted in full, a slow body and a
// hang end at the timeout, and a cancelled beat returns at once.
func TestHostileServer(t *testing.T) {
	huge := strings.Repeat("x", 8<<20)
	sdktest.RunHostile(t, sdktest.Hostile{
		Secret:   testKey,
		MaxError: 1000,
		Beat: func(t *testing.T, serverURL, timeout string) (sdk.Result, error) {
			p := dial(t)
			p.mustConfigure(conf{"dsn": dsnFor(serverURL), "monitor_slug": "x", "timeout": timeout})
			return p.beat(sdk.Beat{Signal: sdk.SignalSuccess})
		},
	}, []sdktest.HostileCase{
		{Name: "huge error body", Handler: sdktest.Answer(http.StatusBadRequest, huge), Timeout: "10s", Kind: sdk.KindPermanent, Wording: "400 Bad Request"},
		{Name: "huge JSON detail", Handler: sdktest.Answer(http.StatusForbidden, `{"detail":"`+huge+`"}`), Timeout: "10s", Kind: sdk.KindPermanent, Wording: "403 Forbidden"},
		{Name: "endless 202 body", Handler: sdktest.EndlessBody(http.StatusAccepted, nil), Timeout: "10s", OK: true, Wording: "202 Accepted"},
		{Name: "slow body", Handler: sdktest.TrickleBody(http.StatusAccepted), Timeout: "500ms", Kind: sdk.KindTemporary, Wording: "reading the answer"},
		{Name: "hang", Handler: sdktest.NoAnswer(), Timeout: "500ms", Kind: sdk.KindTemporary, Wording: "no answer before the timeout"},
	})
	t.Run("cancelled beat", func(t *testing.T) {
		sdktest.RunDeadline(t, func(t *testing.T, serverURL string) (sdk.Client, string) {
			p := dial(t)
			p.mustConfigure(conf{"dsn": dsnFor(serverURL), "monitor_slug": "x", "timeout": "1h"})
			return p.c, instanceName
		})
	})
}
