// Command heartbeat-target-sentry is the heartbeat target plugin for
// Sentry Crons (sentry.io and self-hosted Sentry): check-ins of a cron
// monitor.
package main

import (
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/httpclient"
)

func main() { sdk.Serve(target{pool: httpclient.NewPool()}) }
