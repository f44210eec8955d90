// Command heartbeat-target-spawner is a test plugin that starts a child
// process when configured, to show that a plugin's children end with it.
package main

import (
	"context"
	"os/exec"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

func main() { sdk.Serve(target{}) }

type target struct{}

func (target) Info() sdk.Info {
	return sdk.Info{Name: "spawner", Version: "test", Signals: []sdk.Signal{sdk.SignalSuccess},
		Settings: []sdk.SettingInfo{{Name: "marker"}}}
}

type settings struct {
	Marker string `json:"marker"`
}

func (target) Configure(_ context.Context, req sdk.ConfigureRequest) (sdk.Instance, error) {
	var s settings
	if err := req.Settings.Decode(&s); err != nil {
		return nil, err
	}
	// A child that would outlive the plugin if nothing ended it.
	cmd := exec.Command("sh", "-c", "sleep 120; echo "+s.Marker)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return instance{}, nil
}

type instance struct{}

func (instance) Describe() string { return "spawner" }

func (instance) Beat(context.Context, sdk.Beat) (sdk.Result, error) {
	return sdk.Result{Detail: "ok"}, nil
}
