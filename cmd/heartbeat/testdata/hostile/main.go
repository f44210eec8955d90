// Command heartbeat-target-hostile is a test plugin that misbehaves on
// request, to show the core holds: it hangs in Configure, answers with huge
// details, floods its log, leaves orphans behind and allocates without
// bound. Its name is its file's (heartbeat-target-<name>), except that a
// file named heartbeat-target-misnamed says another name.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

func main() { sdk.Serve(target{}) }

type target struct{}

func (target) Info() sdk.Info {
	name := strings.TrimPrefix(filepath.Base(os.Args[0]), sdk.BinaryPrefix)
	if name == "misnamed" {
		name = "not-my-file"
	}
	return sdk.Info{Name: name, Version: "test", Description: "misbehaves on request", Signals: []sdk.Signal{sdk.SignalSuccess},
		Settings: []sdk.SettingInfo{
			{Name: "hang_configure"}, {Name: "hang_after_restart"}, {Name: "detail_bytes"},
			{Name: "flood"}, {Name: "orphan"}, {Name: "allocate"}, {Name: "spin"},
		}}
}

type settings struct {
	// HangConfigure blocks Configure for good.
	HangConfigure bool `json:"hang_configure"`
	// HangAfterRestart names a file: the first process creates it, later
	// processes (restarts) block in Configure.
	HangAfterRestart string `json:"hang_after_restart"`
	// DetailBytes makes each beat's Detail this long, with control
	// characters in it.
	DetailBytes int `json:"detail_bytes"`
	// Flood writes lines to stderr without end, through both of the
	// plugin's log paths.
	Flood bool `json:"flood"`
	// Orphan starts a process in a session of its own whose parent exits
	// at once; the process's command line holds this marker.
	Orphan string `json:"orphan"`
	// Allocate takes memory without bound from the first beat on.
	Allocate bool `json:"allocate"`
	// Spin burns CPU without end once configured.
	Spin bool `json:"spin"`
}

func (target) Configure(ctx context.Context, req sdk.ConfigureRequest) (sdk.Instance, error) {
	var s settings
	if err := req.Settings.Decode(&s); err != nil {
		return nil, err
	}
	if s.HangConfigure {
		select {}
	}
	if s.HangAfterRestart != "" {
		f, err := os.OpenFile(s.HangAfterRestart, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if errors.Is(err, os.ErrExist) {
			select {}
		}
		if err != nil {
			return nil, err
		}
		_ = f.Close()
	}
	if s.Flood {
		go flood()
	}
	if s.Orphan != "" {
		cmd := exec.Command("sh", "-c", "sh -c 'sleep 300; echo "+s.Orphan+"' & exit 0")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := cmd.Run(); err != nil {
			return nil, err
		}
	}
	if s.Spin {
		go spin()
	}
	return instance{detail: s.DetailBytes, allocate: s.Allocate, once: &sync.Once{}}, nil
}

func flood() {
	raw := os.NewFile(2, "stderr") // go-plugin's log path; os.Stderr is the other
	line := strings.Repeat("flood ", 20) + "\n"
	for i := 0; ; i++ {
		fmt.Fprintf(os.Stderr, "%d %s", i, line)
		fmt.Fprintf(raw, "[WARN] %d %s", i, line)
	}
}

// allocate takes memory until something stops it, or up to 1 GiB, where it
// stops so a test without limits cannot take the machine down.
func allocate() {
	var keep [][]byte
	for len(keep) < 128 {
		b := make([]byte, 8<<20)
		for i := range b {
			b[i] = byte(i)
		}
		keep = append(keep, b)
		time.Sleep(time.Millisecond)
	}
	select {}
}

func spin() {
	for x := 0; ; x++ {
		_ = x * x
	}
}

type instance struct {
	detail   int
	allocate bool
	once     *sync.Once
}

func (instance) Describe() string { return "hostile" }

func (i instance) Beat(context.Context, sdk.Beat) (sdk.Result, error) {
	if i.allocate {
		i.once.Do(func() { go allocate() })
	}
	if i.detail > 0 {
		const piece = "x\n\x1b[31m"
		return sdk.Result{Detail: strings.Repeat(piece, i.detail/len(piece)+1)[:i.detail]}, nil
	}
	return sdk.Result{Detail: "ok"}, nil
}
