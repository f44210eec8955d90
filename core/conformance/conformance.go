// Package conformance is the suite every target plugin binary must pass,
// whatever its language: it starts the binary as the core does (go-plugin,
// gRPC, AutoMTLS) and checks the contract call by call, each call under a
// deadline, so a plugin that hangs, floods or crashes cannot hold it.
package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// Status is the outcome of one check.
type Status int

// The outcomes. Only Fail makes the plugin non-conforming.
const (
	Pass Status = iota
	Fail
	// Warn: probably a mistake, but not a breach of the contract.
	Warn
	// Skip: the check cannot run here or without --settings.
	Skip
)

func (s Status) String() string {
	switch s {
	case Pass:
		return "PASS"
	case Fail:
		return "FAIL"
	case Warn:
		return "WARN"
	}
	return "SKIP"
}

// Result is one named check.
type Result struct {
	Name   string
	Status Status
	Detail string
}

// The checks, in the order they run.
const (
	CheckHandshake    = "handshake"
	CheckStdout       = "stdout"
	CheckInfo         = "info"
	CheckInfoName     = "info.name"
	CheckInfoSignals  = "info.signals"
	CheckInfoSettings = "info.settings"
	CheckInfoSecrets  = "info.secrets"
	CheckConfEmpty    = "configure.empty"
	CheckConfErrors   = "configure.errors"
	CheckSecretDesc   = "secret.describe"
	CheckSecretErrors = "secret.errors"
	CheckUnconfigured = "beat.unconfigured"
	CheckDeadline     = "beat.deadline"
	CheckConcurrent   = "beat.concurrent"
	CheckStream       = "beat.stream"
	CheckLive         = "beat.live"
	CheckSecretLog    = "secret.log"
	CheckHostDeath    = "exit.host-death"
)

// Defaults of Options.
const (
	DefaultCallTimeout  = 10 * time.Second
	DefaultBeatDeadline = 2 * time.Second
	DefaultGrace        = 8 * time.Second
	DefaultTimeout      = 3 * time.Minute
	// ConcurrentBeats is how many beats beat.concurrent sends at once.
	ConcurrentBeats = 50
)

// Options tune a run. The zero value is usable.
type Options struct {
	// Settings, a JSON object, is a configuration the plugin accepts: with
	// it the suite also delivers one live beat, and checks deadlines
	// against a destination that never answers.
	Settings []byte
	// CallTimeout bounds the handshake and every call that should answer
	// at once (Info, Configure, a beat to a local server).
	CallTimeout time.Duration
	// BeatDeadline is the deadline beat.deadline gives the plugin, and
	// Grace how much longer it waits for an answer before failing it.
	BeatDeadline, Grace time.Duration
	// Timeout bounds the whole run.
	Timeout time.Duration
	// Report, when set, is called with each result as soon as it is known.
	Report func(Result)
}

// maxCapture bounds what is kept of the plugin's stdout and stderr.
const maxCapture = 4 << 20

// maxAnswer bounds one gRPC answer of the plugin.
const maxAnswer = 1 << 20

// Run runs every check on the plugin binary at path and returns the
// results in order. It never runs longer than opts.Timeout (plus the time
// to kill what it started).
func Run(ctx context.Context, path string, opts Options) []Result {
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = DefaultCallTimeout
	}
	if opts.BeatDeadline <= 0 {
		opts.BeatDeadline = DefaultBeatDeadline
	}
	if opts.Grace <= 0 {
		opts.Grace = DefaultGrace
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	s := &suite{path: path, opts: opts, ctx: ctx}
	s.run()
	return s.results
}

// Failed reports whether any result is a failure.
func Failed(results []Result) bool {
	return slices.ContainsFunc(results, func(r Result) bool { return r.Status == Fail })
}

type suite struct {
	path    string
	opts    Options
	ctx     context.Context
	results []Result

	// pid is the plugin process's, once started.
	pidMu  sync.Mutex
	pid    int
	client *plugin.Client
	rpc    sdk.Client
	info   sdk.Info
	// stdout is what a Go plugin printed after its handshake (go-plugin
	// forwards it over gRPC); rawStdout all the process wrote to its real
	// stdout, the handshake line first.
	stdout, rawStdout capture
	// stderr is the plugin's log: its real stderr and what go-plugin
	// forwards.
	stderr capture
	// canaries are secret values the plugin must never show.
	canaries []string
	// answers collects every string the plugin answered (errors,
	// descriptions, details) for the secret checks.
	answersMu sync.Mutex
	answers   []string
}

