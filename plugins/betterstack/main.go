// Command heartbeat-target-betterstack is the heartbeat target plugin for
// Better Stack (Better Uptime) heartbeat monitors.
package main

import (
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/httpclient"
)

func main() { sdk.Serve(target{pool: httpclient.NewPool()}) }
