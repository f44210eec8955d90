package sdk

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Target is a kind of monitoring tool. One plugin process serves every
// instance of its kind that the config declares.
type Target interface {
	// Info describes the plugin. It must not block.
	Info() Info
	// Configure validates one instance's settings and returns the instance.
	// Return FieldErrors (or a FieldError) for invalid settings so the user is
	// shown which setting to fix: all of them at once (see Settings.Decode
	// and FieldErrors.Merge), not only the first.
	Configure(ctx context.Context, req ConfigureRequest) (Instance, error)
}

// Instance is one configured target, e.g. one Healthchecks check.
type Instance interface {
	// Describe returns a one-line description with secrets redacted.
	Describe() string
	// Beat delivers one signal. Wrap errors with Permanent, NotFound or
	// RateLimited to tell the core not to retry; other errors are retried.
	Beat(ctx context.Context, b Beat) (Result, error)
}

// ConfigureRequest carries one instance's settings.
type ConfigureRequest struct {
	// Instance is the target's name in the config file.
	Instance string
	Settings Settings
	// Logger reaches the core's log, named after the plugin and instance.
	Logger hclog.Logger
}

// Info describes a plugin.
type Info struct {
	Name        string
	Version     string
	Description string
	// Signals the plugin can deliver; the core never sends others.
	Signals  []Signal
	Settings []SettingInfo
}

// Supports reports whether the plugin delivers s.
func (i Info) Supports(s Signal) bool {
	for _, have := range i.Signals {
		if have == s {
			return true
		}
	}
	return false
}

// SettingInfo documents one setting.
type SettingInfo struct {
	Name        string
	Type        string
	Required    bool
	Secret      bool
	Default     string
	Description string
}

// Signal is what a beat tells the monitoring tool.
type Signal int

// The signals, as in the contract.
const (
	SignalUnspecified Signal = iota
	SignalSuccess
	SignalStart
	SignalFail
	SignalLog
)

func (s Signal) String() string {
	switch s {
	case SignalSuccess:
		return "success"
	case SignalStart:
		return "start"
	case SignalFail:
		return "fail"
	case SignalLog:
		return "log"
	}
	return "unspecified"
}

// MarshalText writes the signal's name, so that JSON (and any text
// encoding) holds "success", not a number.
func (s Signal) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a signal's name, as MarshalText writes it.
func (s *Signal) UnmarshalText(text []byte) error {
	for _, v := range []Signal{SignalUnspecified, SignalSuccess, SignalStart, SignalFail, SignalLog} {
		if string(text) == v.String() {
			*s = v
			return nil
		}
	}
	name := string(text)
	if len(name) > 64 {
		name = name[:64] + "…"
	}
	return fmt.Errorf("unknown signal %q: use success, start, fail or log", name)
}

// Beat is one signal of one heartbeat.
type Beat struct {
	Heartbeat   string
	Signal      Signal
	Sequence    uint64
	ScheduledAt time.Time
	// Message is a one-line human message.
	Message string
	// Log is longer output, such as a health check's output tail.
	Log []byte
	// RunID pairs a start with the success or fail that finishes it.
	RunID string
	// ExitCode is the checked command's exit status, when there is one.
	ExitCode *int
	// CheckLatency is how long the health check, or the job that
	// `heartbeat exec` wraps, ran; 0 when none ran.
	CheckLatency time.Duration
	// Attempt counts delivery attempts, from 1.
	Attempt int
	// Schedule is the heartbeat's schedule as written in the config file,
	// for targets that keep the tool's expected schedule in step with it.
	// It is zero for a beat that belongs to no schedule (a one-shot
	// `heartbeat exec`) and when the core predates the field.
	Schedule Schedule
}

// Schedule is when a heartbeat beats: a later.js frequency or a cron
// expression, exactly as written, read in Timezone.
type Schedule struct {
	// Frequency is later.js text such as "every 5 minutes"; "" when Cron
	// is set.
	Frequency string
	// Cron is a cron expression (5 fields, 6 with a leading seconds
	// field, or a descriptor such as @hourly); "" when Frequency is set.
	Cron string
	// Timezone is the IANA name the schedule is read in; "" means UTC.
	Timezone string
}

// IsZero reports whether s carries no schedule.
func (s Schedule) IsZero() bool { return s == Schedule{} }

// Result is what the monitoring tool answered.
type Result struct {
	// Detail is safe to log, e.g. "200 OK".
	Detail string
}
