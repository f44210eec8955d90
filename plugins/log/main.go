// Command heartbeat-target-log writes each beat to heartbeat's log. It needs
// no monitoring tool, which makes it the target of the bundled example and
// a handy way to watch a schedule.
package main

import (
	"context"
	"fmt"

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
			{Name: "level", Type: "string", Default: "info", Description: "log level of the beat lines: trace, debug, info, warn or error"},
		},
	}
}

type settings struct {
	Level string `json:"level"`
}

func (target) Configure(_ context.Context, req sdk.ConfigureRequest) (sdk.Instance, error) {
	var s settings
	if err := req.Settings.Decode(&s); err != nil {
		return nil, err
	}
	level := hclog.Info
	if s.Level != "" {
		level = hclog.LevelFromString(s.Level)
		if level == hclog.NoLevel || level == hclog.Off {
			return nil, sdk.FieldError{Field: "level", Message: fmt.Sprintf("%q is not a log level; use trace, debug, info, warn or error", s.Level)}
		}
	}
	return &instance{logger: req.Logger, level: level}, nil
}

type instance struct {
	logger hclog.Logger
	level  hclog.Level
}

func (i *instance) Describe() string { return "log at " + i.level.String() }

func (i *instance) Beat(_ context.Context, b sdk.Beat) (sdk.Result, error) {
	args := []any{"heartbeat", b.Heartbeat, "signal", b.Signal.String(), "sequence", b.Sequence}
	if !b.ScheduledAt.IsZero() {
		args = append(args, "scheduled_at", b.ScheduledAt.UTC().Format("2006-01-02T15:04:05.000Z07:00"))
	}
	if b.Message != "" {
		args = append(args, "message", b.Message)
	}
	if b.RunID != "" {
		args = append(args, "run_id", b.RunID)
	}
	if b.ExitCode != nil {
		args = append(args, "exit_code", *b.ExitCode)
	}
	if b.CheckLatency > 0 {
		args = append(args, "check_latency", b.CheckLatency.String())
	}
	i.logger.Log(i.level, "beat received", args...)
	return sdk.Result{Detail: "logged"}, nil
}
