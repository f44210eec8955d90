package main

import (
	"testing"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/sdktest"
)

// The token never follows a redirect to another server or to plain http;
// a redirect on the same server is followed without a Referer.
func TestRedirects(t *testing.T) {
	path := "/" + testToken
	sdktest.RunRedirects(t, sdktest.Redirects{
		Secret: testToken,
		Path:   path,
		Beat: func(t *testing.T, serverURL string, tls bool) (sdk.Result, error) {
			c, _ := mustConfigure(t, settingsMap{"snitch_url": serverURL + path, "insecure_skip_verify": tls})
			return beat(t, c, sdk.Beat{Signal: sdk.SignalFail, ExitCode: intp(2), Log: []byte("output")})
		},
	})
}
