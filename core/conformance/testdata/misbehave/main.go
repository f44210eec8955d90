// Command misbehave is a target plugin that breaks one rule of the
// contract, chosen when it is built (-ldflags "-X main.mode=..."), so the
// conformance suite can be seen failing the matching check:
//
//	stdout:       prints to stdout while configured
//	stdout-early: prints to stdout before serving
//	rawstdout:    writes to file descriptor 1 while configured, past
//	              go-plugin's redirection, as a plugin in another language would
//	misnamed:     its Info.Name is not its file's name
//	leak:         shows its secret token in Describe
//	logleak:      logs its secret token
//	hang:         never returns from Beat
//	crash:        exits when configured
//	flood:        writes to stdout and stderr without end
//	good:         breaks nothing
package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

var mode = "good"

func main() {
	if mode == "stdout-early" {
		fmt.Println("starting up")
	}

	sdk.Serve(target{})
}

type target struct{}

func (target) Info() sdk.Info {
	name := mode
	if mode == "misnamed" {
		name = "another-name"
	}
	return sdk.Info{
		Name:        name,
		Version:     "0.0.1",
		Description: "breaks one rule of the plugin contract: " + mode,
		Signals:     []sdk.Signal{sdk.SignalSuccess},
		Settings: []sdk.SettingInfo{
			{Name: "token", Type: "string", Secret: true, Description: "a secret"},
			{Name: "count", Type: "int", Description: "a number"},
		},
	}
}

type settings struct {
	Token string `json:"token"`
	Count int    `json:"count"`
}

func (target) Configure(_ context.Context, req sdk.ConfigureRequest) (sdk.Instance, error) {
	var s settings
	if err := req.Settings.Decode(&s); err != nil {
		return nil, err
	}
	if mode == "stdout" {
		fmt.Println("configured", req.Instance)
	}
	if mode == "rawstdout" {
		fmt.Fprintln(os.NewFile(1, "stdout"), "raw configured", req.Instance)
	}
	if mode == "flood" {
		floodOnce.Do(func() { go flood() })
	}
	if mode == "crash" {
		os.Exit(3)
	}
	if mode == "logleak" && req.Logger != nil {
		req.Logger.Info("configured", "token", s.Token)
	}
	return instance{token: s.Token}, nil
}

type instance struct{ token string }

func (i instance) Describe() string {
	if mode == "leak" {
		return "token " + i.token
	}
	return "token " + sdk.RedactSecret(i.token)
}

func (instance) Beat(ctx context.Context, _ sdk.Beat) (sdk.Result, error) {
	if mode == "hang" {
		time.Sleep(time.Hour)
	}
	return sdk.Result{Detail: "ok"}, nil
}

var floodOnce sync.Once

// flood writes long lines to stdout and stderr as fast as it can.
func flood() {
	line := strings.Repeat("flood ", 2000) + "\n"
	for {
		fmt.Fprint(os.Stdout, line)
		fmt.Fprint(os.Stderr, line)
	}
}
