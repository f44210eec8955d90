// Command heartbeat-target-stdoutfirst is a test plugin that makes a
// common mistake: it prints to stdout before sdk.Serve, where go-plugin
// expects its handshake line.
package main

import (
	"context"
	"fmt"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

func main() {
	fmt.Println("starting the stdoutfirst target")
	sdk.Serve(target{})
}

type target struct{}

func (target) Info() sdk.Info {
	return sdk.Info{Name: "stdoutfirst", Version: "0.0.1", Signals: []sdk.Signal{sdk.SignalSuccess}}
}

func (target) Configure(context.Context, sdk.ConfigureRequest) (sdk.Instance, error) {
	return instance{}, nil
}

type instance struct{}

func (instance) Describe() string { return "nothing" }

func (instance) Beat(context.Context, sdk.Beat) (sdk.Result, error) { return sdk.Result{}, nil }