func (s *suite) report(name string, st Status, format string, args ...any) {
	r := Result{Name: name, Status: st, Detail: fmt.Sprintf(format, args...)}
	s.results = append(s.results, r)
	if s.opts.Report != nil {
		s.opts.Report(r)
	}
}

func (s *suite) remember(texts ...string) {
	s.answersMu.Lock()
	defer s.answersMu.Unlock()
	for _, t := range texts {
		if t != "" && len(s.answers) < 10000 {
			s.answers = append(s.answers, t)
		}
	}
}

func (s *suite) run() {
	defer s.stop()
	if !s.start() {
		return
	}
	s.checkInfo()
	empty := s.checkConfigureEmpty()
	s.checkConfigureErrors()
	s.checkSecrets()
	s.checkUnconfigured()
	dest := newDestination()
	defer dest.close()
	local := s.localInstance(dest)
	deadlineInstance := empty
	if local != "" {
		if hang := s.configureTowards(dest, "conformance-hang", dest.hangURL); hang != "" {
			deadlineInstance = hang
		}
	}
	s.checkDeadline(deadlineInstance, dest)
	concurrentInstance := empty
	if local != "" {
		concurrentInstance = local
	}
	s.checkConcurrent(concurrentInstance)
	s.checkStream()
	s.checkLive()
	s.checkStdoutAndLog()
	s.checkHostDeath()
}

// start starts the plugin and checks its handshake.
func (s *suite) start() bool {
	s.client = plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake(),
		VersionedPlugins: sdk.HostPluginSets(),
		RunnerFunc: runnerFunc(s.path, &s.rawStdout, func(pid int) {
			s.pidMu.Lock()
			s.pid = pid
			s.pidMu.Unlock()
		}),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		Logger:           hclog.NewNullLogger(),
		StartTimeout:     s.opts.CallTimeout,
		Stderr:           &s.stderr,
		SyncStdout:       &s.stdout,
		SyncStderr:       &s.stderr,
		GRPCDialOptions:  []grpc.DialOption{grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxAnswer))},
	})
	type started struct {
		raw any
		err error
	}
	done := make(chan started, 1)
	go func() {
		c, err := s.client.Client()
		if err != nil {
			done <- started{err: err}
			return
		}
		raw, err := c.Dispense(sdk.PluginName)
		done <- started{raw, err}
	}()
	var st started
	select {
	case st = <-done:
	case <-s.ctx.Done():
		st.err = fmt.Errorf("no handshake before the suite's time ran out")
	}
	if st.err != nil {
		msg := st.err.Error()
		if line, ok := strings.CutPrefix(msg, "Unrecognized remote plugin message: "); ok {
			line, _, _ = strings.Cut(line, "\n")
			s.report(CheckHandshake, Fail, "the first line on stdout is not go-plugin's handshake line: %s", clip(line))
			s.report(CheckStdout, Fail, "the plugin wrote to stdout before its handshake: %s (write logs to stderr; nothing may be printed before Serve)", clip(line))
		} else {
			if strings.Contains(msg, "timeout while waiting for plugin to start") {
				msg = fmt.Sprintf("no handshake line on stdout within %s", s.opts.CallTimeout)
			}
			s.report(CheckHandshake, Fail, "%s", clip(firstLine(msg)))
		}
		s.report("remaining checks", Skip, "they need a plugin that completed its handshake")
		return false
	}
	rpc, ok := st.raw.(sdk.Client)
	if !ok {
		s.report(CheckHandshake, Fail, "the plugin does not serve the target contract")
		return false
	}
	s.rpc = rpc
	if v := s.client.NegotiatedVersion(); v != sdk.ProtocolVersion {
		s.report(CheckHandshake, Fail, "protocol version %d, want %d", v, sdk.ProtocolVersion)
		return false
	}
	s.report(CheckHandshake, Pass, "protocol version %d, gRPC", sdk.ProtocolVersion)
	return true
}

