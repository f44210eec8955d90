package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/eventlog"
	"golang.org/x/sys/windows/svc/mgr"
)

// serviceStartWaitHint is what the service tells the service manager its
// start takes: the plugins are started and configured, each within 10 s.
const serviceStartWaitHint = 30 * time.Second

// serviceProgress is how often a pending start or stop tells the service
// manager it is still making progress.
const serviceProgress = 2 * time.Second

// dataDirSDDL protects %ProgramData%\heartbeat when install creates it:
// only SYSTEM (the service's account) and administrators may read or
// write it. The config may hold secrets, and whoever can write the config
// chooses the plugins the service runs as SYSTEM; the folder would
// otherwise inherit ProgramData's rule that lets every user create files.
const dataDirSDDL = "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"

func serviceAction(ctx context.Context, action string, o *serviceOptions, stdout, stderr io.Writer) int {
	m, err := mgr.Connect()
	if err != nil {
		fmt.Fprintf(stderr, "error: cannot reach the service manager: %v%s\n", err, adminHint(err))
		return exitFailed
	}
	defer m.Disconnect()
	switch action {
	case "install":
		return serviceInstall(m, o, stdout, stderr)
	case "uninstall":
		return serviceUninstall(ctx, m, o, stdout, stderr)
	case "start":
		return serviceStart(ctx, m, o, stdout, stderr)
	case "stop":
		return serviceStop(ctx, m, o, stdout, stderr)
	}
	fmt.Fprintf(stderr, "error: heartbeat service %q: use one of %s\n", clipServiceArg(action), strings.Join(serviceActions(), ", "))
	return exitInvalid
}

// adminHint is the fix for an access the service manager refused.
func adminHint(err error) string {
	if errors.Is(err, windows.ERROR_ACCESS_DENIED) {
		return "; heartbeat service needs an administrator: run it from an elevated prompt (Run as administrator)"
	}
	return ""
}

func serviceInstall(m *mgr.Mgr, o *serviceOptions, stdout, stderr io.Writer) int {
	exe, err := os.Executable()
	if err == nil {
		exe, err = filepath.EvalSymlinks(exe)
	}
	if err != nil {
		fmt.Fprintf(stderr, "error: cannot find heartbeat's own executable: %v\n", err)
		return exitFailed
	}
	config := o.config
	if config == "" {
		config = systemConfigPath("windows", os.Getenv)
		if err := ensureDataDir(filepath.Dir(config), stdout); err != nil {
			fmt.Fprintf(stderr, "error: %v\n", err)
			return exitFailed
		}
	}
	warning, err := checkServiceConfig(config, "windows", os.Stat)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return exitInvalid
	}
	if s, err := m.OpenService(o.name); err == nil {
		s.Close()
		fmt.Fprintf(stderr, "error: a service named %s is installed already; run heartbeat service uninstall --name %s first, or choose another --name\n", o.name, o.name)
		return exitFailed
	}
	line := serviceCommandLine(exe, serviceArgs(config))
	display := serviceDisplayName
	if o.name != defaultServiceName {
		display += " (" + o.name + ")"
	}
	s, err := m.CreateService(o.name, exe, mgr.Config{
		DisplayName:  display,
		Description:  `Sends periodic "I'm alive" beats to monitoring tools, as configured in ` + config,
		StartType:    mgr.StartAutomatic,
		ErrorControl: mgr.ErrorNormal,
	})
	if err != nil {
		fmt.Fprintf(stderr, "error: cannot install the service %s: %v%s\n", o.name, err, adminHint(err))
		return exitFailed
	}
	defer s.Close()
	if err := configureService(s, line); err != nil {
		_ = s.Delete()
		fmt.Fprintf(stderr, "error: cannot configure the service %s (it was removed again): %v\n", o.name, err)
		return exitFailed
	}
	if err := eventlog.InstallAsEventCreate(o.name, eventlog.Error|eventlog.Warning|eventlog.Info); err != nil && !strings.Contains(err.Error(), "already exists") {
		fmt.Fprintf(stderr, "warning: the event log source %s could not be registered (%v): its events show without their text\n", o.name, err)
	}
	fmt.Fprintf(stdout, "installed the service %s: %s\nit starts with Windows; on a crash it is restarted after 5s; on an invalid config (exit 2) it stops\nits log is in the Windows event log (Application, source %s)\n", o.name, line, o.name)
	if warning != "" {
		fmt.Fprintf(stdout, "warning: %s\n", warning)
	}
	fmt.Fprintf(stdout, "start it with: heartbeat service start%s\n", nameFlag(o.name))
	return exitOK
}

