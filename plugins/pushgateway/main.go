// Command heartbeat-target-pushgateway is the heartbeat target plugin for
// the Prometheus Pushgateway.
package main

import (
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/httpclient"
)

func main() { sdk.Serve(target{pool: httpclient.NewPool()}) }
