// Command heartbeat sends periodic "I'm alive" signals to monitoring tools
// through target plugins. Run "heartbeat help" for the commands.
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/seed-e9b80cf6/heartbeat/core/check"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailed  = 1 // a beat was not delivered, or the daemon failed
	exitInvalid = 2 // bad usage, config or frequency
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == check.WrapperArg {
		os.Exit(check.RunWrapper(os.Args[2:], os.Stderr))
	}
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `heartbeat watches the watchers: it sends periodic "I'm alive" signals to
monitoring tools (Healthchecks.io, Uptime Kuma, any HTTP URL) through target
plugins.

Usage:
  heartbeat run      [flags]    run the daemon (stop with SIGINT or SIGTERM)
  heartbeat validate [flags]    check the config, its plugins and schedules
  heartbeat send     [flags] [--heartbeat NAME]
                                send one beat now to every target; exit 1 if any failed
  heartbeat next     [--from RFC3339] [-n COUNT] [--raw] [--cron] 'FREQUENCY'
                                print when a frequency fires, one UTC time per line
  heartbeat plugins  [flags]    list the plugins in the plugin directory
  heartbeat version  [--plugins]

Flags:
  --config PATH         config file (default: $HEARTBEAT_CONFIG, ./heartbeat.yaml,
                        /etc/heartbeat/heartbeat.yaml); a Butler SOS config works too
  --plugin-dir DIR      plugin directory (default: $HEARTBEAT_PLUGIN_DIR, the config's
                        plugin_dir, plugins/ next to the heartbeat binary)
  --log-level LEVEL     trace, debug, info, warn or error (default info)
  --log-format FORMAT   text or json (default text)

Documentation: docs/ in the source tree, starting with README.md.
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitInvalid
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		return cmdRun(ctx, rest, stdout, stderr)
	case "validate":
		return cmdValidate(ctx, rest, stdout, stderr)
	case "send":
		return cmdSend(ctx, rest, stdout, stderr)
	case "next":
		return cmdNext(rest, stdout, stderr)
	case "plugins":
		return cmdPlugins(ctx, rest, stdout, stderr)
	case "version", "--version", "-version":
		return cmdVersion(ctx, rest, stdout, stderr)
	case "help", "--help", "-help", "-h":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "heartbeat: unknown command %q\n\n%s", cmd, usage)
	return exitInvalid
}
