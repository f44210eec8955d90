// Package sdk is what a heartbeat target plugin imports.
//
// A target plugin is a separate executable named heartbeat-target-<name>
// that the heartbeat core starts and talks to over gRPC (hashicorp/go-plugin).
// A plugin implements Target and calls Serve from main:
//
//	func main() { sdk.Serve(myTarget{}) }
//
// The same package holds the host side (Client, PluginSets) that the core
// uses, so both ends of the contract live in one place.
package sdk
