package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/core/daemon"
)

// The parts of `heartbeat service` that do not need Windows: its flags,
// the command line it registers, the default paths, the event log writer
// and the waits for a state. The calls to the service manager are in
// service_windows.go.

const (
	// defaultServiceName names the service and its event log source.
	defaultServiceName = "heartbeat"
	serviceDisplayName = "heartbeat"
	// defaultServiceTimeout bounds how long start, stop and uninstall wait
	// for the service to reach its state.
	defaultServiceTimeout = 60 * time.Second
	// serviceStopWaitHint is what the service tells the service manager a
	// stop takes: the beats in flight get daemon.DefaultGrace, then the
	// plugins are stopped.
	serviceStopWaitHint = daemon.DefaultGrace + 10*time.Second
)

// serviceActions are the arguments `heartbeat service` takes.
func serviceActions() []string { return []string{"install", "uninstall", "start", "stop"} }

// serviceOptions are service's flags.
type serviceOptions struct {
	config  string
	name    string
	timeout time.Duration
}

// serviceFlags defines service's flags.
func serviceFlags(stderr io.Writer) (*flag.FlagSet, *serviceOptions) {
	fs := newBareFlagSet("service", stderr)
	o := &serviceOptions{}
	fs.StringVar(&o.config, "config", "", "install: the config file `PATH` the service runs with (default "+systemConfigDisplay("windows")+")")
	fs.StringVar(&o.name, "name", defaultServiceName, "the service's `NAME`, also its event log source; give another to run several")
	fs.DurationVar(&o.timeout, "timeout", defaultServiceTimeout, "how long start, stop and uninstall wait for the service to get there (a `DURATION` such as 90s)")
	return fs, o
}

// cmdService is `heartbeat service install|uninstall|start|stop`.
func cmdService(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, o := serviceFlags(stderr)
	positional, err := parseFlags(fs, args)
	if err != nil || len(positional) != 1 {
		return exitInvalid
	}
	if err := checkServiceName(o.name); err != nil {
		fmt.Fprintf(stderr, "error: --name: %v\n", err)
		return exitInvalid
	}
	if o.timeout <= 0 {
		fmt.Fprintf(stderr, "error: --timeout %s: give a positive duration such as 90s\n", o.timeout)
		return exitInvalid
	}
	return serviceAction(ctx, positional[0], o, stdout, stderr)
}

