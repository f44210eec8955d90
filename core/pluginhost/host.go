package pluginhost

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os/exec"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// Restart backoff: a crashing plugin is started again after 1 s, 2 s, 4 s...
// up to a minute; a plugin that stayed up for restartResetAfter starts over.
const (
	restartBackoffMin = time.Second
	restartBackoffMax = time.Minute
	restartResetAfter = time.Minute
	startTimeout      = 10 * time.Second
)

// Options configure a Host.
type Options struct {
	// Logger receives the host's and the plugins' log lines.
	Logger hclog.Logger
	// Now is the clock used for restart backoff; time.Now when nil.
	Now func() time.Time
}

// Host runs the plugin processes the config uses. It is safe for
// concurrent use.
type Host struct {
	logger hclog.Logger
	now    func() time.Time

	mu        sync.Mutex
	plugins   map[string]*Plugin // by plugin name
	instances map[string]*Plugin // by instance (target) name
}

// New returns a Host with no plugins started.
func New(opts Options) *Host {
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Host{logger: opts.Logger, now: opts.Now, plugins: map[string]*Plugin{}, instances: map[string]*Plugin{}}
}

// Start starts the plugin f unless it runs already, and reads its Info.
func (h *Host) Start(ctx context.Context, f Found) (*Plugin, error) {
	h.mu.Lock()
	p, ok := h.plugins[f.Name]
	if !ok {
		p = &Plugin{found: f, host: h, instances: map[string][]byte{}}
		h.plugins[f.Name] = p
	}
	h.mu.Unlock()
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
// they are sent again after a restart. Invalid settings are sdk.FieldErrors.
func (h *Host) Configure(ctx context.Context, p *Plugin, instance string, settings []byte) (string, error) {
	desc, err := p.configure(ctx, instance, settings)
	if err != nil {
		return "", err
	}
	h.mu.Lock()
	h.instances[instance] = p
	h.mu.Unlock()
	return desc, nil
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
	h.mu.Unlock()
	if !ok {
		return sdk.Result{}, sdk.Errorf(sdk.KindPermanent, "target %q is not configured", instance)
	}
	return p.beat(ctx, instance, b)
}

// superviseInterval is how often Supervise looks for exited plugins.
const superviseInterval = time.Second

// Supervise starts plugins that exited again (subject to the restart
// backoff) without waiting for the next beat that needs them, until ctx is
// done, so a heartbeat beating hourly does not find its plugin dead.
func (h *Host) Supervise(ctx context.Context) {
	t := time.NewTicker(superviseInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, p := range h.Plugins() {
			if p.Running() || p.isStopped() {
				continue
			}
			startCtx, cancel := context.WithTimeout(ctx, startTimeout)
			if _, err := p.live(startCtx); err != nil {
				h.logger.Debug("plugin not running", "plugin", p.Name(), "error", err.Error())
			}
			cancel()
		}
	}
}

// Forget drops an instance: it is no longer configured after a restart and
// Beat no longer reaches it.
func (h *Host) Forget(instance string) {
	h.mu.Lock()
	p, ok := h.instances[instance]
	delete(h.instances, instance)
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
	for _, p := range stop {
		p.stop()
	}
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

// Stop ends every plugin process.
func (h *Host) Stop() {
	h.mu.Lock()
	plugins := make([]*Plugin, 0, len(h.plugins))
	for _, p := range h.plugins {
		plugins = append(plugins, p)
	}
	h.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range plugins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.stop()
		}()
	}
	wg.Wait()
}

// Plugin is one plugin binary and, while it runs, its process.
type Plugin struct {
	found Found
	host  *Host

	mu        sync.Mutex
	client    *plugin.Client
	rpc       sdk.Client
	pid       int
	info      sdk.Info
	instances map[string][]byte
	startedAt time.Time
	starts    int
	backoff   time.Duration
	notBefore time.Time
	stopped   bool
}

// Name is the plugin's name, as in configs.
func (p *Plugin) Name() string { return p.found.Name }

// Path is the plugin binary.
func (p *Plugin) Path() string { return p.found.Path }

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
	return p.client != nil && !p.client.Exited()
}

// Pid is the plugin process id, 0 when not running.
func (p *Plugin) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.client == nil || p.client.Exited() {
		return 0
	}
	return p.pid
}