// nameFlag is the --name flag to repeat in a hint, "" for the default.
func nameFlag(name string) string {
	if name == defaultServiceName {
		return ""
	}
	return " --name " + name
}

// configureService gives s its command line (quoted by
// serviceCommandLine, not by mgr) and its recovery actions: restart 5 s
// after a crash, every time, the count reset after a day without one.
// Recovery actions apply to crashes only: a service that stops and
// reports an exit code (exit 2, an invalid config) is not restarted.
func configureService(s *mgr.Service, line string) error {
	p, err := windows.UTF16PtrFromString(line)
	if err != nil {
		return err
	}
	if err := windows.ChangeServiceConfig(s.Handle, windows.SERVICE_NO_CHANGE, windows.SERVICE_NO_CHANGE, windows.SERVICE_NO_CHANGE,
		p, nil, nil, nil, nil, nil, nil); err != nil {
		return fmt.Errorf("setting its command line: %w", err)
	}
	restart := mgr.RecoveryAction{Type: mgr.ServiceRestart, Delay: 5 * time.Second}
	if err := s.SetRecoveryActions([]mgr.RecoveryAction{restart, restart, restart}, uint32((24 * time.Hour).Seconds())); err != nil {
		return fmt.Errorf("setting its recovery actions: %w", err)
	}
	if err := s.SetRecoveryActionsOnNonCrashFailures(false); err != nil {
		return fmt.Errorf("setting its recovery actions: %w", err)
	}
	return nil
}

// ensureDataDir creates %ProgramData%\heartbeat, readable and writable by
// SYSTEM and administrators only (dataDirSDDL), when it does not exist.
// An existing directory is left as it is, with a reminder of who should
// be able to write it.
func ensureDataDir(dir string, stdout io.Writer) error {
	if _, err := os.Stat(dir); err == nil {
		fmt.Fprintf(stdout, "warning: %s exists already and its permissions were not changed: only SYSTEM and administrators should be able to write it (the config chooses the programs the service runs); to make it so: icacls %s /inheritance:r /grant:r *S-1-5-18:(OI)(CI)F *S-1-5-32-544:(OI)(CI)F (SYSTEM and Administrators by their SIDs)\n", dir, quoteWindowsArg(dir))
		return nil
	}
	sd, err := windows.SecurityDescriptorFromString(dataDirSDDL)
	if err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	p, err := windows.UTF16PtrFromString(dir)
	if err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	sa := windows.SecurityAttributes{SecurityDescriptor: sd}
	sa.Length = uint32(unsafe.Sizeof(sa))
	if err := windows.CreateDirectory(p, &sa); err != nil {
		return fmt.Errorf("creating %s: %w%s", dir, err, adminHint(err))
	}
	fmt.Fprintf(stdout, "created %s, readable and writable by SYSTEM and administrators only: put heartbeat.yaml there\n", dir)
	return nil
}

func openService(m *mgr.Mgr, name string, stderr io.Writer) (*mgr.Service, bool) {
	s, err := m.OpenService(name)
	if err != nil {
		if errors.Is(err, windows.ERROR_SERVICE_DOES_NOT_EXIST) {
			fmt.Fprintf(stderr, "error: no service named %s is installed; install it with heartbeat service install%s\n", name, nameFlag(name))
		} else {
			fmt.Fprintf(stderr, "error: cannot open the service %s: %v%s\n", name, err, adminHint(err))
		}
		return nil, false
	}
	return s, true
}

// queryFunc asks the service manager for s's status.
func queryFunc(s *mgr.Service) func() (serviceStatus, error) {
	return func() (serviceStatus, error) {
		st, err := s.Query()
		if err != nil {
			return serviceStatus{}, err
		}
		return serviceStatus{State: stateOf(st.State), Win32ExitCode: st.Win32ExitCode, SpecificExitCode: st.ServiceSpecificExitCode}, nil
	}
}

