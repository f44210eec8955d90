// Package sdktest runs a target in-process behind the real gRPC contract,
// so a plugin's tests exercise the same path the core uses.
//
// It also checks, as subtests, what every HTTP target must do: keep its
// secrets through redirects (RunRedirects), survive misbehaving servers
// (RunHostile), honour ca_file and insecure_skip_verify (RunTLS),
// document its settings (CheckInfo), and fail with the right kind and a
// bounded message (CheckOutcome).
//
// It is quiet: go-plugin's debug lines are printed only when the
// environment variable HEARTBEAT_SDKTEST_VERBOSE is set to 1 (or true).
package sdktest

import (
	"context"
	"net"
	"os"
	"strconv"
	"testing"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// VerboseEnv names the environment variable that turns go-plugin's debug
// lines on.
const VerboseEnv = "HEARTBEAT_SDKTEST_VERBOSE"

// Dial serves target over an in-process gRPC connection and returns the
// host's client for it. Everything is closed when the test ends.
func Dial(t testing.TB, target sdk.Target) sdk.Client {
	t.Helper()
	if verbose, _ := strconv.ParseBool(os.Getenv(VerboseEnv)); verbose {
		return dialGoPlugin(t, target)
	}
	return dialQuiet(t, target)
}

// dialGoPlugin uses go-plugin's own test harness, which logs at debug level
// to stderr.
func dialGoPlugin(t testing.TB, target sdk.Target) sdk.Client {
	t.Helper()
	client, _ := plugin.TestPluginGRPCConn(t, false, sdk.TestPluginSet(target))
	t.Cleanup(func() { _ = client.Close() })
	raw, err := client.Dispense(sdk.PluginName)
	if err != nil {
		t.Fatalf("dispense %s: %v", sdk.PluginName, err)
	}
	c, ok := raw.(sdk.Client)
	if !ok {
		t.Fatalf("dispensed %T, want sdk.Client", raw)
	}
	return c
}

// dialQuiet registers the same plugin glue on a gRPC server of its own,
// over an in-memory listener, with no logger.
func dialQuiet(t testing.TB, target sdk.Target) sdk.Client {
	t.Helper()
	glue, ok := sdk.TestPluginSet(target)[sdk.PluginName].(plugin.GRPCPlugin)
	if !ok {
		t.Fatalf("plugin %s does not speak gRPC", sdk.PluginName)
	}
	ln := bufconn.Listen(1 << 20)
	server := grpc.NewServer()
	if err := glue.GRPCServer(nil, server); err != nil {
		t.Fatalf("serve %s: %v", sdk.PluginName, err)
	}
	go func() { _ = server.Serve(ln) }()
	conn, err := grpc.NewClient("passthrough:///sdktest",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return ln.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		server.Stop()
		t.Fatalf("dial %s: %v", sdk.PluginName, err)
	}
	t.Cleanup(func() {
		_ = conn.Close()
		server.Stop()
	})
	raw, err := glue.GRPCClient(context.Background(), nil, conn)
	if err != nil {
		t.Fatalf("client %s: %v", sdk.PluginName, err)
	}
	c, ok := raw.(sdk.Client)
	if !ok {
		t.Fatalf("client is %T, want sdk.Client", raw)
	}
	return c
}
