package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// parseWindowsCommandLine splits a command line as the service manager
// and CommandLineToArgvW do (and Go's os.Args on Windows): the program
// name up to the next quote or blank, then the arguments by the
// backslash and quote rules.
func parseWindowsCommandLine(line string) []string {
	var args []string
	i := 0
	if strings.HasPrefix(line, `"`) {
		end := strings.IndexByte(line[1:], '"')
		if end < 0 {
			return []string{line[1:]}
		}
		args = append(args, line[1:1+end])
		i = end + 2
	} else {
		end := strings.IndexAny(line, " \t")
		if end < 0 {
			return []string{line}
		}
		args = append(args, line[:end])
		i = end
	}
	for {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		if i >= len(line) {
			return args
		}
		var b strings.Builder
		quoted := false
		for i < len(line) {
			c := line[i]
			if !quoted && (c == ' ' || c == '\t') {
				break
			}
			if c == '\\' {
				n := 0
				for i < len(line) && line[i] == '\\' {
					n++
					i++
				}
				if i < len(line) && line[i] == '"' {
					b.WriteString(strings.Repeat(`\`, n/2))
					if n%2 == 1 {
						b.WriteByte('"')
						i++
					}
					continue
				}
				b.WriteString(strings.Repeat(`\`, n))
				continue
			}
			if c == '"' {
				if quoted && i+1 < len(line) && line[i+1] == '"' {
					b.WriteByte('"')
					i += 2
					continue
				}
				quoted = !quoted
				i++
				continue
			}
			b.WriteByte(c)
			i++
		}
		args = append(args, b.String())
	}
}

// The command line the service is registered with: the executable always
// quoted (an unquoted path with a space is read as several candidates by
// the service manager), paths quoted, and every argument read back
// unchanged by the rules Windows and Go's os.Args use.
func TestServiceCommandLine(t *testing.T) {
	tests := []struct {
		name   string
		exe    string
		config string
		want   string
	}{
		{"default", `C:\Program Files\heartbeat\heartbeat.exe`, `C:\ProgramData\heartbeat\heartbeat.yaml`,
			`"C:\Program Files\heartbeat\heartbeat.exe" run --config "C:\ProgramData\heartbeat\heartbeat.yaml"`},
		{"no space in the executable's path", `C:\hb\heartbeat.exe`, `D:\conf\hb.yaml`,
			`"C:\hb\heartbeat.exe" run --config "D:\conf\hb.yaml"`},
		{"a space in the config's path", `C:\hb\heartbeat.exe`, `D:\my configs\hb.yaml`,
			`"C:\hb\heartbeat.exe" run --config "D:\my configs\hb.yaml"`},
		{"a network share", `C:\hb\heartbeat.exe`, `\\server\share\hb.yaml`,
			`"C:\hb\heartbeat.exe" run --config "\\server\share\hb.yaml"`},
		{"a trailing backslash is doubled before the closing quote", `C:\hb\heartbeat.exe`, `D:\odd\`,
			`"C:\hb\heartbeat.exe" run --config "D:\odd\\"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := serviceCommandLine(tt.exe, serviceArgs(tt.config))
			if line != tt.want {
				t.Errorf("got  %s\nwant %s", line, tt.want)
			}
			got := parseWindowsCommandLine(line)
			want := []string{tt.exe, "run", "--config", tt.config}
			if fmt.Sprint(got) != fmt.Sprint(want) || len(got) != len(want) {
				t.Errorf("%s reads back as %q, want %q", line, got, want)
			}
		})
	}
}

// Any argument, however odd, reads back as it was given.
func TestQuoteWindowsArgRoundTrip(t *testing.T) {
	args := []string{"", "plain", "two words", `a"quote`, `back\slash`, `ends\`, `ends\\`, `\"`, `\\"\\`, `"`, "tab\there", `C:\a b\`, `x\\\"y`, "ünïcode ✓"}
	for _, a := range args {
		line := serviceCommandLine(`C:\hb\heartbeat.exe`, []string{a, "after"})
		got := parseWindowsCommandLine(line)
		if len(got) != 3 || got[1] != a || got[2] != "after" {
			t.Errorf("%q: %s reads back as %q", a, line, got)
		}
	}
}

// The default config: $HEARTBEAT_CONFIG and ./heartbeat.yaml first (in
// findConfig), then the system's file, %ProgramData%\heartbeat on Windows.
func TestSystemConfigPath(t *testing.T) {
	env := func(vars map[string]string) func(string) string {
		return func(k string) string { return vars[k] }
	}
	tests := []struct {
		name string
		goos string
		env  map[string]string
		want string
	}{
		{"linux", "linux", map[string]string{"ProgramData": `C:\ProgramData`}, "/etc/heartbeat/heartbeat.yaml"},
		{"macOS", "darwin", nil, "/etc/heartbeat/heartbeat.yaml"},
		{"windows", "windows", map[string]string{"ProgramData": `C:\ProgramData`}, `C:\ProgramData\heartbeat\heartbeat.yaml`},
		{"windows, ProgramData elsewhere", "windows", map[string]string{"ProgramData": `D:\Data\`}, `D:\Data\heartbeat\heartbeat.yaml`},
		{"windows, ProgramData unset", "windows", nil, `C:\ProgramData\heartbeat\heartbeat.yaml`},
		{"windows, ProgramData relative", "windows", map[string]string{"ProgramData": `data`}, `C:\ProgramData\heartbeat\heartbeat.yaml`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := systemConfigPath(tt.goos, env(tt.env)); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	if got := systemConfigDisplay("windows"); got != `%ProgramData%\heartbeat\heartbeat.yaml` {
		t.Errorf("help shows %s", got)
	}
	if runtime.GOOS != "windows" {
		want := []string{"heartbeat.yaml", "/etc/heartbeat/heartbeat.yaml"}
		if got := defaultConfigPaths(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("default config paths %q, want %q", got, want)
		}
	}
}

// With neither --config nor $HEARTBEAT_CONFIG, the error names the files
// searched, the system's one included.
func TestFindConfigNamesTheSystemFile(t *testing.T) {
	if _, err := os.Stat(systemConfigPath(runtime.GOOS, os.Getenv)); err == nil {
		t.Skip("this machine has a system config file")
	}
	t.Chdir(t.TempDir())
	t.Setenv(ConfigEnv, "")
	_, err := (&common{}).findConfig()
	if err == nil || !strings.Contains(err.Error(), systemConfigPath(runtime.GOOS, os.Getenv)) {
		t.Errorf("got %v", err)
	}
}

// Elsewhere than on Windows, `heartbeat service` says where the system's
// own supervisor files are, and is a usage error; bad flags are usage
// errors everywhere.
func TestServiceCommandArguments(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"not a service name", []string{"service", "install", "--name", `bad\name`}, []string{`--name: "bad\\name"`, "letters, digits"}},
		{"a name too long", []string{"service", "start", "--name", strings.Repeat("n", 300)}, []string{"at most 80 characters", "…"}},
		{"no timeout", []string{"service", "stop", "--timeout", "0s"}, []string{"--timeout 0s: give a positive duration"}},
		{"an unknown action", []string{"service", "restart"}, []string{`"restart" is not one of install, uninstall, start, stop`}},
		{"no action", []string{"service"}, []string{"missing install|uninstall|start|stop"}},
	}
	if runtime.GOOS != "windows" {
		for _, action := range serviceActions() {
			tests = append(tests, struct {
				name string
				args []string
				want []string
			}{action + " here", []string{"service", action}, []string{"runs on Windows only", notWindowsService(runtime.GOOS)}})
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), tt.args, &stdout, &stderr); code != exitInvalid {
				t.Errorf("exit %d, want %d; stderr %q", code, exitInvalid, stderr.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr %q lacks %q", stderr.String(), w)
				}
			}
			if len(stderr.String()) > 2000 {
				t.Errorf("stderr is %d bytes long", stderr.Len())
			}
		})
	}
	for goos, want := range map[string]string{
		"linux":   "examples/systemd/heartbeat.service",
		"darwin":  "deploy/launchd/com.github.seed-e9b80cf6.heartbeat.plist",
		"freebsd": "docs/install.md",
	} {
		msg := notWindowsService(goos)
		if !strings.Contains(msg, want) {
			t.Errorf("%s: %q does not point at %s", goos, msg, want)
			continue
		}
		if want != "docs/install.md" {
			if _, err := os.Stat(filepath.Join(repoRoot(t), want)); err != nil {
				t.Errorf("%s: %s points at a missing file: %v", goos, want, err)
			}
		}
	}
}

func TestCheckServiceName(t *testing.T) {
	for _, name := range []string{"heartbeat", "heartbeat-2", "hb_qlik.prod", "H1"} {
		if err := checkServiceName(name); err != nil {
			t.Errorf("%q: %v", name, err)
		}
	}
	for _, name := range []string{"", "-flag", "a b", `a\b`, "a/b", "ä", strings.Repeat("x", 81), "a\x00b"} {
		if err := checkServiceName(name); err == nil {
			t.Errorf("%q was accepted", name)
		}
	}
}

// install needs an absolute config path (a service starts in the system
// directory) and warns about a config that is not there yet.
func TestCheckServiceConfig(t *testing.T) {
	exists := func(string) (fs.FileInfo, error) { return nil, nil }
	missing := func(p string) (fs.FileInfo, error) {
		return nil, &fs.PathError{Op: "stat", Path: p, Err: fs.ErrNotExist}
	}
	tests := []struct {
		name     string
		path     string
		stat     func(string) (fs.FileInfo, error)
		wantErr  string
		wantWarn string
	}{
		{"absolute and there", `C:\ProgramData\heartbeat\heartbeat.yaml`, exists, "", ""},
		{"a share", `\\srv\cfg\heartbeat.yaml`, exists, "", ""},
		{"not there yet", `C:\ProgramData\heartbeat\heartbeat.yaml`, missing, "", `write the config there, check it with heartbeat validate --config "C:\ProgramData\heartbeat\heartbeat.yaml"`},
		{"relative", `heartbeat.yaml`, exists, "give an absolute path", ""},
		{"drive-relative", `C:heartbeat.yaml`, exists, "give an absolute path", ""},
		{"rooted without a drive", `\heartbeat.yaml`, exists, "give an absolute path", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			warn, err := checkServiceConfig(tt.path, "windows", tt.stat)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("error %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error %v, want one containing %q", err, tt.wantErr)
			}
			if !strings.Contains(warn, tt.wantWarn) || (tt.wantWarn == "" && warn != "") {
				t.Errorf("warning %q, want %q", warn, tt.wantWarn)
			}
		})
	}
}

// start, stop and uninstall wait for a state, and give up after their
// timeout naming the state the service is stuck in.
func TestWaitForState(t *testing.T) {
	seq := func(states ...serviceState) (func() (serviceStatus, error), *int) {
		calls := 0
		return func() (serviceStatus, error) {
			st := states[min(calls, len(states)-1)]
			calls++
			return serviceStatus{State: st}, nil
		}, &calls
	}
	t.Run("reaches the state", func(t *testing.T) {
		query, calls := seq(stateStartPending, stateStartPending, stateRunning)
		st, err := waitForState(context.Background(), query, time.Minute, stateRunning, stateStopped)
		if err != nil || st.State != stateRunning || *calls != 3 {
			t.Errorf("got %v, %v after %d queries", st.State, err, *calls)
		}
	})
	t.Run("stops instead", func(t *testing.T) {
		query, _ := seq(stateStartPending, stateStopped)
		st, err := waitForState(context.Background(), query, time.Minute, stateRunning, stateStopped)
		if err != nil || st.State != stateStopped {
			t.Errorf("got %v, %v", st.State, err)
		}
	})
	t.Run("times out", func(t *testing.T) {
		query, calls := seq(stateStopPending)
		st, err := waitForState(context.Background(), query, 600*time.Millisecond, stateStopped)
		if err == nil || !strings.Contains(err.Error(), "still stopping after 600ms") || !strings.Contains(err.Error(), "--timeout") {
			t.Errorf("got %v", err)
		}
		if st.State != stateStopPending || *calls < 2 {
			t.Errorf("last state %v after %d queries", st.State, *calls)
		}
	})
	t.Run("the service manager fails", func(t *testing.T) {
		boom := errors.New("access denied")
		_, err := waitForState(context.Background(), func() (serviceStatus, error) { return serviceStatus{}, boom }, time.Minute, stateStopped)
		if !errors.Is(err, boom) {
			t.Errorf("got %v", err)
		}
	})
}

// The exit of run maps to what the service manager is told: exit 2 (an
// invalid config) stops the service with that service-specific code and
// no restart; other failures are crashes, which the recovery action
// restarts, except after a stop was asked for.
func TestServiceExit(t *testing.T) {
	tests := []struct {
		code      int
		stopped   bool
		specific  bool
		exitCode  uint32
		wantCrash bool
	}{
		{exitOK, false, false, 0, false},
		{exitOK, true, false, 0, false},
		{exitInvalid, false, true, 2, false},
		{exitFailed, false, true, 1, true},
		{exitFailed, true, true, 1, false},
	}
	for _, tt := range tests {
		specific, code, crash := serviceExit(tt.code, tt.stopped)
		if specific != tt.specific || code != tt.exitCode || crash != tt.wantCrash {
			t.Errorf("exit %d (stop asked: %v): got %v %d crash=%v", tt.code, tt.stopped, specific, code, crash)
		}
	}
}

func TestDescribeServiceExit(t *testing.T) {
	tests := []struct {
		st   serviceStatus
		want []string
	}{
		{serviceStatus{State: stateStopped}, []string{"without an error", "source heartbeat"}},
		{serviceStatus{State: stateStopped, Win32ExitCode: errorServiceSpecific, SpecificExitCode: 2}, []string{"exit code 2", "config is invalid", "heartbeat validate --config", "not restarted"}},
		{serviceStatus{State: stateStopped, Win32ExitCode: errorServiceSpecific, SpecificExitCode: 1}, []string{"exit code 1", "event log"}},
		{serviceStatus{State: stateStopped, Win32ExitCode: 1067}, []string{"Windows error 1067"}},
	}
	for _, tt := range tests {
		got := describeServiceExit(tt.st, "heartbeat")
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("%+v: %q lacks %q", tt.st, got, w)
			}
		}
	}
}

// fakeEvents records what an eventLogWriter sends to the event log.
type fakeEvents struct {
	mu     sync.Mutex
	events []string // "LEVEL id text"
}

func (f *fakeEvents) add(level string, id uint32, msg string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, fmt.Sprintf("%s %d %s", level, id, msg))
	return nil
}
func (f *fakeEvents) Info(id uint32, msg string) error    { return f.add("INFO", id, msg) }
func (f *fakeEvents) Warning(id uint32, msg string) error { return f.add("WARN", id, msg) }
func (f *fakeEvents) Error(id uint32, msg string) error   { return f.add("ERROR", id, msg) }

func (f *fakeEvents) all() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.events...)
}

// The service's log goes to the event log one line per event, at the
// line's level, whatever the format and however the writes are cut.
func TestEventLogWriter(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run("hclog "+format, func(t *testing.T) {
			sink := &fakeEvents{}
			w := newEventLogWriter(sink)
			logger := newNormalLogger(hclog.New(&hclog.LoggerOptions{Name: "heartbeat", Output: w, JSONFormat: format == "json", Level: hclog.Debug}))
			logger.Info("heartbeat started", "heartbeats", 2)
			logger.Warn("a heartbeat was skipped")
			logger.Error("beat failed", "target", "hc")
			logger.Debug("details")
			w.Flush()
			got := sink.all()
			want := []struct{ prefix, text string }{{"INFO 1 ", "heartbeat started"}, {"WARN 2 ", "skipped"}, {"ERROR 3 ", "beat failed"}, {"INFO 1 ", "details"}}
			if len(got) != len(want) {
				t.Fatalf("got %d events: %q", len(got), got)
			}
			for i, w := range want {
				if !strings.HasPrefix(got[i], w.prefix) || !strings.Contains(got[i], w.text) || strings.Contains(got[i], "\n") {
					t.Errorf("event %d: %q, want %q… with %q", i, got[i], w.prefix, w.text)
				}
			}
		})
	}
	t.Run("lines cut across writes, blank lines, the command's own errors", func(t *testing.T) {
		sink := &fakeEvents{}
		w := newEventLogWriter(sink)
		for _, chunk := range []string{"error: hb.yaml:3:1: bad", " key\r\n\n   \nwarning: unused", " target\nno newline at the end"} {
			if n, err := w.Write([]byte(chunk)); n != len(chunk) || err != nil {
				t.Fatalf("Write: %d, %v", n, err)
			}
		}
		if got := sink.all(); len(got) != 2 {
			t.Fatalf("before Flush: %q", got)
		}
		w.Flush()
		w.Flush()
		want := []string{"ERROR 3 error: hb.yaml:3:1: bad key", "WARN 2 warning: unused target", "INFO 1 no newline at the end"}
		if got := sink.all(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("got  %q\nwant %q", got, want)
		}
	})
	t.Run("a huge line is cut", func(t *testing.T) {
		sink := &fakeEvents{}
		w := newEventLogWriter(sink)
		huge := strings.Repeat("é", 3*maxEventText) // two bytes each: a cut may fall inside one
		_, _ = w.Write([]byte(huge))
		_, _ = w.Write([]byte("\n"))
		w.Flush()
		for _, e := range sink.all() {
			if len(e) > maxEventText+100 || !strings.Contains(e, "[…cut]") || strings.ContainsRune(e, '\uFFFD') {
				t.Errorf("event of %d bytes, ends %q", len(e), e[max(0, len(e)-20):])
			}
		}
		if n := len(sink.all()); n == 0 || n > 7 {
			t.Errorf("%d events", n)
		}
	})
}

// A crash log larger than the limit is moved aside when the service
// starts: at most two files are kept.
func TestOpenCrashLog(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "crash.log")
	write := func(s string) {
		t.Helper()
		f, err := openCrashLog(path, 100)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString(s); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	write(strings.Repeat("a", 60))
	write(strings.Repeat("b", 60)) // appended: 60 bytes were under the limit
	write("c")                     // 120 bytes: moved to .old first
	cur, _ := os.ReadFile(path)
	old, _ := os.ReadFile(path + ".old")
	if string(cur) != "c" || len(old) != 120 {
		t.Errorf("crash.log %q, crash.log.old %d bytes", cur, len(old))
	}
	if _, err := openCrashLog(filepath.Join(dir, "missing", "crash.log"), 100); err == nil {
		t.Error("a crash log in a missing directory was created")
	}
}

func TestServiceStartedHook(t *testing.T) {
	serviceStarted(context.Background()) // no hooks: nothing happens
	calls := 0
	ctx := withServiceHooks(context.Background(), &serviceHooks{started: func() { calls++ }})
	serviceStarted(ctx)
	if calls != 1 {
		t.Errorf("%d calls", calls)
	}
}
