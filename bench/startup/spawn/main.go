// Command spawn is bench/startup's reference: go-plugin's own
// spawn-and-handshake of a target plugin, with the handshake, plugin set
// name, protocol (gRPC) and AutoMTLS heartbeat uses, and nothing else. It
// starts the plugin binary given as its argument, completes Client(),
// dispenses the target client, calls Info once, and prints
//
//	spawn: info done in <nanoseconds> ns (plugin <name>)
//
// measured from the start of main; then it stops the plugin.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	targetv1 "github.com/seed-e9b80cf6/heartbeat/plugins/sdk/proto/heartbeat/target/v1"
)

// infoPlugin is the host side of the target contract, reduced to the
// generated gRPC client.
type infoPlugin struct {
	plugin.NetRPCUnsupportedPlugin
}

func (infoPlugin) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error {
	return fmt.Errorf("host only")
}

func (infoPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return targetv1.NewTargetServiceClient(c), nil
}

func main() {
	start := time.Now()
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: spawn PLUGIN-BINARY")
		os.Exit(2)
	}
	name, err := spawn(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "spawn:", err)
		os.Exit(1)
	}
	fmt.Printf("spawn: info done in %d ns (plugin %s)\n", time.Since(start).Nanoseconds(), name)
}

func spawn(path string) (string, error) {
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake(),
		VersionedPlugins: map[int]plugin.PluginSet{sdk.ProtocolVersion: {sdk.PluginName: infoPlugin{}}},
		Cmd:              exec.Command(path),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		Logger:           hclog.NewNullLogger(),
		StartTimeout:     time.Minute,
		SyncStdout:       io.Discard,
		SyncStderr:       io.Discard,
	})
	defer client.Kill()
	rpc, err := client.Client()
	if err != nil {
		return "", fmt.Errorf("starting %s: %w", path, err)
	}
	raw, err := rpc.Dispense(sdk.PluginName)
	if err != nil {
		return "", fmt.Errorf("dispense: %w", err)
	}
	target, ok := raw.(targetv1.TargetServiceClient)
	if !ok {
		return "", fmt.Errorf("dispense: got %T", raw)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	info, err := target.Info(ctx, &targetv1.InfoRequest{})
	if err != nil {
		return "", fmt.Errorf("info: %w", err)
	}
	return info.GetName(), nil
}
