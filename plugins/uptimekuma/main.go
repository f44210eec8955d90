// Command heartbeat-target-uptimekuma is the heartbeat target plugin for
// Uptime Kuma push monitors.
package main

import "github.com/seed-e9b80cf6/heartbeat/plugins/sdk"

func main() { sdk.Serve(target{}) }
