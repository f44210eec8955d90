package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/seed-e9b80cf6/heartbeat/core/config"
	"github.com/seed-e9b80cf6/heartbeat/core/status"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// exitUnreachable: status could not get the daemon's status (not
// running, no answer in time, not a heartbeat status document).
const exitUnreachable = 3

const (
	statusPath          = "/api/v1/status"
	defaultStatusWait   = 10 * time.Second
	maxStatusBody       = 32 << 20 // a snapshot is bounded far below this
	maxStatusDetail     = 120      // bytes of a detail in the table
	maxStatusErrorShown = 200      // bytes of an error body quoted back
)

// statusOptions are the flags of status.
type statusOptions struct {
	listen, config *string
	json, noColor  *bool
	timeout        *time.Duration
}

// statusFlags defines status's flags; help, completion and the man page
// are generated from it too.
func statusFlags(stderr io.Writer) (*flag.FlagSet, statusOptions) {
	fs := newBareFlagSet("status", stderr)
	return fs, statusOptions{
		listen:  fs.String("listen", "", "the daemon's listen `ADDRESS` (host:port, or an http:// or https:// URL); instead of reading it from the config"),
		config:  fs.String("config", "", "read the listen address and the status credentials from this config file `PATH` (default: $"+ConfigEnv+", ./heartbeat.yaml, "+systemConfigDisplay(runtime.GOOS)+")"),
		json:    fs.Bool("json", false, "print the status document as the daemon sent it (the schema is in docs/operations.md)"),
		noColor: fs.Bool("no-color", false, "never colour the table (colour is used only on a terminal, and never when $NO_COLOR is set)"),
		timeout: fs.Duration("timeout", defaultStatusWait, "give up on the daemon after this `DURATION`"),
	}
}

func cmdStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, o := statusFlags(stderr)
	if _, err := parseFlags(fs, args); err != nil {
		return exitInvalid
	}
	if *o.timeout <= 0 {
		fmt.Fprintf(stderr, "error: --timeout must be positive, e.g. --timeout 10s\n")
		return exitInvalid
	}
	ep, err := statusEndpointFor(*o.listen, *o.config)
	if err != nil {
		printError(stderr, err)
		return exitInvalid
	}
	ctx, cancel := context.WithTimeout(ctx, *o.timeout)
	defer cancel()
	raw, snap, err := fetchStatus(ctx, ep)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		var fe *fetchError
		if errors.As(err, &fe) && fe.auth {
			return exitInvalid
		}
		return exitUnreachable
	}
	if *o.json {
		_, _ = stdout.Write(raw)
		if !bytes.HasSuffix(raw, []byte("\n")) {
			fmt.Fprintln(stdout)
		}
	} else {
		writeStatus(stdout, snap, colorWanted(*o.noColor, os.Getenv, isTerminal(stdout)))
	}
	return statusExitCode(snap)
}

// statusExitCode is 1 when a heartbeat's last beat failed everywhere (or
// its check failed), so that status works as a check itself.
func statusExitCode(s *status.Snapshot) int {
	for _, hb := range s.Heartbeats {
		if hb.State == status.StateFailing {
			return exitFailed
		}
	}
	return exitOK
}

// statusEndpoint is where the daemon serves its status, and how to
// authenticate there.
type statusEndpoint struct {
	url string // the status document's URL
	// auth sets the request's credentials; nil without any.
	auth func(*http.Request)
}

// statusEndpointFor resolves --listen or the config's listen address.
func statusEndpointFor(listen, configPath string) (statusEndpoint, error) {
	if listen != "" && configPath != "" {
		return statusEndpoint{}, errors.New("give --listen or --config, not both")
	}
	if listen != "" {
		u, err := statusURL(listen)
		return statusEndpoint{url: u}, err
	}
	c := &common{config: configPath, maxConfigSize: config.DefaultMaxFileSize}
	cfg, err := c.loadConfig()
	if err != nil {
		return statusEndpoint{}, err
	}
	if cfg.Listen == "" {
		return statusEndpoint{}, fmt.Errorf("%s has no listen: address, so the daemon serves no status: add listen: 127.0.0.1:9464 and restart heartbeat, or give --listen", cfg.File)
	}
	u, err := statusURL(cfg.Listen)
	if err != nil {
		return statusEndpoint{}, err
	}
	return statusEndpoint{url: u, auth: statusAuth(cfg)}, nil
}

