package sdk

import (
	"runtime/debug"
)

// Set at build time with
// -ldflags "-X github.com/seed-e9b80cf6/heartbeat/plugins/sdk.version=v1.0.0 -X ...sdk.commit=abc123".
var (
	version string
	commit  string
)

// Version is the heartbeat release this binary was built from.
func Version() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// Commit is the source revision this binary was built from, or "unknown".
func Commit() string {
	if commit != "" {
		return commit
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return "unknown"
}

// UserAgent is sent with every HTTP request of the bundled targets.
func UserAgent() string { return "heartbeat/" + Version() }
