// Command heartbeat-target-http sends each heartbeat as a request to any
// HTTP(S) URL: the Butler SOS remoteURL, a status page, a webhook.
package main

import (
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/httpclient"
)

func main() { sdk.Serve(target{pool: httpclient.NewPool(), plainHeader: plainHeader()}) }
