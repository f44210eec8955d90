// Command heartbeat-target-uptimekuma is the heartbeat target plugin for
// Uptime Kuma push monitors.
package main

import (
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/httpclient"
)

func main() { sdk.Serve(target{pool: httpclient.NewPool()}) }