// statusURL is the status document's URL for a listen address: host:port
// (a wildcard host is reached on loopback) or a base URL, for a daemon
// behind a proxy.
func statusURL(listen string) (string, error) {
	if strings.HasPrefix(listen, "http://") || strings.HasPrefix(listen, "https://") {
		u, err := url.Parse(listen)
		switch {
		case err != nil:
			return "", errors.New("--listen is not a valid URL: write a base URL such as http://127.0.0.1:9464") // the error may quote a password
		case u.User != nil:
			return "", fmt.Errorf("--listen %q holds credentials: remove them; give --config with the config file whose status credentials the daemon uses", u.Redacted())
		case u.Host == "" || u.RawQuery != "" || u.Fragment != "":
			return "", fmt.Errorf("--listen %q is not a base URL such as http://127.0.0.1:9464 (without query or fragment)", excerptArg(listen))
		}
		return strings.TrimSuffix(u.String(), "/") + statusPath, nil
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil || port == "" {
		return "", fmt.Errorf("--listen %q is not host:port: write it as in the config's listen:, e.g. 127.0.0.1:9464", excerptArg(listen))
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::", "[::]":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port) + statusPath, nil
}

// excerptArg bounds a user's argument quoted in an error.
func excerptArg(s string) string { return status.OneLine(s, 100) }

// fetchError is why the status could not be had.
type fetchError struct {
	msg  string
	auth bool // the daemon refused the credentials: a config matter
}

func (e *fetchError) Error() string { return e.msg }

// fetchStatus gets the status document: its bytes as sent, and decoded.
// It never follows a redirect: the credentials stay with the daemon.
func fetchStatus(ctx context.Context, ep statusEndpoint) ([]byte, *status.Snapshot, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ep.url, nil)
	if err != nil {
		return nil, nil, &fetchError{msg: fmt.Sprintf("cannot ask %s: %v", ep.url, err)}
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "heartbeat-status/"+sdk.Version())
	if ep.auth != nil {
		ep.auth(req)
	}
	// No proxy from the environment: the credentials go to the daemon
	// only. The context's deadline (--timeout) bounds the whole exchange.
	client := &http.Client{
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	resp, err := client.Do(req)
	if err != nil {
		why := "no answer"
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			why = "no answer in time"
		case isConnRefused(err):
			why = "connection refused"
		default:
			var ue *url.Error
			if errors.As(err, &ue) {
				why = status.OneLine(ue.Err.Error(), maxStatusErrorShown)
			}
		}
		return nil, nil, &fetchError{msg: fmt.Sprintf("cannot reach heartbeat at %s: %s; is the daemon running, with this listen: address?", ep.url, why)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxStatusBody+1))
	if err != nil {
		return nil, nil, &fetchError{msg: fmt.Sprintf("reading the status from %s: %s", ep.url, status.OneLine(err.Error(), maxStatusErrorShown))}
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		fix := "give --config with the config file whose status credentials the daemon uses"
		if ep.auth != nil {
			fix = "the credentials in the config are not the ones the daemon accepts; check the status auth settings and their _file secrets"
		}
		return nil, nil, &fetchError{auth: true, msg: fmt.Sprintf("heartbeat at %s refused the request (%s): %s", ep.url, resp.Status, fix)}
	case resp.StatusCode == http.StatusNotFound:
		return nil, nil, &fetchError{msg: fmt.Sprintf("%s answered 404 Not Found: it is not heartbeat, or a heartbeat too old to serve %s", ep.url, statusPath)}
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return nil, nil, &fetchError{msg: fmt.Sprintf("%s answered %s, a redirect to %q, which is not followed: give the address the daemon listens on", ep.url, resp.Status, status.OneLine(resp.Header.Get("Location"), maxStatusErrorShown))}
	case resp.StatusCode != http.StatusOK:
		return nil, nil, &fetchError{msg: fmt.Sprintf("%s answered %s: %s", ep.url, resp.Status, status.OneLine(string(body), maxStatusErrorShown))}
	case len(body) > maxStatusBody:
		return nil, nil, &fetchError{msg: fmt.Sprintf("%s sent more than %d MiB: not a heartbeat status document", ep.url, maxStatusBody>>20)}
	}
	var snap status.Snapshot
	if err := json.Unmarshal(body, &snap); err != nil || snap.Version < 1 {
		return nil, nil, &fetchError{msg: fmt.Sprintf("%s did not send a heartbeat status document (JSON with a version): %s", ep.url, status.OneLine(string(body), 80))}
	}
	return body, &snap, nil
}

func isConnRefused(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial" && strings.Contains(op.Err.Error(), "refused")
}

// colorWanted: colour only on a terminal, and never with --no-color, a
// non-empty $NO_COLOR (no-color.org) or TERM=dumb.
func colorWanted(noColor bool, getenv func(string) string, tty bool) bool {
	return tty && !noColor && getenv("NO_COLOR") == "" && getenv("TERM") != "dumb"
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// ANSI colours of the table.
const (
	ansiReset  = "\x1b[0m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiRed    = "\x1b[1;31m"
	ansiDim    = "\x1b[2m"
)

// cell is one table cell: its text and the colour it is written in.
type cell struct{ text, color string }

// writeStatus prints the heartbeats as a table, one line per target, and
// the plugins that are not running. Every string from the daemon is made
// one bounded line without control characters before it is printed.
func writeStatus(w io.Writer, s *status.Snapshot, color bool) {
	now := s.GeneratedAt
	rows := [][]cell{{{"HEARTBEAT", ""}, {"STATE", ""}, {"NEXT BEAT", ""}, {"TARGET", ""}, {"LAST BEAT", ""}}}
	for _, hb := range s.Heartbeats {
		loc := zoneOf(hb.Timezone)
		next := cell{"not scheduled", ansiDim}
		if hb.NextBeat != nil {
			next = cell{relTime(*hb.NextBeat, now) + " (" + clockTime(*hb.NextBeat, now, loc) + ")", ""}
		}
		head := []cell{{safe(hb.Name, 64), ""}, stateCell(hb.State), next}
		if len(hb.Targets) == 0 {
			rows = append(rows, append(head, cell{"-", ansiDim}, cell{"", ""}))
		}
		for i, t := range hb.Targets {
			if i > 0 {
				head = []cell{{}, {}, {}}
			}
			rows = append(rows, append(head, cell{safe(t.Name, 64), ""}, lastBeatCell(t, now)))
		}
	}
	writeTable(w, rows, color)
	if len(s.Heartbeats) == 0 {
		fmt.Fprintln(w, "(no heartbeats)")
	}
	var plugins [][]cell
	for _, p := range s.Plugins {
		if p.State == status.PluginRunning {
			continue
		}
		c := cell{safe(p.State, 32), ansiYellow}
		if p.State == status.PluginRefused {
			c.color = ansiRed
		}
		d := safe(p.Detail, maxStatusDetail)
		if p.NextRestart != nil {
			d = strings.TrimPrefix(d+"; next try "+relTime(*p.NextRestart, now), "; ")
		}
		plugins = append(plugins, []cell{{safe(p.Name, 64), ""}, c, {fmt.Sprint(p.Restarts), ""}, {d, ""}})
	}
	if len(plugins) > 0 {
		fmt.Fprintln(w)
		writeTable(w, append([][]cell{{{"PLUGIN", ""}, {"STATE", ""}, {"RESTARTS", ""}, {"DETAIL", ""}}}, plugins...), color)
	}
	if !s.Ready {
		fmt.Fprintln(w, "\nnot ready: the daemon is starting, stopping or has a plugin down (as /healthz)")
	}
}

func stateCell(state string) cell {
	switch state {
	case status.StateOK:
		return cell{"ok", ansiGreen}
	case status.StateFailing:
		return cell{"FAILING", ansiRed}
	case status.StateDegraded:
		return cell{"degraded", ansiYellow}
	case status.StatePending:
		return cell{"pending", ansiDim}
	}
	return cell{safe(state, 32), ""}
}

// lastBeatCell is "delivered success, 50s ago" or "FAILED fail, 3s ago:
// not_found: 404 Not Found".
func lastBeatCell(t status.TargetState, now time.Time) cell {
	if t.LastResult == "" {
		return cell{"no beat yet", ansiDim}
	}
	c := cell{safe(t.LastResult, 32), ""}
	switch t.LastResult {
	case status.ResultDelivered:
		c.color = ansiGreen
	case status.ResultFailed:
		c = cell{"FAILED", ansiRed}
	case status.ResultSkipped:
		c.color = ansiDim
	}
	if t.LastSignal != "" {
		c.text += " " + safe(t.LastSignal, 32)
	}
	if t.LastAt != nil {
		c.text += ", " + relTime(*t.LastAt, now)
	}
	var why []string
	if t.LastKind != "" {
		why = append(why, safe(t.LastKind, 32))
	}
	if t.LastDetail != "" {
		why = append(why, safe(t.LastDetail, maxStatusDetail))
	}
	if len(why) > 0 {
		c.text += ": " + strings.Join(why, ": ")
	}
	return c
}

// writeTable aligns the cells in columns (the last one is not padded),
// colouring each cell's text only, so the colour codes never count in
// the widths.
func writeTable(w io.Writer, rows [][]cell, color bool) {
	var widths []int
	for _, r := range rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(c.text))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		for i, c := range r {
			text := c.text
			if color && c.color != "" && text != "" {
				text = c.color + text + ansiReset
			}
			b.WriteString(text)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c.text)+2))
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

// safe is a string from the daemon as the terminal may show it: one line,
// no escape sequences, at most n bytes.
func safe(s string, n int) string { return status.OneLine(s, n) }

func zoneOf(name string) *time.Location {
	if name == "" {
		return time.UTC
	}
	if loc, err := time.LoadLocation(name); err == nil {
		return loc
	}
	return time.UTC
}

// relTime is "in 4m 10s", "due now", "just now" or "3s ago", from the
// daemon's now.
func relTime(t, now time.Time) string {
	d := t.Sub(now)
	switch {
	case d >= time.Second:
		return "in " + status.Span(d)
	case d >= 0:
		return "due now"
	case d > -time.Second:
		return "just now"
	default:
		return status.Span(-d) + " ago"
	}
}

// clockTime is the time of day, with the date when it is not today.
func clockTime(t, now time.Time, loc *time.Location) string {
	t, now = t.In(loc), now.In(loc)
	if t.YearDay() == now.YearDay() && t.Year() == now.Year() {
		return t.Format("15:04:05 MST")
	}
	return t.Format("2006-01-02 15:04:05 MST")
}

// statusAuth sets the credentials of the config's listen_auth on a
// request: its bearer token when it has one, else its basic auth; nil
// without listen_auth. The daemon accepts either.
func statusAuth(cfg *config.Config) func(*http.Request) {
	a := cfg.ListenAuth
	switch {
	case a == nil:
		return nil
	case len(a.BearerToken) > 0:
		token := string(a.BearerToken)
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
	case a.Username != "":
		user, pass := a.Username, string(a.Password)
		return func(r *http.Request) { r.SetBasicAuth(user, pass) }
	}
	return nil
}
