package main

import (
	"testing"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/sdktest"
)

// The check's UUID never follows a redirect to another server or to plain
// http; a redirect on the same server is followed without a Referer.
func TestRedirects(t *testing.T) {
	sdktest.RunRedirects(t, sdktest.Redirects{
		Secret: testUUID,
		Path:   "/" + testUUID,
		Beat: func(t *testing.T, serverURL string, tls bool) (sdk.Result, error) {
			c, _ := mustConfigure(t, settingsMap{"ping_url": serverURL + "/" + testUUID, "insecure_skip_verify": tls})
			return beat(t, c, sdk.Beat{Signal: sdk.SignalSuccess})
		},
	})
}