func (s *suite) stop() {
	if s.client == nil {
		return
	}
	done := make(chan struct{})
	go func() {
		s.client.Kill()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	s.pidMu.Lock()
	pid := s.pid
	s.pidMu.Unlock()
	killGroup(pid)
}

// alive says whether the plugin process still runs, for "never crashes".
func (s *suite) alive() bool { return !s.client.Exited() }

// exitedSettle bounds how long a call that failed on its connection waits
// for the process to be seen gone: the error can arrive before the exit.
const exitedSettle = 3 * time.Second

// aliveAfter is alive for a call that returned err: an answer that is not
// the plugin's own (the connection broke) waits a moment for the process's
// exit to be noticed, so a crash is called a crash.
func (s *suite) aliveAfter(err error) bool {
	if err == nil || isPluginAnswer(err) {
		return s.alive()
	}
	for end := time.Now().Add(exitedSettle); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if !s.alive() {
			return false
		}
	}
	return s.alive()
}

// isPluginAnswer reports whether err is an answer the plugin gave (field
// errors or a contract error code) rather than a broken connection.
func isPluginAnswer(err error) bool {
	var fes sdk.FieldErrors
	var fe sdk.FieldError
	if errors.As(err, &fes) || errors.As(err, &fe) {
		return true
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.Unknown, codes.Internal, codes.Canceled:
		return false
	}
	return true
}

// call runs fn under d (and the suite's deadline).
func (s *suite) call(d time.Duration, fn func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(s.ctx, d)
	defer cancel()
	return fn(ctx)
}

func (s *suite) checkInfo() {
	var info sdk.Info
	err := s.call(s.opts.CallTimeout, func(ctx context.Context) error {
		var err error
		info, err = s.rpc.Info(ctx)
		return err
	})
	if err != nil {
		s.report(CheckInfo, Fail, "Info: %s", clip(err.Error()))
		return
	}
	s.info = info
	s.remember(info.Description)
	s.report(CheckInfo, Pass, "%s %s: %s", clip(info.Name), clip(info.Version), clip(info.Description))

	base := strings.TrimSuffix(filepath.Base(s.path), ".exe")
	switch fileName, ok := strings.CutPrefix(base, sdk.BinaryPrefix); {
	case !ok || fileName == "":
		s.report(CheckInfoName, Fail, "the file is called %s; the core only runs files named %s<name>: rename it %s%s", clip(base), sdk.BinaryPrefix, sdk.BinaryPrefix, clip(info.Name))
	case fileName != info.Name:
		s.report(CheckInfoName, Fail, "Info.Name is %q but the file is %s: the core refuses it; rename the file %s%s or return Name %q", clip(info.Name), clip(base), sdk.BinaryPrefix, clip(info.Name), clip(fileName))
	default:
		s.report(CheckInfoName, Pass, "%q matches the file name", info.Name)
	}

	var names []string
	var bad []string
	for _, sig := range info.Signals {
		names = append(names, sig.String())
		if sig == sdk.SignalUnspecified {
			bad = append(bad, "unspecified")
		}
	}
	switch {
	case len(info.Signals) == 0:
		s.report(CheckInfoSignals, Fail, "Info lists no signals: the core never sends a plugin a signal it does not list")
	case len(bad) > 0:
		s.report(CheckInfoSignals, Fail, "Info lists an unknown signal (%s)", strings.Join(names, ", "))
	case !info.Supports(sdk.SignalSuccess):
		s.report(CheckInfoSignals, Warn, "%s: without success the plugin receives no plain beats", strings.Join(names, ", "))
	default:
		s.report(CheckInfoSignals, Pass, "%s", strings.Join(names, ", "))
	}

	var problems []string
	seen := map[string]bool{}
	for i, st := range info.Settings {
		switch {
		case st.Name == "":
			problems = append(problems, fmt.Sprintf("setting %d has no name", i+1))
			continue
		case seen[st.Name]:
			problems = append(problems, fmt.Sprintf("%s is listed twice", clip(st.Name)))
		}
		seen[st.Name] = true
		if strings.TrimSpace(st.Description) == "" {
			problems = append(problems, fmt.Sprintf("%s has no description", clip(st.Name)))
		}
		if strings.TrimSpace(st.Type) == "" {
			problems = append(problems, fmt.Sprintf("%s has no type", clip(st.Name)))
		}
	}
	if len(problems) > 0 {
		s.report(CheckInfoSettings, Fail, "%s", strings.Join(problems, "; "))
	} else {
		s.report(CheckInfoSettings, Pass, "%d settings, each with a type and a description", len(info.Settings))
	}

	var marked, suspect []string
	for _, st := range info.Settings {
		switch {
		case st.Secret:
			marked = append(marked, st.Name)
		case looksSecret(st.Name):
			suspect = append(suspect, st.Name)
		}
	}
	switch {
	case len(suspect) > 0:
		// A name is only a hint (a "key_file" holds a path): warn, not fail.
		s.report(CheckInfoSecrets, Warn, "%s looks secret but is not marked secret; mark it Secret so the core never logs its value", clip(strings.Join(suspect, ", ")))
	case len(marked) > 0:
		s.report(CheckInfoSecrets, Pass, "secret: %s", clip(strings.Join(marked, ", ")))
	default:
		s.report(CheckInfoSecrets, Pass, "no setting looks secret")
	}
}

