package sdk

import (
	"context"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	targetv1 "github.com/seed-e9b80cf6/heartbeat/plugins/sdk/proto/heartbeat/target/v1"
)

// PluginName is the key both sides use in go-plugin's plugin set. For gRPC
// plugins go-plugin does not check that the two sides agree, so it is
// defined once, here.
const PluginName = "target"

// ProtocolVersion is the newest contract version this SDK speaks. A future
// incompatible contract becomes version 2 in PluginSets, and hosts keep
// serving version 1 plugins.
const ProtocolVersion = 1

// BinaryPrefix starts the file name of every target plugin.
const BinaryPrefix = "heartbeat-target-"

// Handshake returns the go-plugin handshake shared by the core and plugins.
// The magic cookie only keeps a plugin from being run by accident.
func Handshake() plugin.HandshakeConfig {
	return plugin.HandshakeConfig{
		ProtocolVersion:  ProtocolVersion,
		MagicCookieKey:   "HEARTBEAT_PLUGIN_MAGIC_COOKIE",
		MagicCookieValue: "f0b4d6a2c1e84e3b9a7d5c3e1f2a4b6c8d0e2f4a6b8c0d2e",
	}
}

// HostPluginSets returns the versioned plugin sets a host offers; after
// Dispense(PluginName) the value is a Client.
func HostPluginSets() map[int]plugin.PluginSet {
	return pluginSets(nil, nil)
}

func pluginSets(impl Target, logger hclog.Logger) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{
		1: {PluginName: &grpcPlugin{impl: impl, logger: logger}},
	}
}

// grpcPlugin is the go-plugin glue for the target contract, gRPC only.
type grpcPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	impl   Target
	logger hclog.Logger
}

func (p *grpcPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	targetv1.RegisterTargetServiceServer(s, newServer(p.impl, p.logger))
	return nil
}

func (p *grpcPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return NewClient(targetv1.NewTargetServiceClient(c)), nil
}

// TestPluginSet returns the newest plugin set serving impl, for in-process
// tests (see package sdktest).
func TestPluginSet(impl Target) plugin.PluginSet {
	return pluginSets(impl, hclog.NewNullLogger())[ProtocolVersion]
}
