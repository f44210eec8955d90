package pluginhost

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// Restarts: each start of a plugin comes at least restartBackoffMin after
// the one before, the gap doubling while the plugin keeps exiting within
// restartResetAfter of its start, up to restartBackoffMax. A plugin that
// ran longer than restartResetAfter starts over, so it is started again
// at once.
const (
	restartBackoffMin = time.Second
	restartBackoffMax = time.Minute
	restartResetAfter = time.Minute
	// DefaultCallTimeout bounds starting a plugin (its handshake and Info)
	// and each Configure call, at start-up, on reload and after a restart.
	DefaultCallTimeout = 10 * time.Second
	// killGrace is how long a stopped plugin may take to exit by itself
	// before its process tree is killed.
	killGrace = 2 * time.Second
	// deadlineSlack: a call failing this close to its deadline timed out.
	deadlineSlack = 250 * time.Millisecond
)

// ErrTimeout is wrapped by the errors of plugin calls that missed their
// deadline: the plugin may work later, unlike one that refused.
var ErrTimeout = errors.New("the plugin did not answer in time")

// Options configure a Host.
type Options struct {
	// Logger receives the host's and the plugins' log lines.
	Logger hclog.Logger
	// Now is the clock used for restart backoff; time.Now when nil.
	Now func() time.Time
	// CallTimeout bounds starting a plugin and each Configure;
	// DefaultCallTimeout when 0.
	CallTimeout time.Duration
	// Subreaper makes this process adopt the orphans of its plugins' trees
	// (Linux), so they can be ended; it affects the whole process.
	Subreaper bool
}

// Host runs the plugin processes the config uses. It is safe for
// concurrent use. No lock of the host or of a plugin is held during a call
// to a plugin, so a hung plugin delays only the calls that need it.
type Host struct {
	logger      hclog.Logger
	now         func() time.Time
	callTimeout time.Duration
	// markerPrefix starts the marker of every plugin this host starts.
	markerPrefix string
	seq          atomic.Int64

	mu        sync.Mutex
	plugins   map[string]*Plugin // by plugin name
	instances map[string]*Plugin // by instance (target) name
	pending   map[string]error   // instances waiting for their plugin, and why
	pids      map[int]bool       // plugin processes, for reapAdopted
	adopted   map[int]bool       // orphans seen alive
	warned    bool               // limits not enforced here
	// exits receives when a plugin process was reaped, for Supervise.
	exits chan struct{}
}

// New returns a Host with no plugins started.
func New(opts Options) *Host {
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = DefaultCallTimeout
	}
	if opts.Subreaper {
		if err := becomeSubreaper(); err != nil && !errors.Is(err, errors.ErrUnsupported) {
			opts.Logger.Warn("cannot adopt orphaned plugin processes; a plugin's descendant that leaves its process group may outlive it", "error", err.Error())
		}
	}
	return &Host{
		logger: opts.Logger, now: opts.Now, callTimeout: opts.CallTimeout,
		markerPrefix: fmt.Sprintf("%d.%x-", os.Getpid(), rand.Uint32()),
		plugins:      map[string]*Plugin{}, instances: map[string]*Plugin{}, pending: map[string]error{}, pids: map[int]bool{},
		exits: make(chan struct{}, 1),
	}
}

// Start starts the plugin f unless it runs already, and reads its Info.
func (h *Host) Start(ctx context.Context, f Found) (*Plugin, error) {
	return h.StartLimited(ctx, f, Limits{})
}

