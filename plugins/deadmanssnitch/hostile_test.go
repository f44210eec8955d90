package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/sdktest"
)

// A server that misbehaves costs a beat at most its timeout and a bounded
// amount of memory, and what it says reaches the user bounded, on one line.
func TestHostileServers(t *testing.T) {
	sdktest.RunHostile(t, sdktest.Hostile{
		Secret: testToken,
		Beat: func(t *testing.T, serverURL, timeout string) (sdk.Result, error) {
			c, _ := mustConfigure(t, settingsMap{"base_url": serverURL, "token": testToken, "timeout": timeout})
			return beat(t, c, sdk.Beat{Signal: sdk.SignalFail, ExitCode: intp(1), Log: []byte("out")})
		},
	}, []sdktest.HostileCase{
		{Name: "endless 200 body (1 GB and more)", Handler: sdktest.EndlessBody(http.StatusOK, nil), Timeout: "10s", OK: true, Wording: "200 OK"},
		{Name: "endless error page", Handler: sdktest.EndlessBody(http.StatusNotFound, nil), Timeout: "10s", Kind: sdk.KindNotFound, Wording: "404 Not Found"},
		{Name: "body that trickles", Handler: sdktest.TrickleBody(http.StatusOK), Timeout: "500ms", Kind: sdk.KindTemporary, Wording: "checking in to Dead Man's Snitch"},
		{Name: "no answer at all", Handler: sdktest.NoAnswer(), Timeout: "500ms", Kind: sdk.KindTemporary, Wording: "no answer before the timeout"},
		{Name: "control characters and a long line", Handler: sdktest.Answer(http.StatusBadRequest, "\x1b[2Jbad\r\nrequest "+strings.Repeat("z", 5000)), Timeout: "10s", Kind: sdk.KindPermanent, Wording: "400 Bad Request"},
	})
}

// The core's deadline for an attempt ends a beat even when the target's own
// timeout is longer.
func TestDeadlineEndsHangingBeat(t *testing.T) {
	sdktest.RunDeadline(t, func(t *testing.T, serverURL string) (sdk.Client, string) {
		c, _ := mustConfigure(t, settingsMap{"base_url": serverURL, "token": testToken, "timeout": "10m"})
		return c, instanceName
	})
}