func stateOf(s svc.State) serviceState {
	switch s {
	case svc.Stopped:
		return stateStopped
	case svc.StartPending:
		return stateStartPending
	case svc.StopPending:
		return stateStopPending
	case svc.Running:
		return stateRunning
	}
	return stateOther
}

// stopAndWait asks s to stop, unless it is stopped, and waits for it.
func stopAndWait(ctx context.Context, s *mgr.Service, timeout time.Duration) (serviceStatus, error) {
	query := queryFunc(s)
	st, err := query()
	if err != nil {
		return st, err
	}
	if st.State == stateStartPending {
		// A starting service takes no stop: let it get there first.
		if st, err = waitForState(ctx, query, timeout, stateRunning, stateStopped); err != nil {
			return st, err
		}
	}
	switch st.State {
	case stateStopped:
		return st, nil
	case stateStopPending: // stopping already
	default:
		if _, err := s.Control(svc.Stop); err != nil && !errors.Is(err, windows.ERROR_SERVICE_NOT_ACTIVE) {
			return st, fmt.Errorf("asking it to stop: %w%s", err, adminHint(err))
		}
	}
	return waitForState(ctx, query, timeout, stateStopped)
}

func serviceUninstall(ctx context.Context, m *mgr.Mgr, o *serviceOptions, stdout, stderr io.Writer) int {
	s, ok := openService(m, o.name, stderr)
	if !ok {
		return exitFailed
	}
	defer s.Close()
	if _, err := stopAndWait(ctx, s, o.timeout); err != nil {
		fmt.Fprintf(stderr, "error: cannot stop the service %s before removing it: %v\n", o.name, err)
		return exitFailed
	}
	if err := s.Delete(); err != nil && !errors.Is(err, windows.ERROR_SERVICE_MARKED_FOR_DELETE) {
		fmt.Fprintf(stderr, "error: cannot remove the service %s: %v%s\n", o.name, err, adminHint(err))
		return exitFailed
	}
	_ = eventlog.Remove(o.name) // the source may never have been registered
	fmt.Fprintf(stdout, "removed the service %s; its config and %s are left in place\n", o.name, windowsDataDir(os.Getenv))
	return exitOK
}

func serviceStart(ctx context.Context, m *mgr.Mgr, o *serviceOptions, stdout, stderr io.Writer) int {
	s, ok := openService(m, o.name, stderr)
	if !ok {
		return exitFailed
	}
	defer s.Close()
	if err := s.Start(); err != nil {
		if errors.Is(err, windows.ERROR_SERVICE_ALREADY_RUNNING) {
			fmt.Fprintf(stdout, "the service %s is running already\n", o.name)
			return exitOK
		}
		fmt.Fprintf(stderr, "error: cannot start the service %s: %v%s\n", o.name, err, adminHint(err))
		return exitFailed
	}
	st, err := waitForState(ctx, queryFunc(s), o.timeout, stateRunning, stateStopped)
	if err != nil {
		fmt.Fprintf(stderr, "error: the service %s: %v\n", o.name, err)
		return exitFailed
	}
	if st.State == stateStopped {
		fmt.Fprintf(stderr, "error: the service %s did not start: %s\n", o.name, describeServiceExit(st, o.name))
		return exitFailed
	}
	fmt.Fprintf(stdout, "the service %s is running: its plugins are started and configured, and the start-up beats are on their way\n", o.name)
	return exitOK
}

func serviceStop(ctx context.Context, m *mgr.Mgr, o *serviceOptions, stdout, stderr io.Writer) int {
	s, ok := openService(m, o.name, stderr)
	if !ok {
		return exitFailed
	}
	defer s.Close()
	st, err := stopAndWait(ctx, s, o.timeout)
	if err != nil {
		fmt.Fprintf(stderr, "error: cannot stop the service %s: %v\n", o.name, err)
		return exitFailed
	}
	fmt.Fprintf(stdout, "the service %s is stopped (%s)\n", o.name, describeServiceExit(st, o.name))
	return exitOK
}

