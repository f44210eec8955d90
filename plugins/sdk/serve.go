package sdk

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/heapgoal"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/memtrim"
)

// LogLevelEnv is the environment variable through which the core passes its
// log level to plugins, so plugins do not produce lines the core would drop.
const LogLevelEnv = "HEARTBEAT_PLUGIN_LOG_LEVEL"

// Serve runs t as a plugin process and never returns. Call it from main.
// Nothing may be written to stdout before Serve: go-plugin's handshake uses it.
func Serve(t Target) {
	os.Exit(serve(t, os.Args, os.Stderr))
}

func serve(t Target, args []string, stderr io.Writer) int {
	handshake := Handshake()
	info := t.Info()
	if os.Getenv(handshake.MagicCookieKey) != handshake.MagicCookieValue {
		return runByHand(info, args, stderr)
	}
	logger := hclog.New(&hclog.LoggerOptions{
		Level:      hclog.LevelFromString(os.Getenv(LogLevelEnv)),
		Output:     os.Stderr,
		JSONFormat: true,
	})
	if logger.GetLevel() == hclog.NoLevel {
		logger.SetLevel(hclog.Info)
	}
	exitWhenOrphaned(logger, os.Getppid())
	go exitOnTerminate(logger)
	// Once, when the handshake and the first Configure calls are over.
	time.AfterFunc(memtrim.AfterStartup, func() { _, _ = memtrim.TrimStartup() })
	// Garbage between collections: 16 MB while the heap is small, a
	// quarter of it once thousands of instances make it large.
	heapgoal.Start()
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  handshake,
		VersionedPlugins: pluginSets(t, logger),
		GRPCServer:       plugin.DefaultGRPCServer,
		Logger:           logger,
	})
	return 0
}

// runByHand explains what the binary is instead of go-plugin's terse refusal.
func runByHand(info Info, args []string, stderr io.Writer) int {
	name := BinaryPrefix + info.Name
	if len(args) > 0 {
		name = filepath.Base(args[0])
	}
	if len(args) > 1 && (args[1] == "--version" || args[1] == "-version" || args[1] == "version") {
		fmt.Fprintf(stderr, "%s %s\n", name, info.Version)
		return 0
	}
	fmt.Fprintf(stderr, `%s is a heartbeat target plugin (%s %s): %s

It is not meant to be run by hand. The heartbeat daemon starts it: put this
file in the plugin directory and use it in the config file, for example

  targets:
    my-target:
      plugin: %s
      config: { ... }

Then run "heartbeat plugins" to list the plugins heartbeat can see, and
"heartbeat validate" to check the config.
`, name, info.Name, info.Version, info.Description, info.Name)
	return 1
}

// exitWhenOrphaned ends the plugin when the core that started it is gone:
// go-plugin alone leaves plugins running when the core is killed. It waits
// for the core's exit as an event where the system allows (see
// watchParent), so an idle plugin does not wake up to check.
func exitWhenOrphaned(logger hclog.Logger, parent int) {
	how := watchParent(parent, func() {
		// The core read our stderr: with it gone, a log line would kill
		// the plugin by SIGPIPE before it ends its processes.
		signal.Ignore(syscall.SIGPIPE)
		logger.Warn("the heartbeat core that started this plugin is gone; exiting")
		endProcessGroup()
		os.Exit(0)
	})
	logger.Trace("watching the heartbeat core for its exit", "pid", parent, "by", how)
}
