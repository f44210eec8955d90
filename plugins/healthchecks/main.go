// Command heartbeat-target-healthchecks is the heartbeat target plugin for
// Healthchecks (https://healthchecks.io and self-hosted servers).
package main

import (
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/httpclient"
)

func main() { sdk.Serve(target{pool: httpclient.NewPool()}) }