// runService runs heartbeat inside svc.Run when the service manager
// started it; ok is false otherwise (a console, a scheduled task).
func runService(args []string) (code int, ok bool) {
	isService, err := svc.IsWindowsService()
	if err != nil || !isService {
		return 0, false
	}
	// A service has no console: the Go runtime's fatal errors go to a
	// file, in the directory install protects (not created here, which
	// would give it ProgramData's looser rights).
	dir := windowsDataDir(os.Getenv)
	if info, err := os.Stat(dir); err == nil && info.IsDir() {
		if f, err := openCrashLog(dir+`\crash.log`, maxCrashLog); err == nil {
			_ = debug.SetCrashOutput(f, debug.CrashOptions{})
			defer f.Close()
		}
	}
	h := &serviceHandler{args: args}
	if err := svc.Run(defaultServiceName, h); err != nil {
		return exitFailed, true
	}
	return h.code, true
}

// serviceHandler runs heartbeat's command (run, from the command line the
// service was installed with) under the service manager.
type serviceHandler struct {
	args []string
	code int
}

// discardSink stands for the event log when it cannot be opened.
type discardSink struct{}

func (discardSink) Info(uint32, string) error    { return nil }
func (discardSink) Warning(uint32, string) error { return nil }
func (discardSink) Error(uint32, string) error   { return nil }

// Execute reports StartPending until heartbeat has started (its plugins
// started and configured), then Running. Stop, Shutdown and PreShutdown
// take the path SIGTERM takes: the command's context ends, the beats in
// flight finish, the plugins stop; meanwhile the service reports
// StopPending with a wait hint, and progress every two seconds.
func (h *serviceHandler) Execute(svcArgs []string, reqs <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	name := defaultServiceName
	if len(svcArgs) > 0 && checkServiceName(svcArgs[0]) == nil {
		name = svcArgs[0] // the name the service was installed under
	}
	var sink eventSink = discardSink{}
	if elog, err := eventlog.Open(name); err == nil {
		defer elog.Close()
		sink = elog
	}
	out := newEventLogWriter(sink)
	defer out.Flush()

	current := svc.Status{State: svc.StartPending, WaitHint: millis(serviceStartWaitHint)}
	status <- current
	started := make(chan struct{})
	var once sync.Once
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ctx = withServiceHooks(ctx, &serviceHooks{started: func() { once.Do(func() { close(started) }) }})
	done := make(chan int, 1)
	go func() { done <- run(ctx, h.args, out, out) }()

	progress := time.NewTicker(serviceProgress)
	defer progress.Stop()
	stopping := false
	for {
		select {
		case <-started:
			started = nil
			if !stopping {
				current = svc.Status{State: svc.Running, Accepts: svc.AcceptStop | svc.AcceptShutdown | svc.AcceptPreShutdown}
				status <- current
			}
		case <-progress.C:
			if current.State == svc.StartPending || current.State == svc.StopPending {
				current.CheckPoint++
				status <- current
			}
		case r := <-reqs:
			switch r.Cmd {
			case svc.Interrogate:
				status <- current
			case svc.Stop, svc.Shutdown, svc.PreShutdown:
				if !stopping {
					stopping = true
					_ = sink.Info(eventInfo, "heartbeat: the service manager asked heartbeat to stop: finishing beats in flight, then stopping the plugins")
					cancel()
					current = svc.Status{State: svc.StopPending, WaitHint: millis(serviceStopWaitHint)}
					status <- current
				}
			}
		case code := <-done:
			h.code = code
			specific, exitCode, crash := serviceExit(code, stopping)
			if crash {
				_ = sink.Error(eventError, fmt.Sprintf("heartbeat: ended with exit code %d; the service manager starts it again in 5s", code))
				out.Flush()
				os.Exit(code) // without reporting Stopped: a crash, which the recovery action restarts
			}
			if specific {
				_ = sink.Error(eventError, fmt.Sprintf("heartbeat: stopped with exit code %d (%s); the service is not restarted for it", code, exitMeaning(code)))
			}
			return specific, exitCode
		}
	}
}

func millis(d time.Duration) uint32 { return uint32(d.Milliseconds()) }

// exitMeaning names an exit code of run.
func exitMeaning(code int) string {
	switch code {
	case exitInvalid:
		return "the config is invalid: check it with heartbeat validate --config PATH"
	case exitFailed:
		return "heartbeat failed"
	}
	return "unexpected"
}
