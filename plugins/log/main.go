// Command heartbeat-target-log writes each beat to heartbeat's log. It needs
// no monitoring tool, which makes it the target of the bundled example and
// a handy way to watch a schedule.
package main

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

func main() { sdk.Serve(target{}) }

type target struct{}

func (target) Info() sdk.Info {
	return sdk.Info{
		Name:        "log",
		Version:     sdk.Version(),
		Description: "writes each beat to heartbeat's log; needs no monitoring tool",
		Signals:     []sdk.Signal{sdk.SignalSuccess, sdk.SignalStart, sdk.SignalFail, sdk.SignalLog},
		Settings: []sdk.SettingInfo{
			{Name: "level", Type: "string", Default: "info", Description: "Log level of the beat lines: `trace`, `debug`, `info`, `warn` or `error`, in any case."},
		},
	}
}

type settings struct {
	Level string `json:"level"`
}

// level is the log level of the beat lines, info when not set.
func (s settings) level() hclog.Level {
	if s.Level == "" {
		return hclog.Info
	}
	return hclog.LevelFromString(s.Level)
}

// Validate is called by Decode, so a bad level comes back together with
// every other invalid setting.
func (s settings) Validate() error {
	if l := s.level(); l == hclog.NoLevel || l == hclog.Off {
		return sdk.FieldError{Field: "level", Message: fmt.Sprintf("%q is not a log level; use trace, debug, info, warn or error", s.Level)}
	}
	return nil
}

func (target) Configure(_ context.Context, req sdk.ConfigureRequest) (sdk.Instance, error) {
	var s settings
	if err := req.Settings.Decode(&s); err != nil {
		return nil, err
	}
	return &instance{logger: req.Logger, level: s.level()}, nil
}

type instance struct {
	logger hclog.Logger
	level  hclog.Level
}

func (i *instance) Describe() string { return "log at " + i.level.String() }

func (i *instance) Beat(_ context.Context, b sdk.Beat) (sdk.Result, error) {
	// Keys in alphabetical order: the order the core shows a plugin's
	// fields in (docs/targets/log.md), so this line reads the same in the
	// plugin's own log and in heartbeat's.
	var args []any
	if b.CheckLatency > 0 {
		latency := b.CheckLatency
		if latency >= time.Millisecond {
			latency = latency.Round(time.Millisecond)
		}
		args = append(args, "check_latency", latency.String())
	}
	if b.ExitCode != nil {
		args = append(args, "exit_code", *b.ExitCode)
	}
	args = append(args, "heartbeat", b.Heartbeat)
	if b.Message != "" {
		args = append(args, "message", b.Message)
	}
	if b.RunID != "" {
		args = append(args, "run_id", b.RunID)
	}
	if !b.ScheduledAt.IsZero() {
		args = append(args, "scheduled_at", b.ScheduledAt.UTC().Format("2006-01-02T15:04:05.000Z07:00"))
	}
	args = append(args, "sequence", b.Sequence, "signal", b.Signal.String())
	i.logger.Log(i.level, "beat received", args...)
	return sdk.Result{Detail: "logged"}, nil
}
