package sdk

import (
	"runtime/debug"
	"sync"
)

// Set at build time with
// -ldflags "-X github.com/seed-e9b80cf6/heartbeat/plugins/sdk.version=v1.0.0 -X ...sdk.commit=abc123".
var (
	version string
	commit  string
)

// The build's version, commit and User-Agent never change while the
// process runs: each is worked out once, on first use, instead of reading
// the build information on every call (every beat asks for the
// User-Agent).
var (
	versionOnce   = sync.OnceValue(readVersion)
	commitOnce    = sync.OnceValue(readCommit)
	userAgentOnce = sync.OnceValue(func() string { return "heartbeat/" + Version() })
)

// Version is the heartbeat release this binary was built from.
func Version() string { return versionOnce() }

// Commit is the source revision this binary was built from, or "unknown".
func Commit() string { return commitOnce() }

// UserAgent is sent with every HTTP request of the bundled targets.
func UserAgent() string { return userAgentOnce() }

func readVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

func readCommit() string {
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