// StartLimited is Start with resource limits for the plugin's process,
// applied from its next start (Linux; elsewhere they are not enforced and
// a warning says so once).
func (h *Host) StartLimited(ctx context.Context, f Found, lim Limits) (*Plugin, error) {
	h.mu.Lock()
	p, ok := h.plugins[f.Name]
	if !ok {
		p = &Plugin{found: Found{Name: f.Name, Path: f.Path}, host: h, instances: map[string][]byte{}}
		p.logs = newLineLimiter(f.Name, h.logger)
		h.plugins[f.Name] = p
	}
	warn := lim != (Limits{}) && !limitsEnforced && !h.warned
	h.warned = h.warned || warn
	h.mu.Unlock()
	if warn {
		h.logger.Warn("memory_limit and cpu_limit are not enforced on " + runtime.GOOS)
	}
	p.mu.Lock()
	if !bytes.Equal(p.pin, f.SHA256) {
		p.pin, p.refused = f.SHA256, nil
	}
	p.limits = lim
	p.mu.Unlock()
	if _, err := p.live(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

// Plugin returns the running plugin called name.
func (h *Host) Plugin(name string) (*Plugin, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p, ok := h.plugins[name]
	return p, ok
}

// Configure sends an instance's settings to plugin p and remembers them so
// they are sent again after a restart. Invalid settings are sdk.FieldErrors;
// a plugin that does not answer within the call timeout gets an error
// wrapping ErrTimeout, and the instance is not remembered.
func (h *Host) Configure(ctx context.Context, p *Plugin, instance string, settings []byte) (string, error) {
	desc, err := p.configure(ctx, instance, settings)
	if err != nil {
		return "", err
	}
	h.mu.Lock()
	h.instances[instance] = p
	delete(h.pending, instance)
	h.mu.Unlock()
	return desc, nil
}

// Pending marks instance as waiting for its plugin (one that did not answer
// in time, say): until Configure succeeds for it, beats to it fail at once
// as temporary, saying why.
func (h *Host) Pending(instance string, reason error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.instances[instance]; !ok {
		h.pending[instance] = reason
	}
}

// Info returns the Info of the plugin serving instance.
func (h *Host) Info(instance string) (sdk.Info, bool) {
	h.mu.Lock()
	p, ok := h.instances[instance]
	h.mu.Unlock()
	if !ok {
		return sdk.Info{}, false
	}
	return p.Info(), true
}

// Beat delivers b to instance. A plugin that has exited is started again
// (subject to backoff) and its instances configured again first.
func (h *Host) Beat(ctx context.Context, instance string, b sdk.Beat) (sdk.Result, error) {
	h.mu.Lock()
	p, ok := h.instances[instance]
	reason, waiting := h.pending[instance]
	h.mu.Unlock()
	if waiting {
		return sdk.Result{}, sdk.Temporary(fmt.Errorf("the target is not ready (configuring it is retried in the background): %w", reason))
	}
	if !ok {
		return sdk.Result{}, sdk.Errorf(sdk.KindPermanent, "target %q is not configured", instance)
	}
	return p.beat(ctx, instance, b)
}

// StartBeat starts a beat to instance without waiting for it
// (sdk.BeatStarter): done gets the outcome once, as Beat would return it.
// ok is false, and Beat is the way, unless the instance is configured and
// its plugin runs and takes beats that way.
func (h *Host) StartBeat(instance string, b sdk.Beat, deadline time.Time, done func(sdk.Result, error)) (cut func(), ok bool) {
	h.mu.Lock()
	p, ok := h.instances[instance]
	_, waiting := h.pending[instance]
	h.mu.Unlock()
	if !ok || waiting {
		return nil, false
	}
	return p.startBeat(instance, b, deadline, done)
}

// Forget drops an instance: it is no longer configured after a restart and
// Beat no longer reaches it.
func (h *Host) Forget(instance string) {
	h.mu.Lock()
	p, ok := h.instances[instance]
	delete(h.instances, instance)
	delete(h.pending, instance)
	h.mu.Unlock()
	if ok {
		p.Forget(instance)
	}
}

// StopUnused ends the plugin processes whose names are not in keep.
func (h *Host) StopUnused(keep map[string]bool) {
	h.mu.Lock()
	var stop []*Plugin
	for name, p := range h.plugins {
		if !keep[name] {
			stop = append(stop, p)
			delete(h.plugins, name)
		}
	}
	for instance, p := range h.instances {
		if !keep[p.Name()] {
			delete(h.instances, instance)
		}
	}
	h.mu.Unlock()
	stopAll(stop)
}

// Plugins lists the plugins the host has started.
func (h *Host) Plugins() []*Plugin {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*Plugin, 0, len(h.plugins))
	for _, p := range h.plugins {
		out = append(out, p)
	}
	return out
}

// Stop ends every plugin process and whatever they started, and reports
// log lines dropped since the last report.
func (h *Host) Stop() {
	stopAll(h.Plugins())
	// Orphans of plugins stopped earlier, and of the plugins' starts.
	killTree(0, h.markerPrefix)
}

func stopAll(plugins []*Plugin) {
	var wg sync.WaitGroup
	for _, p := range plugins {
		wg.Go(p.stop)
	}
	wg.Wait()
}

func (h *Host) trackPid(pid int, running bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if running {
		h.pids[pid] = true
	} else {
		delete(h.pids, pid)
		poke(h.exits)
	}
}

// Plugin is one plugin binary and, while it runs, its process.
type Plugin struct {
	found Found
	host  *Host
	logs  *lineLimiter

	// mu guards the fields below. It is never held during a call to the
	// plugin or while a process starts or stops.
	mu        sync.Mutex
	pin       []byte // the binary's pinned SHA-256, if any
	limits    Limits
	proc      *process
	starting  *attempt // the start in progress, if any
	cancel    context.CancelFunc
	info      sdk.Info
	instances map[string][]byte
	startedAt time.Time
	starts    int
	backoff   time.Duration
	notBefore time.Time
	lastErr   error
	logged    string // the start failure last logged, to log a repeat once
	stopped   bool
	// refused is the binary that did not match its pin: it is not started
	// again until the file changes.
	refused os.FileInfo
}

// attempt is one start of a plugin's process; err is set before done is
// closed.
type attempt struct {
	done chan struct{}
	err  error
}

// process is one running plugin process.
type process struct {
	client *plugin.Client
	rpc    sdk.Client
	pid    int
	runner *procRunner
	marker string
	// outOfMemory is set when the process's log says so.
	outOfMemory *atomic.Bool
	// binary is the file the process was started from (see Upgrade).
	binary binaryID
}

// Name is the plugin's name, as in configs.
func (p *Plugin) Name() string { return p.found.Name }

// Path is the plugin binary.
func (p *Plugin) Path() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.found.Path
}

