package sdk

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
)

// LogLevelEnv is the environment variable through which the core passes its
// log level to plugins, so plugins do not produce lines the core would drop.
const LogLevelEnv = "HEARTBEAT_PLUGIN_LOG_LEVEL"

// parentPollInterval bounds how long a plugin outlives a core that died
// without stopping it (SIGKILL, crash).
const parentPollInterval = 250 * time.Millisecond

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
	go exitWhenOrphaned(logger, os.Getppid())
	go exitOnTerminate(logger)
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
// go-plugin alone leaves plugins running when the core is killed.
func exitWhenOrphaned(logger hclog.Logger, parent int) {
	for range time.Tick(parentPollInterval) {
		if os.Getppid() != parent {
			logger.Warn("the heartbeat core that started this plugin is gone; exiting")
			endProcessGroup()
			os.Exit(0)
		}
	}
}