// live returns a client of a running process, starting one when needed.
func (p *Plugin) live(ctx context.Context) (sdk.Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return nil, sdk.Errorf(sdk.KindPermanent, "plugin %s is stopped", p.found.Name)
	}
	if p.client != nil && !p.client.Exited() {
		return p.rpc, nil
	}
	now := p.host.now()
	if p.client != nil {
		// The process is gone: clean up, and back off before starting again.
		p.host.logger.Error("plugin process exited unexpectedly", "plugin", p.found.Name, "pid", p.pid)
		p.client.Kill()
		killGroup(p.pid)
		p.client, p.rpc = nil, nil
		if now.Sub(p.startedAt) > restartResetAfter {
			p.backoff = 0
		}
		p.backoff = min(max(p.backoff*2, restartBackoffMin), restartBackoffMax)
		p.notBefore = p.startedAt.Add(p.backoff)
	}
	if now.Before(p.notBefore) {
		return nil, sdk.Errorf(sdk.KindTemporary, "plugin %s crashed and is restarted in %s", p.found.Name, p.notBefore.Sub(now).Round(time.Second))
	}
	if err := p.startLocked(ctx); err != nil {
		p.startedAt = now
		p.backoff = min(max(p.backoff*2, restartBackoffMin), restartBackoffMax)
		p.notBefore = now.Add(p.backoff)
		return nil, err
	}
	p.startedAt = now
	return p.rpc, nil
}

func (p *Plugin) startLocked(ctx context.Context) error {
	logger := p.host.logger
	cmd := exec.Command(p.found.Path)
	cmd.Env = []string{sdk.LogLevelEnv + "=" + levelName(logger)}
	isolate(cmd)
	named := logger.Named(sdk.BinaryPrefix + p.found.Name)
	var secure *plugin.SecureConfig
	if len(p.found.SHA256) > 0 {
		secure = &plugin.SecureConfig{Checksum: p.found.SHA256, Hash: sha256.New()}
	}
	client := plugin.NewClient(&plugin.ClientConfig{
		SecureConfig:     secure,
		HandshakeConfig:  sdk.Handshake(),
		VersionedPlugins: sdk.HostPluginSets(),
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		Logger:           logger,
		StartTimeout:     startTimeout,
		SyncStdout:       &lineLogger{logger: named.Named("stdout"), level: hclog.Info},
		SyncStderr:       &lineLogger{logger: named.Named("stderr"), level: hclog.Warn},
	})
	fail := func(err error) error {
		client.Kill()
		if rc := client.ReattachConfig(); rc != nil {
			killGroup(rc.Pid)
		}
		return sdk.Temporary(fmt.Errorf("cannot start plugin %s (%s): %w", p.found.Name, p.found.Path, err))
	}
	proto, err := client.Client()
	if errors.Is(err, plugin.ErrChecksumsDoNotMatch) {
		client.Kill()
		return sdk.Permanent(fmt.Errorf("plugin %s (%s) does not match the sha256 pinned in the config: the binary changed; check where the new one came from, then update the pin with heartbeat plugins --sha256", p.found.Name, p.found.Path))
	}
	if err != nil {
		return fail(err)
	}
	raw, err := proto.Dispense(sdk.PluginName)
	if err != nil {
		return fail(err)
	}
	rpc, ok := raw.(sdk.Client)
	if !ok {
		return fail(fmt.Errorf("it does not speak the target contract"))
	}
	infoCtx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	info, err := rpc.Info(infoCtx)
	if err != nil {
		return fail(fmt.Errorf("reading its info: %w", err))
	}
	pid := 0
	if rc := client.ReattachConfig(); rc != nil {
		pid = rc.Pid
	}
	// After a restart the new process knows no instance yet.
	for instance, settings := range p.instances {
		if _, err := rpc.Configure(infoCtx, instance, settings); err != nil {
			return fail(fmt.Errorf("configuring %s again: %w", instance, err))
		}
	}
	p.client, p.rpc, p.info, p.pid = client, rpc, info, pid
	p.starts++
	if p.starts > 1 {
		p.host.logger.Warn("plugin restarted", "plugin", p.found.Name, "pid", pid, "restarts", p.starts-1)
	} else {
		p.host.logger.Debug("plugin started", "plugin", p.found.Name, "version", info.Version, "pid", pid)
	}
	return nil
}

func (p *Plugin) configure(ctx context.Context, instance string, settings []byte) (string, error) {
	rpc, err := p.live(ctx)
	if err != nil {
		return "", err
	}
	desc, err := rpc.Configure(ctx, instance, settings)
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
	if err != nil && sdk.KindOf(err) == sdk.KindNotConfigured {
		// The process restarted between our check and the call.
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

func (p *Plugin) isStopped() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopped
}

func (p *Plugin) exited() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.client == nil || p.client.Exited()
}

func (p *Plugin) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopped = true
	if p.client == nil {
		return
	}
	p.client.Kill()
	killGroup(p.pid)
	p.client, p.rpc = nil, nil
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