// Info is what the plugin said of itself when it last started.
func (p *Plugin) Info() sdk.Info {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.info
}

// Restarts counts how often the process was started again after the first.
func (p *Plugin) Restarts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return max(p.starts-1, 0)
}

// Running reports whether the plugin process is up.
func (p *Plugin) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.proc != nil && !p.proc.client.Exited()
}

// Pid is the plugin process id, 0 when not running.
func (p *Plugin) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc == nil || p.proc.client.Exited() {
		return 0
	}
	return p.proc.pid
}

// live returns a client of a running process, starting one when needed
// and waiting for a start in progress until ctx is done.
func (p *Plugin) live(ctx context.Context) (sdk.Client, error) {
	for {
		rpc, wait, err := p.ensure()
		if rpc != nil || err != nil {
			return rpc, err
		}
		select {
		case <-wait.done:
			if wait.err != nil {
				return nil, wait.err
			}
		case <-ctx.Done():
			return nil, sdk.Temporary(fmt.Errorf("plugin %s is still starting: %w", p.found.Name, ctx.Err()))
		}
	}
}

// ensure returns the client of the running process; or the start in
// progress (begun here if none was and none is due to wait); or why the
// plugin cannot run now. It never blocks on the plugin.
func (p *Plugin) ensure() (sdk.Client, *attempt, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return nil, nil, sdk.Errorf(sdk.KindPermanent, "plugin %s is stopped", p.found.Name)
	}
	if p.proc != nil && !p.proc.client.Exited() {
		return p.proc.rpc, nil, nil
	}
	if p.starting != nil {
		return nil, p.starting, nil
	}
	now := p.host.now()
	if dead := p.proc; dead != nil {
		// The process is gone: clean up, and back off before starting again.
		p.proc = nil
		go func() {
			reason := "it exited"
			if dead.runner != nil {
				reason = dead.runner.exitReason(dead.outOfMemory.Load())
			}
			p.host.logger.Error("plugin process exited unexpectedly; it is started again", "plugin", p.found.Name, "pid", dead.pid, "reason", reason)
			dead.kill()
		}()
		if now.Sub(p.startedAt) > restartResetAfter {
			p.backoff = 0
		}
		p.backoff = min(max(p.backoff*2, restartBackoffMin), restartBackoffMax)
		p.notBefore = p.startedAt.Add(p.backoff)
		p.lastErr = errors.New("its process exited")
	}
	if p.refused != nil {
		if sameFile(p.refused, p.found.Path) {
			return nil, nil, p.lastErr
		}
		p.refused = nil
	}
	if now.Before(p.notBefore) {
		return nil, nil, sdk.Errorf(sdk.KindTemporary, "plugin %s is not running (%v); it is started again in %s", p.found.Name, p.lastErr, p.notBefore.Sub(now).Round(100*time.Millisecond))
	}
	a := &attempt{done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	p.starting, p.cancel = a, cancel
	go p.start(ctx, a, p.found, maps.Clone(p.instances), p.limits, p.pin, now)
	return nil, a, nil
}

