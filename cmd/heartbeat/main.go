// Command heartbeat sends periodic "I'm alive" signals to monitoring tools
// through target plugins. Run "heartbeat help" for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/core/check"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
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
	// Started by the Windows service manager: run under it (service_windows.go).
	if code, ok := runService(os.Args[1:]); ok {
		os.Exit(code)
	}
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// command is one heartbeat command. The usage text, each command's help,
// shell completion and the man page are all generated from commands() and
// from the flag set each command parses (flagSet), so none of them can
// list a command or a flag the program does not have.
type command struct {
	name string
	// args is the positional part of the synopsis ("'FREQUENCY'").
	args             string
	minArgs, maxArgs int
	// argValues are the allowed positional values, for completion.
	argValues []string
	// extraArgsFix is added to the error for an unexpected argument.
	extraArgsFix string
	summary      string
	// about says what the command does, in paragraphs separated by "\n\n".
	about    string
	examples []string
	// runsCommand: the arguments after "--" are a command for it to run,
	// not its own.
	runsCommand bool
	// flagSet returns the command's flags: the same function the command
	// parses its arguments with.
	flagSet func(stderr io.Writer) *flag.FlagSet
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

// commands lists every command, in the order help shows them.
func commands() []command {
	return []command{
		{
			name:    "run",
			summary: "run the daemon: a beat at start-up, then on schedule",
			about: "Starts the target plugins the config uses, configures every target, sends one beat per heartbeat at start-up and then one each time its frequency fires. " +
				"SIGHUP reloads the config (an invalid one is rejected and the running one stays in force); SIGINT or SIGTERM stop it after the beats in flight (exit 0); a second signal exits at once (exit 1). " +
				"A health check still running at shutdown is cut and nothing is sent for that beat.\n\n" +
				"With --dry-run it starts and configures the plugins (which validates every target's settings), prints for each heartbeat its next fire times and what each beat would send to which target, then stops the plugins and exits 0: nothing is sent, no health check runs, the metrics endpoint is not opened.",
			examples: []string{"heartbeat run --config /etc/heartbeat/heartbeat.yaml", "heartbeat run --dry-run --config heartbeat.yaml"},
			flagSet:  func(w io.Writer) *flag.FlagSet { fs, _, _ := runFlags(w); return fs },
			run:      cmdRun,
		},
		{
			name:    "validate",
			summary: "check the config, its plugins and their settings, and the schedules",
			about: "Loads the config, starts its plugins and has them check every target's settings, then prints the targets and heartbeats with each heartbeat's next fire time. " +
				"Errors are printed as file:line:column with a fix (exit 2); warnings (a frequency that may not mean what it says, a target no heartbeat uses) do not fail it. Nothing is sent.",
			examples: []string{"heartbeat validate --config heartbeat.yaml"},
			flagSet:  func(w io.Writer) *flag.FlagSet { fs, _ := newFlagSet("validate", w); return fs },
			run:      cmdValidate,
		},
		{
			name:         "exec",
			args:         "-- COMMAND [ARGS...]",
			runsCommand:  true,
			extraArgsFix: "put -- before the command to run",
			summary:      "run a job and report its start, outcome and output to monitoring tools",
			about: "Runs COMMAND once and reports it: a start signal with a fresh run id, then success or fail by its exit status, with its duration, the exit code and the tail of its output, paired with the start by the run id. " +
				"The job's output still reaches the terminal or journal live; SIGINT, SIGTERM, SIGHUP and SIGQUIT are forwarded to its process group, and the outcome is still reported. " +
				"heartbeat exits with the job's status (128+N when signal N killed it, 127 or 126 when it could not be started); a monitoring tool that cannot be reached changes nothing but a line on stderr, unless --report-failure-exit-code is given.\n\n" +
				"Where to report: --url (a Healthchecks ping URL, an Uptime Kuma push URL or any other URL, recognised by its shape; no config needed), --uuid or --slug with --ping-key as runitor takes them, or --target and --heartbeat from the config. " +
				"Without any of those, $HEARTBEAT_URL, then runitor's $CHECK_UUID, $CHECK_SLUG, $PING_KEY and $HC_API_URL; a value of the form file:PATH is read from that file.\n\n" +
				"With --every or --cron the job runs periodically, never two runs at once, and SIGALRM runs it at once. See docs/exec.md for every flag, runitor's equivalents and recipes for cron, systemd and Kubernetes.",
			examples: []string{
				"heartbeat exec --url https://hc-ping.com/<uuid> -- /usr/local/bin/backup.sh",
				"heartbeat exec --config /etc/heartbeat/heartbeat.yaml --target hc --target kuma --timeout 1h -- pg_dump -f /backups/db.sql db",
				"heartbeat exec --every 'every 15 minutes' --lock /run/lock/sync.lock --url \"$KUMA_PUSH_URL\" -- ./sync.sh",
			},
			flagSet: func(w io.Writer) *flag.FlagSet { fs, _ := execFlags(w); return fs },
			run:     cmdExec,
		},
		{
			name:         "send",
			summary:      "send one beat now to every target; exit 1 if any failed",
			extraArgsFix: "to send one heartbeat only, write --heartbeat NAME",
			about: "Sends one beat of every enabled heartbeat (or of the one named by --heartbeat) to each of its targets, health checks included, and prints one line per target and signal: ok, FAIL or skip. " +
				"Exit 1 if any beat was not delivered.\n\n" +
				"With --dry-run it starts and configures the plugins, then prints what each beat would send (the signals, each target's redacted description and its plugin) without sending anything or running a health check.",
			examples: []string{"heartbeat send --config heartbeat.yaml", "heartbeat send --config heartbeat.yaml --heartbeat butler-sos --dry-run"},
			flagSet:  func(w io.Writer) *flag.FlagSet { fs, _, _, _ := sendFlags(w); return fs },
			run:      cmdSend,
		},
		{
			name:    "next",
			args:    "'FREQUENCY'",
			minArgs: 1, maxArgs: 1,
			summary: "print when a frequency fires, one UTC time per line",
			about: "Prints the next fire times of a frequency in later.js text (or cron with --cron), as the daemon computes them, one RFC 3339 time in UTC per line. " +
				"A frequency that never fires is an error (exit 2). Give the frequency as one argument: quote it.",
			examples: []string{"heartbeat next 'every 2 hours'", "heartbeat next -n 3 --from 2026-01-01T00:00:00Z 'at 10:15 am'", "heartbeat next --cron '*/5 * * * *'"},
			flagSet:  func(w io.Writer) *flag.FlagSet { fs, _ := nextFlags(w); return fs },
			run: func(_ context.Context, args []string, stdout, stderr io.Writer) int {
				return cmdNext(args, stdout, stderr)
			},
		},
		{
			name:    "status",
			summary: "print what the running daemon did: state, next and last beat per target",
			about: "Asks the running daemon (its listen: address, from the config or --listen) for its status and prints one line per heartbeat and target: the heartbeat's state (ok, FAILING, degraded, pending), its next beat, and the last beat of each target with its result and the tool's answer; then the plugins that are not running. " +
				"Colour is used only on a terminal, and never with --no-color or $NO_COLOR. With --json it prints the status document as the daemon sent it.\n\n" +
				"Exit 0 when no heartbeat is failing, 1 when a heartbeat's last beat failed at every target (or its check failed), 2 for a usage or config error (also when the daemon refuses the credentials), 3 when the status cannot be had: the daemon is not running, does not answer within --timeout, or is not heartbeat. A browser shows the same at /status.",
			examples: []string{"heartbeat status --config /etc/heartbeat/heartbeat.yaml", "heartbeat status --listen 127.0.0.1:9464 --json"},
			flagSet:  func(w io.Writer) *flag.FlagSet { fs, _ := statusFlags(w); return fs },
			run:      cmdStatus,
		},
		{
			name:    "plugins",
			summary: "list the plugins on the plugin search path",
			about:   "Lists the target plugins found in the plugin directories (yours, then the bundled one) with their version, the signals they deliver, a description and the file each name resolves to; a file hidden by one of the same name in a directory searched earlier is listed as shadowed, and never run. With --sha256 also the checksum to pin them with in the config. A plugin that run would refuse (its permissions, a checksum that does not match its pin) is listed as refused, with the reason, and is not executed.",
			examples: []string{
				"heartbeat plugins --plugin-dir /usr/local/lib/heartbeat/plugins --sha256",
			},
			flagSet: func(w io.Writer) *flag.FlagSet { fs, _, _ := pluginsFlags(w); return fs },
			run:     cmdPlugins,
		},
		{
			name:    "plugins new",
			args:    "NAME",
			minArgs: 1, maxArgs: 1,
			summary:  "write a new target plugin module, ready to build and test",
			about:    "Writes a Go module for a target plugin called NAME: main.go, a target with one setting, a test using the SDK's test helper, a Makefile and a README. It builds and passes its test at once.",
			examples: []string{"heartbeat plugins new myservice --dir ./heartbeat-target-myservice"},
			flagSet:  func(w io.Writer) *flag.FlagSet { fs, _ := pluginsNewFlags(w); return fs },
			run:      cmdPluginsNew,
		},
		{
			name:    "plugins check",
			args:    "PATH",
			minArgs: 1, maxArgs: 1,
			summary:  "run the conformance suite on a plugin binary, in any language",
			about:    "Runs the plugin at PATH through the checks every target plugin must pass (handshake, stdout, Info, Configure's field errors, secrets, beats, deadlines, concurrency, exit when the core dies) and prints one line per check: PASS, FAIL, WARN or SKIP, with its name and why. Exit 1 if any check failed. With --settings it also delivers one real beat with them. The plugin is run only if run would run it: its file and directory must not be writable by others (unless --insecure), and the config's sha256 pin applies to the plugin directory's file of that name.",
			examples: []string{"heartbeat plugins check ./heartbeat-target-myservice", "heartbeat plugins check bin/plugins/heartbeat-target-http --settings '{\"url\": \"http://127.0.0.1:8080/ping\"}'"},
			flagSet:  func(w io.Writer) *flag.FlagSet { fs, _ := pluginsCheckFlags(w); return fs },
			run:      cmdPluginsCheck,
		},
		{
			name:    "plugins describe",
			args:    "NAME",
			minArgs: 1, maxArgs: 1,
			summary:  "print a plugin's settings and signals",
			about:    "Prints the settings a plugin takes (name, type, required, secret, default, description) and the signals it delivers.",
			examples: []string{"heartbeat plugins describe healthchecks"},
			flagSet:  func(w io.Writer) *flag.FlagSet { fs, _ := pluginsDescribeFlags(w); return fs },
			run:      cmdPluginsDescribe,
		},
		{
			name:      "service",
			args:      "install|uninstall|start|stop",
			minArgs:   1,
			maxArgs:   1,
			argValues: serviceActions(),
			summary:   "install, remove, start or stop heartbeat as a Windows service",
			about: "Windows only: install registers heartbeat with the service manager as the service heartbeat (or --name), started with Windows, running heartbeat run --config PATH (default " + systemConfigDisplay("windows") + "), restarted 5s after a crash but not after exit 2 (an invalid config), logging to the Windows event log; it must be run as an administrator. " +
				"uninstall stops the service and removes it; start and stop ask the service manager and wait, at most --timeout, until it runs or has stopped, and say why when it stopped with an error. " +
				"A stop finishes the beats in flight and stops the plugins, as SIGTERM does elsewhere.\n\n" +
				"On other systems it prints where the systemd unit or the launchd plist is, and exits 2. See docs/operations.md (Windows).",
			examples: []string{
				`heartbeat service install --config C:\ProgramData\heartbeat\heartbeat.yaml`,
				"heartbeat service start",
				"heartbeat service stop --timeout 2m",
			},
			flagSet: func(w io.Writer) *flag.FlagSet { fs, _ := serviceFlags(w); return fs },
			run:     cmdService,
		},
		{
			name:     "version",
			summary:  "print the version, commit and Go version",
			about:    "Prints heartbeat's version, the commit it was built from, the Go version and the platform; with --plugins also the plugins on the plugin search path, as plugins lists them.",
			examples: []string{"heartbeat version --plugins"},
			flagSet:  func(w io.Writer) *flag.FlagSet { fs, _, _ := versionFlags(w); return fs },
			run:      cmdVersion,
		},
		{
			name:      "completion",
			args:      "bash|zsh|fish",
			minArgs:   1,
			maxArgs:   1,
			argValues: shells(),
			summary:   "print a shell completion script",
			about:     "Prints the completion script for bash, zsh or fish. make install puts them where each shell finds them.",
			examples: []string{
				"heartbeat completion bash > /etc/bash_completion.d/heartbeat",
				"heartbeat completion zsh > \"${fpath[1]}/_heartbeat\"",
				"heartbeat completion fish > ~/.config/fish/completions/heartbeat.fish",
			},
			flagSet: func(w io.Writer) *flag.FlagSet { return newBareFlagSet("completion", w) },
			run:     cmdCompletion,
		},
		{
			name:     "man",
			summary:  "print the manual page (roff)",
			about:    "Prints heartbeat's manual page in roff, generated from the same command definitions as this help. make install puts it in share/man/man1.",
			examples: []string{"heartbeat man | man -l -"},
			flagSet:  func(w io.Writer) *flag.FlagSet { return newBareFlagSet("man", w) },
			run:      cmdMan,
		},
		{
			name:     "help",
			args:     "[COMMAND]",
			maxArgs:  1,
			summary:  "print this help, or a command's help",
			about:    "Without an argument prints the list of commands; with one, that command's help, as `heartbeat COMMAND --help` does.",
			examples: []string{"heartbeat help send"},
			flagSet:  func(w io.Writer) *flag.FlagSet { return newBareFlagSet("help", w) },
			run:      cmdHelp,
		},
	}
}

func lookupCommand(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// commandNames lists the first words of the commands, each once: what may
// follow "heartbeat" ("plugins" stands for its subcommands too).
func commandNames() []string {
	var names []string
	for _, c := range commands() {
		if top, _, _ := strings.Cut(c.name, " "); !slices.Contains(names, top) {
			names = append(names, top)
		}
	}
	return names
}

// subcommandNames lists the second words of the commands under parent
// ("new", "check", "describe" for "plugins").
func subcommandNames(parent string) []string {
	var subs []string
	for _, c := range commands() {
		if top, sub, ok := strings.Cut(c.name, " "); ok && top == parent {
			subs = append(subs, sub)
		}
	}
	return subs
}

// runFlags defines run's flags.
func runFlags(stderr io.Writer) (*flag.FlagSet, *common, *bool) {
	fs, c := newFlagSet("run", stderr)
	return fs, c, fs.Bool("dry-run", false, "start and configure the plugins, print the next beats of each heartbeat and what they would send, send nothing, exit")
}

// sendFlags defines send's flags.
func sendFlags(stderr io.Writer) (*flag.FlagSet, *common, *string, *bool) {
	fs, c := newFlagSet("send", stderr)
	name := fs.String("heartbeat", "", "send only the heartbeat named `NAME`")
	return fs, c, name, fs.Bool("dry-run", false, "print what would be sent to which target, send nothing")
}

// pluginsFlags defines plugins' flags.
func pluginsFlags(stderr io.Writer) (*flag.FlagSet, *common, *bool) {
	fs, c := newFlagSet("plugins", stderr)
	return fs, c, fs.Bool("sha256", false, "also print each binary's SHA-256, to pin it in the config")
}

// versionFlags defines version's flags.
func versionFlags(stderr io.Writer) (*flag.FlagSet, *common, *bool) {
	fs, c := newFlagSet("version", stderr)
	return fs, c, fs.Bool("plugins", false, "also list the plugins and their versions")
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		writeUsage(stderr)
		return exitInvalid
	}
	name, rest := args[0], args[1:]
	// A command with subcommands ("plugins new") is one command per pair.
	if len(rest) > 0 {
		if _, ok := lookupCommand(name + " " + rest[0]); ok {
			name, rest = name+" "+rest[0], rest[1:]
		}
	}
	switch name {
	case "--help", "-help", "-h":
		name = "help"
	case "--version", "-version":
		name = "version"
	}
	cmd, ok := lookupCommand(name)
	if !ok {
		fmt.Fprintf(stderr, "heartbeat: unknown command %q\n\n", name)
		writeUsage(stderr)
		return exitInvalid
	}
	// Every command's arguments are checked here, against the same flag
	// set the command parses them with: --help prints its help, an unknown
	// flag or a stray argument is a usage error before anything runs.
	fs := cmd.flagSet(stderr)
	flagArgs := rest
	if cmd.runsCommand {
		flagArgs, _, _ = cutCommand(rest)
	}
	positional, err := parseFlags(fs, flagArgs)
	switch {
	case errors.Is(err, flag.ErrHelp):
		writeHelp(stdout, cmd)
		return exitOK
	case err != nil:
		fmt.Fprintf(stderr, "run 'heartbeat %s --help' for its flags\n", cmd.name)
		return exitInvalid
	case len(positional) > cmd.maxArgs:
		extra := positional[cmd.maxArgs:]
		msg := fmt.Sprintf("heartbeat %s: unexpected argument %q", cmd.name, extra[0])
		if cmd.maxArgs == 0 && !cmd.runsCommand {
			msg += ": " + cmd.name + " takes no arguments, only flags"
		}
		if cmd.extraArgsFix != "" {
			msg += "; " + cmd.extraArgsFix
		}
		fmt.Fprintf(stderr, "%s\nusage: %s\nrun 'heartbeat %s --help' for more\n", msg, synopsis(cmd), cmd.name)
		return exitInvalid
	case len(positional) < cmd.minArgs:
		fmt.Fprintf(stderr, "heartbeat %s: missing %s\nusage: %s\nrun 'heartbeat %s --help' for more\n", cmd.name, cmd.args, synopsis(cmd), cmd.name)
		return exitInvalid
	case len(cmd.argValues) > 0 && len(positional) > 0 && !slices.Contains(cmd.argValues, positional[0]):
		fmt.Fprintf(stderr, "heartbeat %s: %q is not one of %s\nusage: %s\n", cmd.name, positional[0], strings.Join(cmd.argValues, ", "), synopsis(cmd))
		return exitInvalid
	}
	return cmd.run(ctx, rest, stdout, stderr)
}

func cmdHelp(_ context.Context, args []string, stdout, stderr io.Writer) int {
	positional, _ := parseFlags(newBareFlagSet("help", io.Discard), args)
	if len(positional) == 0 {
		writeUsage(stdout)
		return exitOK
	}
	cmd, ok := lookupCommand(positional[0])
	if !ok {
		fmt.Fprintf(stderr, "heartbeat help: unknown command %q (commands: %s)\n", positional[0], strings.Join(commandNames(), ", "))
		return exitInvalid
	}
	writeHelp(stdout, cmd)
	return exitOK
}

const intro = `heartbeat watches the watchers: it sends periodic "I'm alive" signals to
monitoring tools (Healthchecks.io, Uptime Kuma, any HTTP URL) through target
plugins.`

// writeUsage prints the overview: every command and the common flags.
func writeUsage(w io.Writer) {
	fmt.Fprintf(w, "%s\n\nUsage:\n  heartbeat COMMAND [flags] [arguments]\n\nCommands:\n", intro)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fs, _ := newFlagSet("", io.Discard)
	var takers []string
	for _, c := range commands() {
		// --plugin-dir, not --config: status reads a config too, but takes
		// none of the other common flags.
		if c.flagSet(io.Discard).Lookup("plugin-dir") != nil {
			takers = append(takers, c.name)
		}
	}
	fmt.Fprintf(w, "\nFlags of %s:\n", strings.Join(takers, ", "))
	writeFlags(w, fs)
	fmt.Fprintf(w, "\nRun 'heartbeat COMMAND --help' for what a command does, its flags and an example.\nDocumentation: man heartbeat, and docs/ in the source tree, starting with README.md.\n")
}

// writeHelp prints one command's help.
func writeHelp(w io.Writer, c command) {
	fmt.Fprintf(w, "heartbeat %s: %s\n\nUsage:\n  %s\n\n", c.name, c.summary, synopsis(c))
	for _, p := range strings.Split(c.about, "\n\n") {
		fmt.Fprintf(w, "%s\n\n", wrap(p, 76, ""))
	}
	fs := c.flagSet(io.Discard)
	if hasFlags(fs) {
		fmt.Fprintf(w, "Flags:\n")
		writeFlags(w, fs)
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "Example:\n")
	for _, e := range c.examples {
		fmt.Fprintf(w, "  %s\n", e)
	}
}

func synopsis(c command) string {
	s := "heartbeat " + c.name
	if hasFlags(c.flagSet(io.Discard)) {
		s += " [flags]"
	}
	if c.args != "" {
		s += " " + c.args
	}
	return s
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// flagInfo is one flag as help, completion and the man page show it.
type flagInfo struct {
	// name with its dashes: -n for one letter, --name otherwise.
	name string
	// placeholder names the value ("" for a switch): PATH is a file, DIR a
	// directory.
	placeholder string
	usage       string
	// def is the default to show; "" when none is worth showing.
	def string
}

func flagInfos(fs *flag.FlagSet) []flagInfo {
	var out []flagInfo
	fs.VisitAll(func(f *flag.Flag) {
		placeholder, usage := flag.UnquoteUsage(f)
		if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
			placeholder = ""
		} else if placeholder == "string" || placeholder == "int" || placeholder == "value" {
			placeholder = "VALUE"
		}
		dashes := "--"
		if len(f.Name) == 1 {
			dashes = "-"
		}
		def := f.DefValue
		if def == "false" || def == "0" || strings.Contains(usage, "(default") {
			def = ""
		}
		out = append(out, flagInfo{name: dashes + f.Name, placeholder: placeholder, usage: usage, def: def})
	})
	return out
}

func (f flagInfo) withPlaceholder() string {
	if f.placeholder == "" {
		return f.name
	}
	return f.name + " " + f.placeholder
}

func (f flagInfo) fullUsage() string {
	if f.def != "" {
		return f.usage + " (default " + f.def + ")"
	}
	return f.usage
}

func writeFlags(w io.Writer, fs *flag.FlagSet) {
	for _, f := range flagInfos(fs) {
		fmt.Fprintf(w, "  %s\n%s\n", f.withPlaceholder(), wrap(f.fullUsage(), 76, "        "))
	}
}

// wrap breaks s into lines of at most width characters, each starting
// with indent.
func wrap(s string, width int, indent string) string {
	var b strings.Builder
	line := indent
	for _, word := range strings.Fields(s) {
		if len(line) > len(indent) && len(line)+1+len(word) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += word
	}
	b.WriteString(line)
	return b.String()
}

// normalLogger wraps the core's logger so that every line, the core's own
// and those relayed from plugins, reads alike in text and JSON:
//
//   - a time.Duration is written as a string ("1.5s", "120ms"): hclog's
//     JSON would print an integer count of nanoseconds;
//   - a process id is always "pid" (go-plugin names it "id" when a plugin
//     exits);
//   - the fields of a line relayed from a plugin are sorted by key:
//     go-plugin decodes a plugin's JSON line into a map, which loses the
//     plugin's order, so without sorting it would change from line to line.
type normalLogger struct {
	hclog.Logger
	// plugin is set for the loggers that relay a plugin's lines.
	plugin bool
}

func newNormalLogger(l hclog.Logger) hclog.Logger { return normalLogger{Logger: l} }

func (l normalLogger) normalize(msg string, args []any) []any {
	out := make([]any, len(args))
	copy(out, args)
	for i := 0; i+1 < len(out); i += 2 {
		if d, ok := out[i+1].(time.Duration); ok {
			out[i+1] = humanDuration(d)
		}
		if k, ok := out[i].(string); ok && k == "id" && msg == "plugin process exited" {
			out[i] = "pid"
			if s, ok := out[i+1].(string); ok {
				if pid, err := strconv.Atoi(s); err == nil {
					out[i+1] = pid // a number, as in the core's own lines
				}
			}
		}
	}
	if l.plugin && len(out)%2 == 0 {
		pairs := make([][2]any, 0, len(out)/2)
		for i := 0; i < len(out); i += 2 {
			pairs = append(pairs, [2]any{out[i], out[i+1]})
		}
		sort.SliceStable(pairs, func(i, j int) bool { return fmt.Sprint(pairs[i][0]) < fmt.Sprint(pairs[j][0]) })
		for i, p := range pairs {
			out[2*i], out[2*i+1] = p[0], p[1]
		}
	}
	return out
}

// humanDuration rounds d to what a reader needs: milliseconds from one
// millisecond up.
func humanDuration(d time.Duration) string {
	if d >= time.Millisecond || d <= -time.Millisecond {
		d = d.Round(time.Millisecond)
	}
	return d.String()
}

func (l normalLogger) Log(level hclog.Level, msg string, args ...any) {
	l.Logger.Log(level, msg, l.normalize(msg, args)...)
}
func (l normalLogger) Trace(msg string, args ...any) {
	l.Logger.Trace(msg, l.normalize(msg, args)...)
}
func (l normalLogger) Debug(msg string, args ...any) {
	l.Logger.Debug(msg, l.normalize(msg, args)...)
}
func (l normalLogger) Info(msg string, args ...any) { l.Logger.Info(msg, l.normalize(msg, args)...) }
func (l normalLogger) Warn(msg string, args ...any) { l.Logger.Warn(msg, l.normalize(msg, args)...) }
func (l normalLogger) Error(msg string, args ...any) {
	l.Logger.Error(msg, l.normalize(msg, args)...)
}

func (l normalLogger) With(args ...any) hclog.Logger {
	return normalLogger{Logger: l.Logger.With(l.normalize("", args)...), plugin: l.plugin}
}

// Named marks the loggers named after a plugin binary: go-plugin relays
// each plugin's lines through one.
func (l normalLogger) Named(name string) hclog.Logger {
	return normalLogger{Logger: l.Logger.Named(name), plugin: l.plugin || strings.HasPrefix(name, sdk.BinaryPrefix)}
}

func (l normalLogger) ResetNamed(name string) hclog.Logger {
	return normalLogger{Logger: l.Logger.ResetNamed(name), plugin: strings.HasPrefix(name, sdk.BinaryPrefix)}
}