// serviceNameRE is what a service name may be: the service manager takes
// more, but the name is also a registry key of the event log and a word
// in commands.
var serviceNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$`)

func checkServiceName(name string) error {
	if !serviceNameRE.MatchString(name) {
		return fmt.Errorf("%q: use letters, digits, -, _ and ., starting with a letter or digit, at most 80 characters", clipServiceArg(name))
	}
	return nil
}

// clipServiceArg bounds a value from the command line before it is
// printed.
func clipServiceArg(s string) string {
	if len(s) > 100 {
		return s[:100] + "…"
	}
	return s
}

// notWindowsService is what `heartbeat service` says on other systems.
func notWindowsService(goos string) string {
	msg := "heartbeat service installs and controls a Windows service, so it runs on Windows only"
	switch goos {
	case "darwin":
		return msg + "; on macOS run heartbeat under launchd: see docs/install.md and deploy/launchd/com.github.seed-e9b80cf6.heartbeat.plist"
	case "linux":
		return msg + "; on Linux run heartbeat under systemd: see docs/install.md and examples/systemd/heartbeat.service (the .deb and .rpm packages install it as /usr/lib/systemd/system/heartbeat.service)"
	}
	return msg + "; see docs/install.md for a supervisor on this system"
}

// systemConfigPath is the config file the system keeps for heartbeat,
// searched after $HEARTBEAT_CONFIG and ./heartbeat.yaml, and the one the
// Windows service runs with unless told otherwise:
// %ProgramData%\heartbeat\heartbeat.yaml on Windows,
// /etc/heartbeat/heartbeat.yaml elsewhere.
func systemConfigPath(goos string, getenv func(string) string) string {
	if goos != "windows" {
		return "/etc/heartbeat/heartbeat.yaml"
	}
	return windowsDataDir(getenv) + `\heartbeat.yaml`
}

// windowsDataDir is %ProgramData%\heartbeat: the config, and the crash
// log of the service.
func windowsDataDir(getenv func(string) string) string {
	pd := strings.TrimRight(getenv("ProgramData"), `\/`)
	if pd == "" || !isAbsWindows(pd) {
		pd = `C:\ProgramData` // its place on every Windows since Vista
	}
	return pd + `\heartbeat`
}

// isAbsWindows reports whether p is an absolute Windows path (C:\...,
// \\server\share).
func isAbsWindows(p string) bool {
	if strings.HasPrefix(p, `\\`) {
		return true
	}
	return len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/') &&
		(p[0] >= 'A' && p[0] <= 'Z' || p[0] >= 'a' && p[0] <= 'z')
}

// systemConfigDisplay is systemConfigPath as help shows it.
func systemConfigDisplay(goos string) string {
	if goos == "windows" {
		return `%ProgramData%\heartbeat\heartbeat.yaml`
	}
	return systemConfigPath(goos, os.Getenv)
}

// defaultConfigPaths are the config files searched when neither --config
// nor $HEARTBEAT_CONFIG is given, in order.
func defaultConfigPaths() []string {
	return []string{"heartbeat.yaml", systemConfigPath(runtime.GOOS, os.Getenv)}
}

// serviceArgs are the arguments the service runs heartbeat with.
func serviceArgs(config string) []string { return []string{"run", "--config", config} }

// serviceCommandLine is the command line the service manager runs: the
// executable quoted, as the service manager reads an unquoted path with a
// space in it as several candidates ("C:\Program.exe" first), then the
// arguments, quoted where CommandLineToArgvW and Go's os.Args need it.
func serviceCommandLine(exe string, args []string) string {
	var b strings.Builder
	b.WriteString(`"` + exe + `"`) // a Windows path holds no double quote
	for _, a := range args {
		b.WriteByte(' ')
		b.WriteString(quoteWindowsArg(a))
	}
	return b.String()
}

// quoteWindowsArg quotes s for CommandLineToArgvW when it is empty or has
// a space, a tab, a double quote or a backslash (a path): inside double
// quotes, a double quote is escaped with a backslash, and the backslashes
// before a double quote (or the closing one) are doubled.
func quoteWindowsArg(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\"\\") {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	slashes := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			slashes++
		case '"':
			b.WriteString(strings.Repeat(`\`, slashes+1))
			slashes = 0
		default:
			slashes = 0
		}
		b.WriteByte(c)
	}
	b.WriteString(strings.Repeat(`\`, slashes))
	b.WriteByte('"')
	return b.String()
}

// checkServiceConfig is what install says about the config path: it must
// be absolute (a service starts in the system directory), and a config
// that is not there yet is worth a warning, not an error.
func checkServiceConfig(path string, goos string, stat func(string) (os.FileInfo, error)) (warning string, err error) {
	abs := filepath.IsAbs(path)
	if goos == "windows" {
		abs = isAbsWindows(path)
	}
	if !abs {
		return "", fmt.Errorf("--config %s: give an absolute path, such as %s: the service starts in the system directory, not here", clipServiceArg(path), systemConfigDisplay(goos))
	}
	if _, err := stat(path); err != nil {
		return fmt.Sprintf("%s cannot be read (%v): write the config there, check it with heartbeat validate --config %s, then start the service", path, pathErrCause(err), quoteWindowsArg(path)), nil
	}
	return "", nil
}

// pathErrCause drops the path that os errors repeat.
func pathErrCause(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// serviceState is a service's state as start, stop and uninstall wait
// for it.
type serviceState int

const (
	stateOther serviceState = iota
	stateStopped
	stateStartPending
	stateStopPending
	stateRunning
)

func (s serviceState) String() string {
	switch s {
	case stateStopped:
		return "stopped"
	case stateStartPending:
		return "starting"
	case stateStopPending:
		return "stopping"
	case stateRunning:
		return "running"
	}
	return "paused or changing"
}

// serviceStatus is what the service manager says about the service.
type serviceStatus struct {
	State serviceState
	// Win32ExitCode and SpecificExitCode are the exit codes of a stopped
	// service, as the service manager keeps them.
	Win32ExitCode    uint32
	SpecificExitCode uint32
}

// errorServiceSpecific is ERROR_SERVICE_SPECIFIC_ERROR: the service
// stopped with an exit code of its own, in SpecificExitCode.
const errorServiceSpecific = 1066

// waitInterval is how often a wait asks the service manager.
const waitInterval = 250 * time.Millisecond

// waitForState asks query until the service is in one of want, and
// returns that status; after timeout (or ctx's end) it returns the last
// status with an error naming it.
func waitForState(ctx context.Context, query func() (serviceStatus, error), timeout time.Duration, want ...serviceState) (serviceStatus, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last serviceStatus
	for {
		st, err := query()
		if err != nil {
			return last, fmt.Errorf("asking the service manager for the service's state: %w", err)
		}
		last = st
		for _, w := range want {
			if st.State == w {
				return st, nil
			}
		}
		select {
		case <-ctx.Done():
			return last, fmt.Errorf("the service is still %s after %s; run heartbeat service with a longer --timeout, or look at the event log", last.State, timeout)
		case <-time.After(waitInterval):
		}
	}
}

// describeServiceExit says why a stopped service stopped, from its exit
// codes, with the fix. name is the service (its event log source), config
// the file it runs with.
func describeServiceExit(st serviceStatus, name string) string {
	events := fmt.Sprintf("the Windows event log (Application, source %s) has its log", name)
	switch {
	case st.Win32ExitCode == 0:
		return "it stopped without an error; " + events
	case st.Win32ExitCode == errorServiceSpecific && st.SpecificExitCode == exitInvalid:
		return fmt.Sprintf("it stopped with exit code %d: the config is invalid, and the service is not restarted for that; check it with heartbeat validate --config PATH (the path is in the service's command line), fix it, then start the service again; %s", exitInvalid, events)
	case st.Win32ExitCode == errorServiceSpecific:
		return fmt.Sprintf("it stopped with exit code %d; %s", st.SpecificExitCode, events)
	}
	return fmt.Sprintf("it stopped with Windows error %d; %s", st.Win32ExitCode, events)
}

// serviceExit maps the exit code of run to what the service reports to
// the service manager. A config error (exit 2) stops the service with that
// service-specific exit code: its recovery actions apply to crashes only
// (FailureActionsOnNonCrashFailures is false), so it is not restarted, as
// RestartPreventExitStatus=2 does under systemd. Any other failure is
// made a crash: the process ends without reporting itself stopped, so the
// recovery action restarts it, as Restart=on-failure does. After a stop
// was asked for, nothing is restarted.
func serviceExit(code int, stopRequested bool) (specific bool, exitCode uint32, crash bool) {
	switch {
	case code == exitOK:
		return false, 0, false
	case code == exitInvalid || stopRequested:
		return true, uint32(code), false
	}
	return true, uint32(code), true
}

// eventSink is the Windows event log, as eventlog.Log writes it.
type eventSink interface {
	Info(eid uint32, msg string) error
	Warning(eid uint32, msg string) error
	Error(eid uint32, msg string) error
}

// Event ids of the service's events: one per level (EventCreate's
// message file, which the service registers as its source, takes ids 1 to
// 1000 and shows the text as written).
const (
	eventInfo    = 1
	eventWarning = 2
	eventError   = 3
)

// maxEventText bounds one event's text (the event log takes about 31,000
// characters); lines are bounded before they get here, this is the last
// guard.
const maxEventText = 8 << 10

// eventLogWriter writes heartbeat's log, one line per event, to the event
// log, at the level the line has (hclog text or JSON, or the error: and
// warning: lines of the command itself). The event log's own size limit
// (the Application log wraps) bounds what is kept.
type eventLogWriter struct {
	mu      sync.Mutex
	sink    eventSink
	partial []byte
}

func newEventLogWriter(sink eventSink) *eventLogWriter { return &eventLogWriter{sink: sink} }

func (w *eventLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.partial = append(w.partial, p...)
			if len(w.partial) > maxEventText {
				w.emit(w.partial)
				w.partial = w.partial[:0]
			}
			break
		}
		line := p[:i]
		if len(w.partial) > 0 {
			line = append(w.partial, line...)
			w.partial = w.partial[:0]
		}
		w.emit(line)
		p = p[i+1:]
	}
	return n, nil
}

// Flush writes a last line that has no newline.
func (w *eventLogWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.partial) > 0 {
		w.emit(w.partial)
		w.partial = w.partial[:0]
	}
}

func (w *eventLogWriter) emit(line []byte) {
	text := strings.TrimRight(string(line), "\r ")
	if strings.TrimSpace(text) == "" {
		return
	}
	if len(text) > maxEventText {
		text = strings.ToValidUTF8(text[:maxEventText], "") + " […cut]"
	}
	// A failure to write the event log has nowhere to be reported.
	switch lineLevel(text) {
	case eventError:
		_ = w.sink.Error(eventError, text)
	case eventWarning:
		_ = w.sink.Warning(eventWarning, text)
	default:
		_ = w.sink.Info(eventInfo, text)
	}
}

// lineLevel is the event level of a log line: hclog's text ("[ERROR]",
// "[WARN] ") and JSON ("@level":"error") levels, and the "error:" and
// "warning:" lines that commands print.
func lineLevel(line string) int {
	head := line
	if len(head) > 64 {
		head = head[:64]
	}
	switch {
	case strings.HasPrefix(line, "error:"), strings.Contains(head, "[ERROR]"), strings.Contains(line, `"@level":"error"`):
		return eventError
	case strings.HasPrefix(line, "warning:"), strings.Contains(head, "[WARN]"), strings.Contains(line, `"@level":"warn"`):
		return eventWarning
	}
	return eventInfo
}

// maxCrashLog bounds the crash log: a larger one is moved to .old when
// the service starts, replacing the previous one.
const maxCrashLog = 1 << 20

// openCrashLog opens the file the Go runtime writes a fatal error to when
// heartbeat runs as a service (debug.SetCrashOutput): a service has no
// console for it. It keeps at most two files of about maxCrashLog each.
// The directory must exist.
func openCrashLog(path string, limit int64) (*os.File, error) {
	if info, err := os.Stat(path); err == nil && info.Size() > limit {
		if err := os.Rename(path, path+".old"); err != nil {
			return nil, err
		}
	}
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
}

// serviceHooks connect a command to the Windows service manager when
// heartbeat runs as a service; they travel in the command's context.
type serviceHooks struct {
	// started is called once heartbeat has started: the service then
	// reports Running.
	started func()
}

type serviceHooksKey struct{}

func withServiceHooks(ctx context.Context, h *serviceHooks) context.Context {
	return context.WithValue(ctx, serviceHooksKey{}, h)
}

// serviceStarted tells the service manager, when heartbeat runs as a
// service, that start-up is over. Elsewhere it does nothing.
func serviceStarted(ctx context.Context) {
	if h, ok := ctx.Value(serviceHooksKey{}).(*serviceHooks); ok && h.started != nil {
		h.started()
	}
}