// start starts a process, reads its Info and configures every instance
// again, each step under the call timeout, then publishes the process.
func (p *Plugin) start(ctx context.Context, a *attempt, f Found, instances map[string][]byte, lim Limits, pin []byte, at time.Time) {
	proc, info, err := p.startProcess(ctx, f, lim, pin)
	if err == nil {
		for instance, settings := range instances {
			if _, cerr := p.call(ctx, "Configure of "+instance, func(ctx context.Context) (string, error) {
				return proc.rpc.Configure(ctx, instance, settings)
			}); cerr != nil {
				err = fmt.Errorf("configuring %s again: %w", instance, cerr)
				break
			}
		}
		if err != nil {
			proc.kill()
		}
	}
	p.mu.Lock()
	p.starting, p.cancel = nil, nil
	p.startedAt = at
	stopped := p.stopped
	switch {
	case err != nil:
		p.lastErr = err
		if p.refused == nil {
			p.backoff = min(max(p.backoff*2, restartBackoffMin), restartBackoffMax)
			p.notBefore = at.Add(p.backoff)
		}
		// A start that failed is logged when the plugin had run before
		// (a first start's error goes to its caller), and once per reason.
		if p.starts > 0 && err.Error() != p.logged && !stopped {
			p.logged = err.Error()
			p.host.logger.Error("plugin cannot be started", "plugin", p.found.Name, "error", err.Error())
		}
	case !stopped:
		p.proc, p.info, p.logged = proc, info, ""
		p.starts++
		if p.starts > 1 {
			p.host.logger.Warn("plugin restarted", "plugin", p.found.Name, "pid", proc.pid, "restarts", p.starts-1)
		} else {
			p.host.logger.Debug("plugin started", "plugin", p.found.Name, "version", info.Version, "pid", proc.pid)
		}
	}
	p.mu.Unlock()
	if err == nil && stopped {
		proc.kill()
		err = sdk.Errorf(sdk.KindPermanent, "plugin %s is stopped", p.found.Name)
	}
	a.err = err
	close(a.done)
}

// call runs one plugin call under the call timeout; a missed deadline
// becomes an error wrapping ErrTimeout.
func (p *Plugin) call(ctx context.Context, what string, fn func(context.Context) (string, error)) (string, error) {
	cctx, cancel := context.WithTimeout(ctx, p.host.callTimeout)
	defer cancel()
	deadline, _ := cctx.Deadline()
	out, err := fn(cctx)
	// The plugin learns the deadline too and may give up a moment before
	// the core does: an error that close to the deadline is a timeout.
	if err != nil && ctx.Err() == nil && (cctx.Err() != nil || time.Until(deadline) < deadlineSlack) {
		return "", sdk.Temporary(fmt.Errorf("plugin %s did not answer %s within %s: %w", p.found.Name, what, p.host.callTimeout, ErrTimeout))
	}
	return out, err
}

