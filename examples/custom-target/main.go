// Command heartbeat-target-file is a complete custom target plugin, built
// outside the heartbeat module: it appends one line per beat to a file.
// Build it, drop it into heartbeat's plugin directory, and use it as
//
//	targets:
//	  journal:
//	    plugin: file
//	    config: { path: /var/log/heartbeats.log }
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

func main() { sdk.Serve(fileTarget{}) }

type fileTarget struct{}

func (fileTarget) Info() sdk.Info {
	return sdk.Info{
		Name:        "file",
		Version:     "0.1.0",
		Description: "appends one line per beat to a file",
		Signals:     []sdk.Signal{sdk.SignalSuccess, sdk.SignalFail},
		Settings: []sdk.SettingInfo{
			{Name: "path", Type: "path", Required: true, Description: "file to append to"},
		},
	}
}

type settings struct {
	Path string `json:"path" heartbeat:"required"`
}

// Validate checks what the types cannot; Decode calls it and reports its
// errors together with unknown settings, wrong types and missing ones.
func (s *settings) Validate() error {
	var errs sdk.FieldErrors
	if s.Path != "" && !filepath.IsAbs(s.Path) {
		errs.Add("path", "must be an absolute path, not %q", s.Path)
	}
	return errs.Err()
}

func (fileTarget) Configure(_ context.Context, req sdk.ConfigureRequest) (sdk.Instance, error) {
	var s settings
	if err := req.Settings.Decode(&s); err != nil {
		return nil, err // every invalid setting at once
	}
	return &fileInstance{path: s.Path}, nil
}

type fileInstance struct {
	mu   sync.Mutex
	path string
}

func (f *fileInstance) Describe() string { return "append to " + f.path }

func (f *fileInstance) Beat(_ context.Context, b sdk.Beat) (sdk.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	file, err := os.OpenFile(f.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return sdk.Result{}, fmt.Errorf("open %s: %w", f.path, err)
	}
	defer file.Close()
	line := fmt.Sprintf("%s %s %s #%d\n", b.ScheduledAt.UTC().Format(time.RFC3339), b.Heartbeat, b.Signal, b.Sequence)
	if _, err := file.WriteString(line); err != nil {
		return sdk.Result{}, fmt.Errorf("write %s: %w", f.path, err)
	}
	return sdk.Result{Detail: "appended"}, nil
}
