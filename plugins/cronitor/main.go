// Command heartbeat-target-cronitor is the heartbeat target plugin for
// Cronitor (https://cronitor.io): it sends telemetry events to a job or
// heartbeat monitor.
package main

import (
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/httpclient"
)

func main() { sdk.Serve(target{pool: httpclient.NewPool()}) }