// startProcess starts a process of the binary f and reads its Info.
func (p *Plugin) startProcess(ctx context.Context, f Found, lim Limits, pin []byte) (*process, sdk.Info, error) {
	logger := p.host.logger
	if len(pin) > 0 {
		if err := p.checkPin(f, pin); err != nil {
			return nil, sdk.Info{}, err
		}
	}
	binary := identify(f.Path, pin)
	marker := p.host.markerPrefix + fmt.Sprint(p.host.seq.Add(1))
	oom := &atomic.Bool{}
	named := &limitedLogger{Logger: logger.Named(sdk.BinaryPrefix + f.Name), limit: p.logs, outOfMemory: oom}
	var mu sync.Mutex
	var run *procRunner
	env := []string{sdk.LogLevelEnv + "=" + levelName(logger), markerEnv + "=" + marker}
	started := func(r *procRunner) {
		p.host.trackPid(r.pid, true)
		mu.Lock()
		run = r
		mu.Unlock()
		if ctx.Err() != nil {
			// Stopped before the process ran: the watch below missed it.
			killTree(r.pid, marker)
		}
	}
	ended := func(r *procRunner) { p.host.trackPid(r.pid, false) }
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake(),
		VersionedPlugins: sdk.HostPluginSets(),
		RunnerFunc:       runnerFunc(f.Path, env, lim, started, ended),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		Logger:           &limitedLogger{Logger: logger, limit: p.logs, outOfMemory: oom},
		StartTimeout:     p.host.callTimeout,
		SyncStdout:       &lineLogger{logger: named.Named("stdout"), level: hclog.Info},
		SyncStderr:       &lineLogger{logger: named.Named("stderr"), level: hclog.Warn},
		GRPCDialOptions:  []grpc.DialOption{grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxAnswer))},
	})
	proc := &process{client: client, marker: marker, outOfMemory: oom, binary: binary}
	// A stop during the handshake kills the process, which ends the wait.
	stopWatch := context.AfterFunc(ctx, func() {
		mu.Lock()
		r := run
		mu.Unlock()
		if r != nil {
			killTree(r.pid, marker)
		}
	})
	defer stopWatch()
	fail := func(err error) (*process, sdk.Info, error) {
		proc.kill()
		if ctx.Err() != nil {
			err = errors.New("stopped while starting")
		}
		return nil, sdk.Info{}, sdk.Temporary(fmt.Errorf("cannot start plugin %s (%s): %w", f.Name, f.Path, err))
	}
	rpcProto, err := client.Client()
	mu.Lock()
	if run != nil {
		proc.runner, proc.pid = run, run.pid
	}
	mu.Unlock()
	if err != nil {
		if strings.Contains(err.Error(), "timeout while waiting for plugin to start") {
			err = fmt.Errorf("no handshake within %s: %w", p.host.callTimeout, ErrTimeout)
		}
		return fail(stdoutHint(f.Name, err))
	}
	raw, err := rpcProto.Dispense(sdk.PluginName)
	if err != nil {
		return fail(err)
	}
	inner, ok := raw.(sdk.Client)
	if !ok {
		return fail(fmt.Errorf("it does not speak the target contract"))
	}
	proc.rpc = boundedClient{rpc: inner}
	var info sdk.Info
	if _, err := p.call(ctx, "Info", func(ctx context.Context) (string, error) {
		var err error
		info, err = proc.rpc.Info(ctx)
		return "", err
	}); err != nil {
		return fail(fmt.Errorf("reading its info: %w", err))
	}
	if info.Name != f.Name {
		proc.kill()
		return nil, sdk.Info{}, sdk.Permanent(fmt.Errorf("plugin file %s says its name is %q, not %q: rename the file to %s, or build the plugin with Info.Name %q", f.Path, info.Name, f.Name, FileName(info.Name), f.Name))
	}
	return proc, info, nil
}

// checkPin compares the binary with its pinned SHA-256. A mismatch is
// logged at error level once and the file is not tried again until it
// changes.
func (p *Plugin) checkPin(f Found, pin []byte) error {
	stat, statErr := os.Stat(f.Path)
	sum, err := FileSHA256(f.Path)
	if err != nil || statErr != nil {
		return sdk.Temporary(fmt.Errorf("cannot start plugin %s: reading %s: %w", f.Name, f.Path, errors.Join(statErr, err)))
	}
	if bytes.Equal(sum, pin) {
		return nil
	}
	err = sdk.Permanent(fmt.Errorf("plugin %s (%s) refused: its checksum does not match the sha256 pinned in the config (the file's is %s): the binary changed; check where the new one came from, then update the pin: `heartbeat plugins --sha256` prints the checksum to put in plugins: {%s: {sha256: ...}}",
		f.Name, f.Path, hex.EncodeToString(sum), f.Name))
	p.mu.Lock()
	p.refused = stat
	ran := p.starts > 0
	p.mu.Unlock()
	if ran {
		p.host.logger.Error("plugin refused: its checksum does not match the pin; it is not started again until the file changes", "plugin", f.Name, "error", err.Error())
	}
	return err
}

func (p *Plugin) configure(ctx context.Context, instance string, settings []byte) (string, error) {
	rpc, err := p.live(ctx)
	if err != nil {
		return "", err
	}
	desc, err := p.call(ctx, "Configure of "+instance, func(ctx context.Context) (string, error) {
		return rpc.Configure(ctx, instance, settings)
	})
	if err != nil {
		return "", err
	}
	p.mu.Lock()
	p.instances[instance] = settings
	p.mu.Unlock()
	return desc, nil
}

