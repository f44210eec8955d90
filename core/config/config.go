// Package config reads heartbeat's YAML config file (or a Butler SOS config
// file) into typed, validated settings. Every error names the file, line and
// column and says what to write instead.
package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/core/check"
	"github.com/seed-e9b80cf6/heartbeat/core/schedule"
)

// Defaults, documented in docs/configuration.md.
const (
	DefaultDeliveryTimeout = 15 * time.Second
	DefaultRetries         = 2
	DefaultRetryBackoff    = time.Second
	// DefaultMaxFileSize bounds the config file unless Options.MaxSize says
	// otherwise: a config is usually a few kilobytes and 20,000 heartbeats
	// in block style take 1.5-4 MiB, while parsing needs up to about 100
	// times the file's size in memory, so a wrong or endless file must be
	// stopped early.
	DefaultMaxFileSize = 8 << 20
	// MinMaxFileSize and MaxMaxFileSize bound Options.MaxSize (the
	// --max-config-size flag).
	MinMaxFileSize = 1 << 10
	MaxMaxFileSize = 256 << 20
)

// Config is a loaded, valid config file.
type Config struct {
	// File is the path the config was read from.
	File string
	// PluginDirs are the plugin directories from the file (plugin_dirs, or
	// plugin_dir as a one-element list), resolved against the file's
	// directory; they are searched before the bundled one. Empty when the
	// file sets none.
	PluginDirs []string
	// Targets by name; TargetNames keeps the order of the file.
	Targets     map[string]*Target
	TargetNames []string
	Heartbeats  []*Heartbeat
	// ButlerSOS is set when the file is a Butler SOS config.
	ButlerSOS bool
	// Listen is the address of the metrics, health and status endpoint;
	// empty: off.
	Listen string
	// ListenPos is where listen is written.
	ListenPos Pos
	// ListenAuth protects the listen address; nil: not protected.
	ListenAuth *ListenAuth
	// Plugins holds per-plugin settings (pinned checksums), by plugin name.
	Plugins map[string]PluginSettings
	// InsecurePluginPermissions turns off the refusal of plugin files and
	// directories writable by group or others, like ssh's StrictModes=no.
	InsecurePluginPermissions bool
}

// PluginSettings are the operator's settings for one plugin binary.
type PluginSettings struct {
	// SHA256 pins the binary: one with another checksum is refused.
	SHA256 []byte
	// MemoryLimit caps the plugin process's memory in bytes (0: no limit).
	MemoryLimit int64
	// CPULimit caps the plugin process's total CPU time (0: no limit); the
	// process is restarted when it reaches it.
	CPULimit time.Duration
	Pos      Pos
}

// Target is one configured instance of a target plugin.
type Target struct {
	Name   string
	Plugin string
	// Settings is the target's config block after ${VAR} expansion, as JSON
	// for the plugin.
	Settings []byte
	Delivery Delivery
	Pos      Pos
	// settingPos locates each setting (dotted path) for error messages.
	settingPos  settingPositions
	settingsPos Pos
}

// settingPositions are where a target's settings are written, by dotted
// path, in the order written. A list, not a map: a target has a few
// settings, and a map each would cost 4 MB at 10,000 targets.
type settingPositions []settingPosition

type settingPosition struct {
	field string
	pos   Pos
}

func (s *settingPositions) add(field string, pos Pos) {
	*s = append(*s, settingPosition{field, pos})
}

func (s settingPositions) find(field string) (Pos, bool) {
	for _, sp := range s {
		if sp.field == field {
			return sp.pos, true
		}
	}
	return Pos{}, false
}

// SettingPos returns where the setting field (a dotted path) is written,
// or where the target's settings block starts when the field is not there.
func (t *Target) SettingPos(field string) Pos {
	if p, ok := t.settingPos.find(field); ok {
		return p
	}
	if t.settingsPos.Line != 0 {
		return t.settingsPos
	}
	return t.Pos
}

// Delivery is how hard the core tries to deliver one beat to a target.
type Delivery struct {
	// Timeout is the deadline of one delivery attempt.
	Timeout time.Duration
	// Retries is how many times a retryable failure is retried.
	Retries int
	// Backoff is the wait before the first retry; it doubles each time.
	Backoff time.Duration
}

// Heartbeat is one schedule of beats to one or more targets.
type Heartbeat struct {
	Name string
	// Expression is the frequency or cron expression as written.
	Expression string
	Schedule   *schedule.Schedule
	Targets    []string
	// Timezone is the IANA name the schedule is evaluated in ("" = UTC).
	Timezone string
	// Check, when set, runs before each beat: success or fail follows it.
	Check *check.Spec
	Pos   Pos
}

// Key identifies the heartbeat's definition: equal keys mean a reload
// leaves the heartbeat's timing alone.
func (h *Heartbeat) Key() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%q|%q|%q", h.Expression, h.Timezone, h.Targets)
	if h.Check != nil {
		fmt.Fprintf(&b, "|%q|%q|%q|%s", h.Check.HTTP, h.Check.Expect, h.Check.Command, h.Check.Timeout)
	}
	return b.String()
}
