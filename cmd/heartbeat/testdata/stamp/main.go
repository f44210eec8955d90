// Command heartbeat-target-stamp is a custom plugin for tests: it appends
// one line per beat, with its own version, to a file.
package main

import (
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

func main() { sdk.Serve(stamp{}) }

type stamp struct{}

func (stamp) Info() sdk.Info {
	return sdk.Info{
		Name:        "stamp",
		Version:     sdk.Version(),
		Description: "appends a line with its version per beat",
		Signals:     []sdk.Signal{sdk.SignalSuccess},
		Settings:    []sdk.SettingInfo{{Name: "path", Type: "path", Required: true, Description: "file to append to"}},
	}
}

type settings struct {
	Path string `json:"path" heartbeat:"required"`
}

func (stamp) Configure(_ context.Context, req sdk.ConfigureRequest) (sdk.Instance, error) {
	var s settings
	if err := req.Settings.Decode(&s); err != nil {
		return nil, err
	}
	return &instance{path: s.Path}, nil
}

type instance struct {
	mu   sync.Mutex
	path string
}

func (i *instance) Describe() string { return "stamp " + i.path }

func (i *instance) Beat(_ context.Context, b sdk.Beat) (sdk.Result, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	f, err := os.OpenFile(i.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return sdk.Result{}, err
	}
	defer f.Close()
	if _, err := fmt.Fprintf(f, "%s %s #%d\n", sdk.Version(), b.Heartbeat, b.Sequence); err != nil {
		return sdk.Result{}, err
	}
	return sdk.Result{Detail: "stamped"}, nil
}
