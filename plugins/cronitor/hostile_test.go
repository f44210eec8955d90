package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/cronitor/cronitorfake"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/sdktest"
)

// The API key never follows a redirect to another server or to plain
// http; a redirect on the same server is followed without a Referer.
func TestRedirects(t *testing.T) {
	sdktest.RunRedirects(t, sdktest.Redirects{
		Secret: testKey,
		Path:   "/p/" + testKey + "/m",
		Beat: func(t *testing.T, serverURL string, tls bool) (sdk.Result, error) {
			c, _ := mustConfigure(t, settingsMap{"base_url": serverURL, "api_key": testKey, "monitor": "m", "insecure_skip_verify": tls})
			return beat(t, c, sdk.Beat{Signal: sdk.SignalSuccess})
		},
	})
}

// A hostile or broken server cannot hold a beat past its deadline nor fill
// the plugin's memory, and what it says is not quoted at length.
func TestHostileServers(t *testing.T) {
	sdktest.RunHostile(t, sdktest.Hostile{
		Secret: testKey,
		Beat: func(t *testing.T, serverURL, timeout string) (sdk.Result, error) {
			c, _ := mustConfigure(t, settingsMap{"base_url": serverURL, "api_key": testKey, "monitor": "m", "timeout": timeout})
			return beat(t, c, sdk.Beat{Signal: sdk.SignalFail, Message: "m"})
		},
	}, []sdktest.HostileCase{
		{Name: "a huge body with 200", Handler: sdktest.EndlessBody(http.StatusOK, nil), Timeout: "30s", OK: true, Wording: "200 OK"},
		{Name: "a huge error page", Handler: sdktest.EndlessBody(http.StatusBadGateway, bytes.Repeat([]byte("<p>"+testKey+"</p>"), 1<<15)), Timeout: "30s", Kind: sdk.KindTemporary, Wording: "502 Bad Gateway"},
		{Name: "a short body echoing the key", Handler: func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte("bad path " + r.URL.Path))
		}, Timeout: "30s", Kind: sdk.KindPermanent, Wording: "400 bad path /p/…e1f0/m"},
		{Name: "a body of control characters", Handler: sdktest.Answer(http.StatusBadRequest, "\x1b[2Jgotcha\x07"), Timeout: "30s", Kind: sdk.KindPermanent, Wording: "400 Bad Request"},
		{Name: "a body that trickles", Handler: sdktest.TrickleBody(http.StatusOK), Timeout: "1s", Kind: sdk.KindTemporary, Wording: "reading the answer"},
		{Name: "no answer at all", Handler: sdktest.NoAnswer(), Timeout: "1s", Kind: sdk.KindTemporary, Wording: "before the timeout"},
	})
}

// The caller's deadline ends a beat to a server that never answers, even
// with a long timeout setting.
func TestDeadlineEndsBeat(t *testing.T) {
	sdktest.RunDeadline(t, func(t *testing.T, serverURL string) (sdk.Client, string) {
		c, _ := mustConfigure(t, settingsMap{"base_url": serverURL, "api_key": testKey, "monitor": "m", "timeout": "10m"})
		return c, instanceName
	})
}

func TestNetworkErrors(t *testing.T) {
	gone := cronitorfake.Start(cronitorfake.Config{})
	base := gone.BaseURL()
	gone.Close()
	c, _ := mustConfigure(t, settingsMap{"base_url": base, "api_key": testKey, "monitor": "m"})
	_, err := beat(t, c, sdk.Beat{Signal: sdk.SignalStart, RunID: runID})
	if err == nil || sdk.KindOf(err) != sdk.KindTemporary || !strings.Contains(err.Error(), "sending state run to Cronitor") {
		t.Errorf("got %s %v, want a temporary error", sdk.KindOf(err), err)
	}
	if err != nil && strings.Contains(err.Error(), testKey) {
		t.Errorf("error shows the key: %v", err)
	}
}

// TestSecretsNeverShown collects everything the plugin shows (descriptions,
// details, errors, log lines) across answers and failures, and looks for
// the API key.
func TestSecretsNeverShown(t *testing.T) {
	srv := cronitorfake.New(t, cronitorfake.Config{})
	srv.AddKey(testKey, true)
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A proxy that quotes the path in its error.
		http.Error(w, "no route to "+r.URL.Path, http.StatusBadGateway)
	}))
	t.Cleanup(echo.Close)
	gone := cronitorfake.Start(cronitorfake.Config{})
	gone.Close()

	var logs bytes.Buffer
	logger := hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Trace})
	var shown []string
	settings := []settingsMap{
		{"base_url": srv.BaseURL(), "api_key": testKey, "monitor": "m"},
		{"ping_url": srv.PingURL(testKey, "m"), "monitor_type": "heartbeat"},
		{"base_url": echo.URL, "api_key": testKey, "monitor": "m"},
		{"base_url": gone.BaseURL(), "api_key": testKey, "monitor": "m"},
		{"base_url": strings.Replace(srv.BaseURL(), "http://", "https://", 1), "api_key": testKey, "monitor": "m"},
		{"base_url": "http://cronitor.invalid", "api_key": testKey, "monitor": "m", "timeout": "2s"},
	}
	for _, s := range settings {
		inst, err := target{}.Configure(context.Background(), sdk.ConfigureRequest{Instance: "c", Settings: mustJSON(t, s), Logger: logger})
		if err != nil {
			t.Fatalf("configure %v: %v", s, err)
		}
		shown = append(shown, inst.Describe())
		for _, outage := range []int{0, 429, 503, 403} {
			srv.SetOutage(outage)
			for _, sig := range []sdk.Signal{sdk.SignalStart, sdk.SignalSuccess, sdk.SignalFail} {
				res, err := inst.Beat(context.Background(), sdk.Beat{Signal: sig, Message: "m", RunID: runID, Log: []byte("out")})
				shown = append(shown, res.Detail)
				if err != nil {
					shown = append(shown, err.Error())
				}
			}
		}
	}
	srv.SetOutage(0)
	for _, s := range []settingsMap{
		{"ping_url": srv.PingURL(testKey, "m") + "?state=run"},
		{"ping_url": "ftp://x/p/" + testKey + "/m"},
		{"ping_url": srv.BaseURL() + "/ping/" + testKey + "/m"},
		{"ping_url": srv.BaseURL() + "/p/" + testKey},
		{"ping_url": srv.PingURL(testKey, "m"), "api_key": testKey},
		{"base_url": srv.PingURL(testKey, "m"), "api_key": testKey, "monitor": "m"},
		{"api_key": testKey + " x", "monitor": "m"},
		{"api_key": "https://cronitor.link/p/" + testKey + "/m", "monitor": "m"},
		{"api_key": 12345, "monitor": "m"},
	} {
		_, _, err := configure(t, s)
		if err == nil {
			t.Fatalf("accepted %v", s)
		}
		shown = append(shown, err.Error())
	}
	shown = append(shown, strings.Split(logs.String(), "\n")...)
	if len(shown) < 80 {
		t.Fatalf("only %d things shown: the test lost its cases", len(shown))
	}
	for _, s := range shown {
		if strings.Contains(s, testKey) {
			t.Errorf("shows the key: %q", s)
		}
	}
}