// Forget drops an instance so it is not configured again after a restart.
func (p *Plugin) Forget(instance string) {
	p.mu.Lock()
	delete(p.instances, instance)
	p.mu.Unlock()
}

func (p *Plugin) beat(ctx context.Context, instance string, b sdk.Beat) (sdk.Result, error) {
	rpc, err := p.live(ctx)
	if err != nil {
		return sdk.Result{}, err
	}
	res, err := rpc.Beat(ctx, instance, b)
	return p.afterBeat(ctx, rpc, instance, b, res, err)
}

// afterBeat is what a beat's answer from rpc comes to: a plugin that no
// longer knows the instance (it restarted between our check and the call)
// has it configured again and gets the beat once more; a failure while the
// process exits says so.
func (p *Plugin) afterBeat(ctx context.Context, rpc sdk.Client, instance string, b sdk.Beat, res sdk.Result, err error) (sdk.Result, error) {
	if err != nil && sdk.KindOf(err) == sdk.KindNotConfigured {
		p.mu.Lock()
		settings, ok := p.instances[instance]
		p.mu.Unlock()
		if ok {
			if _, cerr := rpc.Configure(ctx, instance, settings); cerr == nil {
				return rpc.Beat(ctx, instance, b)
			}
		}
	}
	if err != nil && p.exited() {
		return sdk.Result{}, sdk.Temporary(fmt.Errorf("plugin %s exited during the beat: %w", p.found.Name, err))
	}
	return res, err
}

// startBeat starts a beat without waiting for it, when the process runs
// and its client can (sdk.BeatStarter). An answer that the plugin does not
// know the instance is handled as Beat does, on a goroutine of its own, for
// configuring the instance again waits on the plugin; that goroutine ends
// by the deadline, cut or not.
func (p *Plugin) startBeat(instance string, b sdk.Beat, deadline time.Time, done func(sdk.Result, error)) (cut func(), ok bool) {
	p.mu.Lock()
	var rpc sdk.Client
	if !p.stopped && p.proc != nil && !p.proc.client.Exited() {
		rpc = p.proc.rpc
	}
	p.mu.Unlock()
	starter, ok := rpc.(sdk.BeatStarter)
	if !ok {
		return nil, false
	}
	return starter.StartBeat(instance, b, deadline, func(res sdk.Result, err error) {
		if err == nil {
			done(res, nil)
			return
		}
		if sdk.KindOf(err) != sdk.KindNotConfigured {
			done(p.afterBeat(context.Background(), rpc, instance, b, res, err))
			return
		}
		go func() {
			ctx, cancel := context.WithDeadline(context.Background(), deadline)
			defer cancel()
			done(p.afterBeat(ctx, rpc, instance, b, res, err))
		}()
	})
}

func (p *Plugin) isStopped() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopped
}

func (p *Plugin) exited() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.proc == nil || p.proc.client.Exited()
}

// stop ends the process, a start in progress included, and reports the
// log lines dropped since the last report.
func (p *Plugin) stop() {
	p.mu.Lock()
	p.stopped = true
	proc, starting, cancel := p.proc, p.starting, p.cancel
	p.proc = nil
	p.mu.Unlock()
	if cancel != nil {
		cancel()
		<-starting.done
	}
	if proc != nil {
		proc.kill()
	}
	p.logs.flush()
}

// kill ends the process: go-plugin asks it to exit, then its whole tree
// is killed. go-plugin's Kill also waits for the plugin's output to end,
// which a descendant holding it open would delay; the tree kill ends that.
func (pr *process) kill() {
	done := make(chan struct{})
	go func() {
		pr.client.Kill()
		close(done)
	}()
	var exited <-chan struct{}
	if pr.runner != nil {
		exited = pr.runner.exited
	}
	select {
	case <-done:
	case <-exited:
	case <-time.After(killGrace):
	}
	killTree(pr.pid, pr.marker)
	select {
	case <-done:
	case <-time.After(killGrace):
	}
}

func levelName(l hclog.Logger) string {
	switch {
	case l.IsTrace():
		return "trace"
	case l.IsDebug():
		return "debug"
	case l.IsInfo():
		return "info"
	case l.IsWarn():
		return "warn"
	}
	return "error"
}