// looksSecret reports whether a setting's name suggests a secret value.
func looksSecret(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"token", "key", "password", "passwd", "secret", "uuid", "dsn", "credential"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// configure sends settings for instance and returns the description or
// the error, and whether the plugin survived.
func (s *suite) configure(instance string, settings []byte) (string, error) {
	var desc string
	err := s.call(s.opts.CallTimeout, func(ctx context.Context) error {
		var err error
		desc, err = s.rpc.Configure(ctx, instance, settings)
		return err
	})
	s.remember(desc)
	if err != nil {
		s.remember(err.Error())
	}
	return desc, err
}

// checkConfigureEmpty sends {} and returns the instance when it was
// accepted.
func (s *suite) checkConfigureEmpty() string {
	const instance = "conformance-empty"
	var required []string
	for _, st := range s.info.Settings {
		if st.Required {
			required = append(required, st.Name)
		}
	}
	_, err := s.configure(instance, []byte("{}"))
	var fe sdk.FieldErrors
	switch {
	case !s.aliveAfter(err):
		s.report(CheckConfEmpty, Fail, "the plugin exited when configured with {}")
	case err == nil && len(required) > 0:
		s.report(CheckConfEmpty, Fail, "{} was accepted although %s is required", strings.Join(required, ", "))
		return instance
	case err == nil:
		s.report(CheckConfEmpty, Pass, "{} accepted (no setting is required)")
		return instance
	case errors.As(err, &fe):
		var missing []string
		for _, name := range required {
			if !fe.Has(name) {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			s.report(CheckConfEmpty, Fail, "{} answered %s, which does not name the required %s: report every problem in one answer", clip(err.Error()), strings.Join(missing, ", "))
		} else {
			s.report(CheckConfEmpty, Pass, "%d field errors: %s", len(fe), clip(err.Error()))
		}
	default:
		s.report(CheckConfEmpty, Fail, "{} answered an error that is not field errors: %s (answer ConfigureResponse.errors so the user sees which setting to fix)", clip(err.Error()))
	}
	return ""
}

// wrongValue is a JSON value of the wrong type for a setting of type t.
func wrongValue(t string) json.RawMessage {
	switch strings.ToLower(t) {
	case "map", "object", "mapping", "dict":
		return json.RawMessage(`12345`)
	}
	return json.RawMessage(`{"conformance": ["not", "this", "type"]}`)
}

// checkConfigureErrors sends two unknown settings and a wrongly typed one
// in one request and expects a field error for each, in one answer.
func (s *suite) checkConfigureErrors() {
	const unknownA, unknownB = "conformance_unknown_a", "conformance_unknown_b"
	settings := map[string]json.RawMessage{unknownA: json.RawMessage(`"x"`), unknownB: json.RawMessage(`1`)}
	want := []string{unknownA, unknownB}
	for _, st := range s.info.Settings {
		if st.Name != "" && st.Type != "" {
			settings[st.Name] = wrongValue(st.Type)
			want = append(want, st.Name)
			break
		}
	}
	body, _ := json.Marshal(settings)
	_, err := s.configure("conformance-errors", body)
	var fe sdk.FieldErrors
	switch {
	case !s.aliveAfter(err):
		s.report(CheckConfErrors, Fail, "the plugin exited when configured with %s", body)
	case err == nil:
		s.report(CheckConfErrors, Fail, "%s was accepted: unknown settings must be refused (a typo would go unnoticed)", body)
	case !errors.As(err, &fe):
		s.report(CheckConfErrors, Fail, "%s answered an error that is not field errors: %s", body, clip(err.Error()))
	default:
		var missing []string
		for _, name := range want {
			if !fe.Has(name) {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			s.report(CheckConfErrors, Fail, "%s answered %d field errors, none for %s: report every problem in one answer", body, len(fe), strings.Join(missing, ", "))
		} else {
			s.report(CheckConfErrors, Pass, "%d field errors in one answer for %s", len(fe), strings.Join(want, ", "))
		}
	}
}

// canaryFor is the value put in a secret setting: distinctive, valid as a
// UUID, a token or (for a URL setting) a URL nobody can reach.
func canaryFor(t string) string {
	const id = "5ec2e7c0-a7a2-4c1d-9e3b-c4a11aa7c0de"
	if strings.EqualFold(t, "url") {
		return "https://conformance.invalid/" + id
	}
	return id
}

// checkSecrets configures an instance whose secret settings hold canary
// values and looks for them in the description and the errors.
func (s *suite) checkSecrets() {
	var secret []sdk.SettingInfo
	for _, st := range s.info.Settings {
		if st.Secret && st.Name != "" {
			secret = append(secret, st)
		}
	}
	if len(secret) == 0 {
		s.report(CheckSecretDesc, Skip, "no secret settings")
		s.report(CheckSecretErrors, Skip, "no secret settings")
		return
	}
	base := map[string]json.RawMessage{}
	if len(s.opts.Settings) > 0 {
		_ = json.Unmarshal(s.opts.Settings, &base)
		// The values given are secrets too.
		for _, st := range secret {
			var v string
			if json.Unmarshal(base[st.Name], &v) == nil && len(v) >= 6 {
				s.canaries = append(s.canaries, v)
			}
		}
	}
	var names []string
	for _, st := range secret {
		names = append(names, st.Name)
		s.canaries = append(s.canaries, canaryFor(st.Type), canaryFor(""), canaryFor("url"))
	}
	// The plugin may accept a secret only in one form or one at a time:
	// --settings as given (their secret values are canaries too), every
	// secret set at once, then each alone in both forms.
	all := map[string]string{}
	for _, st := range secret {
		all[st.Name] = canaryFor(st.Type)
	}
	attempts := []map[string]string{all}
	if len(s.opts.Settings) > 0 {
		attempts = append([]map[string]string{{}}, attempts...)
	}
	for _, st := range secret {
		attempts = append(attempts, map[string]string{st.Name: canaryFor("")}, map[string]string{st.Name: canaryFor("url")})
	}
	var accepted []string
	var errText string
	leakedDesc := false
	for _, attempt := range attempts {
		settings := maps.Clone(base)
		for _, st := range secret {
			if v, ok := attempt[st.Name]; ok {
				raw, _ := json.Marshal(v)
				if strings.EqualFold(st.Type, "map") || strings.EqualFold(st.Type, "object") {
					raw, _ = json.Marshal(map[string]string{"X-Conformance": v})
				}
				settings[st.Name] = raw
			}
		}
		body, _ := json.Marshal(settings)
		desc, err := s.configure("conformance-secret", body)
		if !s.aliveAfter(err) {
			s.report(CheckSecretDesc, Fail, "the plugin exited when configured with secret values")
			s.report(CheckSecretErrors, Skip, "the plugin exited")
			return
		}
		if err != nil {
			errText += "\n" + err.Error()
			continue
		}
		accepted = append(accepted, desc)
		leakedDesc = leakedDesc || s.leaks(desc) != ""
	}
	switch {
	case leakedDesc:
		s.report(CheckSecretDesc, Fail, "the description shows the value of a secret setting (%s): redact it, e.g. with sdk.RedactSecret", strings.Join(names, ", "))
	case len(accepted) == 0:
		s.report(CheckSecretDesc, Skip, "every setting with a secret value was refused, so there is no description to check (pass --settings to check it)")
	default:
		s.report(CheckSecretDesc, Pass, "secret values redacted: %s", clip(accepted[0]))
	}
	// Errors: the canary instance's, and field errors about secret values
	// that are wrong.
	for _, st := range secret {
		wrong := map[string]json.RawMessage{st.Name: json.RawMessage(`"` + canaryFor("") + ` not valid /\\?"`), "conformance_unknown": json.RawMessage(`1`)}
		body, _ := json.Marshal(wrong)
		if _, err := s.configure("conformance-secret-invalid", body); err != nil {
			errText += "\n" + err.Error()
		}
	}
	if s.leaks(errText) != "" {
		s.report(CheckSecretErrors, Fail, "an error of Configure shows the value of a secret setting: redact values in errors")
	} else {
		s.report(CheckSecretErrors, Pass, "no secret value in Configure's errors")
	}
}

// leaks returns the canary found in text, if any.
func (s *suite) leaks(text string) string {
	for _, c := range s.canaries {
		if c != "" && strings.Contains(text, c) {
			return c
		}
	}
	return ""
}

func (s *suite) checkUnconfigured() {
	err := s.call(s.opts.CallTimeout, func(ctx context.Context) error {
		res, err := s.rpc.Beat(ctx, "conformance-never-configured", s.beat(1))
		s.remember(res.Detail)
		return err
	})
	if err != nil {
		s.remember(err.Error())
	}
	switch {
	case !s.alive():
		s.report(CheckUnconfigured, Fail, "the plugin exited on a beat for an instance it does not know")
	case err == nil:
		s.report(CheckUnconfigured, Fail, "a beat for an instance never configured succeeded; answer FAILED_PRECONDITION so the core configures it again after a restart")
	case sdk.KindOf(err) != sdk.KindNotConfigured:
		s.report(CheckUnconfigured, Fail, "answered %s (%s), want FAILED_PRECONDITION", sdk.KindOf(err), clip(err.Error()))
	default:
		s.report(CheckUnconfigured, Pass, "FAILED_PRECONDITION")
	}
}

// beat is a plain beat of the signal the plugin prefers.
func (s *suite) beat(seq uint64) sdk.Beat {
	sig := sdk.SignalSuccess
	if !s.info.Supports(sig) && len(s.info.Signals) > 0 {
		sig = s.info.Signals[0]
	}
	return sdk.Beat{Heartbeat: "conformance", Signal: sig, Sequence: seq, ScheduledAt: time.Now(), Message: "heartbeat plugins check", Attempt: 1}
}

// localInstance configures --settings aimed at the local destination's
// answering endpoint; "" without --settings or when they are refused.
func (s *suite) localInstance(dest *destination) string {
	if len(s.opts.Settings) == 0 {
		return ""
	}
	return s.configureTowards(dest, "conformance-local", dest.okURL)
}

// configureTowards configures --settings with every top-level http(s) URL
// moved to the local destination base (same path), so the check controls
// how the destination answers and no beat leaves this machine. User info
// stays: a DSN carries its key there, and the destination is the suite's
// own server, which records nothing.
func (s *suite) configureTowards(dest *destination, instance, base string) string {
	var settings map[string]json.RawMessage
	if json.Unmarshal(s.opts.Settings, &settings) != nil {
		return ""
	}
	moved := 0
	for k, raw := range settings {
		var v string
		if json.Unmarshal(raw, &v) != nil {
			continue
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			continue
		}
		b, _ := url.Parse(base)
		u.Scheme, u.Host = b.Scheme, b.Host
		u.Path = b.Path + u.Path
		u.RawPath = ""
		settings[k], _ = json.Marshal(u.String())
		moved++
	}
	if moved == 0 {
		return ""
	}
	body, _ := json.Marshal(settings)
	if _, err := s.configure(instance, body); err != nil {
		return ""
	}
	return instance
}

// deadlineContext shows the plugin one deadline (sent with the call)
// while the caller waits until a later one: a plugin that ignores its
// deadline is then seen not answering, instead of being cut off by the
// caller at the same instant.
type deadlineContext struct {
	context.Context
	shown time.Time
}

func (c deadlineContext) Deadline() (time.Time, bool) { return c.shown, true }

func (s *suite) checkDeadline(instance string, dest *destination) {
	if instance == "" {
		s.report(CheckDeadline, Skip, "no settings the plugin accepts (pass --settings with its URL to check it against a destination that never answers)")
		return
	}
	wait, cancel := context.WithTimeout(s.ctx, s.opts.BeatDeadline+s.opts.Grace)
	defer cancel()
	ctx := deadlineContext{Context: wait, shown: time.Now().Add(s.opts.BeatDeadline)}
	start := time.Now()
	res, err := s.rpc.Beat(ctx, instance, s.beat(2))
	took := time.Since(start).Round(100 * time.Millisecond)
	s.remember(res.Detail)
	if err != nil {
		s.remember(err.Error())
	}
	towards := ""
	if dest.hung.Load() > 0 {
		towards = " (its destination never answered)"
	}
	answer := clip(res.Detail)
	if err != nil {
		answer = clip(err.Error())
	}
	switch {
	case wait.Err() != nil:
		s.report(CheckDeadline, Fail, "no answer %s after its %s deadline%s: Beat must return when its context is done", s.opts.Grace, s.opts.BeatDeadline, towards)
		return
	case !s.alive():
		s.report(CheckDeadline, Fail, "the plugin exited during the beat")
		return
	case err == nil || time.Until(ctx.shown) > deadlineSlack:
		// A result, or an error well before the deadline, came from Beat.
		s.report(CheckDeadline, Pass, "answered in %s%s: %s", took, towards, answer)
		return
	}
	// Cut at its deadline: a gRPC server (Go's) ends the call then even
	// when Beat goes on running. Beat gave up only if its request to the
	// destination was closed.
	gaveUp := func() bool { return dest.hung.Load() > 0 && dest.cancelled.Load() >= dest.hung.Load() }
	for end := time.Now().Add(s.opts.Grace); !gaveUp() && time.Now().Before(end) && s.ctx.Err() == nil; {
		time.Sleep(50 * time.Millisecond)
	}
	if gaveUp() {
		s.report(CheckDeadline, Pass, "cut at its %s deadline, and the plugin closed its request to the destination: %s", s.opts.BeatDeadline, answer)
		return
	}
	s.report(CheckDeadline, Fail, "the call was cut at its %s deadline (%s) while Beat still ran: nothing shows it gave up (no request to the destination was closed within %s); Beat must return when its context is done", s.opts.BeatDeadline, answer, s.opts.Grace)
}

// deadlineSlack: an answer this close to its deadline was cut by it.
const deadlineSlack = 250 * time.Millisecond

// checkConcurrent sends ConcurrentBeats beats at once: to instance, or,
// when the plugin has none configured, to unknown instances.
func (s *suite) checkConcurrent(instance string) {
	target := instance
	what := "to " + instance
	if target == "" {
		what = "to unknown instances (no settings the plugin accepts)"
	}
	var answered atomic.Int64
	var wg sync.WaitGroup
	for i := range ConcurrentBeats {
		inst := target
		if inst == "" {
			inst = fmt.Sprintf("conformance-unknown-%d", i)
		}
		wg.Go(func() {
			// The plugin is shown a later deadline than the wait, so a
			// beat that hangs is not cut by the plugin's gRPC server first.
			_ = s.call(s.opts.CallTimeout+s.opts.Grace, func(ctx context.Context) error {
				shown, _ := ctx.Deadline()
				res, err := s.rpc.Beat(deadlineContext{Context: ctx, shown: shown.Add(s.opts.Grace)}, inst, s.beat(uint64(100+i)))
				s.remember(res.Detail)
				if err != nil {
					s.remember(err.Error())
				}
				if ctx.Err() == nil {
					answered.Add(1)
				}
				return err
			})
		})
	}
	wg.Wait()
	switch {
	case !s.alive():
		s.report(CheckConcurrent, Fail, "the plugin exited during %d concurrent beats %s", ConcurrentBeats, what)
	case answered.Load() < ConcurrentBeats:
		s.report(CheckConcurrent, Fail, "%d of %d concurrent beats %s got no answer within %s", ConcurrentBeats-int(answered.Load()), ConcurrentBeats, what, s.opts.CallTimeout+s.opts.Grace)
	default:
		s.report(CheckConcurrent, Pass, "%d concurrent beats %s answered, the plugin still runs", ConcurrentBeats, what)
	}
}

// checkStream says whether the beats so far went over the plugin's Beats
// stream. Without it every beat still arrives, as a Beat call of its own.
func (s *suite) checkStream() {
	switch sdk.BeatTransport(s.rpc) {
	case sdk.TransportStream:
		s.report(CheckStream, Pass, "beats go over the Beats stream, each answered by its id")
	case sdk.TransportUnary:
		s.report(CheckStream, Warn, "the plugin does not implement Beats: each beat is a Beat call of its own, which costs more CPU with many heartbeats")
	default:
		s.report(CheckStream, Skip, "no beat was answered")
	}
}

// checkLive delivers one beat with --settings as given.
func (s *suite) checkLive() {
	if len(s.opts.Settings) == 0 {
		s.report(CheckLive, Skip, "pass --settings to deliver one real beat")
		return
	}
	desc, err := s.configure("conformance-live", s.opts.Settings)
	if err != nil {
		s.report(CheckLive, Fail, "--settings were refused: %s", clip(err.Error()))
		return
	}
	if s.leaks(desc) != "" {
		s.report(CheckSecretDesc, Fail, "the description of --settings shows a secret value: redact it, e.g. with sdk.RedactSecret")
	}
	var res sdk.Result
	err = s.call(s.opts.CallTimeout+s.opts.Grace, func(ctx context.Context) error {
		var err error
		res, err = s.rpc.Beat(ctx, "conformance-live", s.beat(3))
		return err
	})
	detail := res.Detail
	if err != nil {
		detail = err.Error()
	}
	s.remember(detail)
	leak := ""
	if s.leaks(detail) != "" {
		leak = "; the answer shows a secret value: redact it"
	}
	switch {
	case err != nil:
		s.report(CheckLive, Fail, "%s: %s%s", sdk.KindOf(err), clip(detail), leak)
	case leak != "":
		s.report(CheckLive, Fail, "delivered (%s)%s", clip(detail), leak)
	default:
		s.report(CheckLive, Pass, "delivered (%s) to %s", clip(detail), clip(desc))
	}
}

// stdioSettle bounds the wait for what a plugin printed to reach the
// suite: go-plugin forwards a plugin's stdout over a gRPC stream of its
// own, which may run behind the calls when the machine is busy.
const stdioSettle = time.Second

// checkStdoutAndLog looks at everything the plugin printed.
func (s *suite) checkStdoutAndLog() {
	printed := func() string {
		_, after, _ := strings.Cut(s.rawStdout.String(), "\n")
		return strings.TrimSpace(s.stdout.String() + after)
	}
	for end := time.Now().Add(stdioSettle); printed() == "" && time.Now().Before(end); {
		time.Sleep(20 * time.Millisecond)
	}
	if out := printed(); out != "" {
		s.report(CheckStdout, Fail, "the plugin wrote to stdout after its handshake: %s (stdout belongs to go-plugin; log to stderr)", clip(firstLine(out)))
	} else {
		s.report(CheckStdout, Pass, "nothing but the handshake line")
	}
	if len(s.canaries) == 0 {
		s.report(CheckSecretLog, Skip, "no secret settings")
		return
	}
	if s.leaks(s.stderr.String()) != "" {
		s.report(CheckSecretLog, Fail, "the plugin's log (stderr, at trace level) shows the value of a secret setting: redact it before logging")
		return
	}
	s.answersMu.Lock()
	all := strings.Join(s.answers, "\n")
	s.answersMu.Unlock()
	if s.leaks(all) != "" {
		s.report(CheckSecretLog, Fail, "an answer of the plugin (an error or a detail) shows the value of a secret setting: redact it")
		return
	}
	s.report(CheckSecretLog, Pass, "no secret value in the log (trace level, %d bytes) or in any answer", s.stderr.Len())
}

// capture keeps the first maxCapture bytes written to it.
type capture struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (c *capture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := maxCapture - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (c *capture) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

func (c *capture) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.Len()
}

// destination is a local HTTP server: paths under /ok/ answer 200 at once,
// paths under /hang/ never answer until the suite ends.
type destination struct {
	srv            *http.Server
	ln             net.Listener
	okURL, hangURL string
	hung           atomic.Int64
	cancelled      atomic.Int64
	quit           chan struct{}
}

func newDestination() *destination {
	d := &destination{quit: make(chan struct{})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return d
	}
	d.ln = ln
	base := "http://" + ln.Addr().String()
	d.okURL, d.hangURL = base+"/ok", base+"/hang"
	d.srv = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
		if strings.HasPrefix(r.URL.Path, "/hang") {
			d.hung.Add(1)
			select {
			case <-r.Context().Done():
				d.cancelled.Add(1)
			case <-d.quit:
			}
			return
		}
		w.WriteHeader(http.StatusOK)
	})}
	go func() { _ = d.srv.Serve(ln) }()
	return d
}

func (d *destination) close() {
	close(d.quit)
	if d.srv != nil {
		_ = d.srv.Close()
	}
}

// clip bounds a string from the plugin for printing: one line, control
// characters escaped, at most 300 bytes.
func clip(s string) string {
	const limit = 300
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= limit {
			b.WriteString("…")
			break
		}
		switch {
		case r == '\n':
			b.WriteString(`\n`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	line, _, _ := strings.Cut(s, "\n")
	return line
}
