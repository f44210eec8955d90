package main

import (
	"net"
	"net/url"
	"os"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/httpclient"
)

const (
	// hostedBaseURL is Cronitor's telemetry host.
	hostedBaseURL = "https://cronitor.link"
	// route is the documented path segment before the key: /p/<key>/<monitor>.
	route = "p"
	// maxHost and maxEnv are where Cronitor's CLI cuts host and env.
	maxHost = 50
	maxEnv  = 50
	// maxMonitorKey bounds the monitor key. Cronitor publishes no limit;
	// this only keeps URLs and messages bounded.
	maxMonitorKey = 200
	// maxAPIKey bounds the API key likewise (Cronitor's keys are 32
	// characters).
	maxAPIKey = 200
)

// Monitor types: what a success is for each.
const (
	typeJob       = "job"
	typeHeartbeat = "heartbeat"
)

// Success states of a heartbeat monitor; "none" sends no state.
const (
	stateNone = "none"
	stateTick = "tick"
	stateOK   = "ok"
)

// rawSettings is the settings as written in the config file. Every
// setting is a field of its own (no embedded httpclient.TLSSettings):
// sdk.Settings.Decode only knows top-level fields.
type rawSettings struct {
	PingURL            string        `json:"ping_url"`
	BaseURL            *string       `json:"base_url"`
	APIKey             string        `json:"api_key"`
	Monitor            string        `json:"monitor"`
	MonitorType        string        `json:"monitor_type"`
	SuccessState       string        `json:"success_state"`
	Environment        string        `json:"environment"`
	Host               *string       `json:"host"`
	Timeout            *sdk.Duration `json:"timeout"`
	CAFile             string        `json:"ca_file"`
	InsecureSkipVerify bool          `json:"insecure_skip_verify"`
}

// settingInfos documents rawSettings for "heartbeat plugins" and the docs.
func settingInfos() []sdk.SettingInfo {
	return append([]sdk.SettingInfo{
		{Name: "api_key", Type: "string", Secret: true, Description: "The key events are sent with, the part of the telemetry URL after `/p/`. Use the account's **Telemetry** key (Settings, API keys): it can only send events. Any key with the `monitor:telemetry` scope works. Required unless `ping_url` is set; `api_key_file` reads it from a file."},
		{Name: "monitor", Type: "string", Description: "The monitor's key, e.g. `nightly-backup`. Cronitor creates a monitor on the first event for a key it does not know, so a typo makes a new monitor rather than an error. No `/` or control characters. Required unless `ping_url` is set."},
		{Name: "ping_url", Type: "string", Secret: true, Description: "Instead of `base_url`, `api_key` and `monitor`: the monitor's telemetry URL, `https://cronitor.link/p/<api_key>/<monitor>`, without a query (heartbeat adds `state` and the rest)."},
		{Name: "base_url", Type: "string", Default: hostedBaseURL, Description: "Where events go, for a proxy or a test server: `http://` or `https://`, a path prefix is kept, no query. heartbeat adds `/p/<api_key>/<monitor>`."},
		{Name: "monitor_type", Type: "string", Default: typeJob, Description: "The Cronitor monitor's type: `job` (a start is `state=run`, a success `state=complete`) or `heartbeat` (a success is an event without state; starts are not sent)."},
		{Name: "success_state", Type: "string", Default: "`none`", Description: "Heartbeat monitors only: the state a success sends, `none` (an event without state, as Cronitor documents), `tick` (as Cronitor's SDKs send) or `ok` (resets the monitor to healthy, also after a failure)."},
		{Name: "environment", Type: "string", Description: "Sent as `env` with every event, e.g. `production`: Cronitor can alert per environment. At most 50 characters."},
		{Name: "host", Type: "string", Default: "this machine's host name (first 50 bytes)", Description: "Sent as `host` with every event. At most 50 characters; `\"\"` sends none."},
	}, httpclient.SettingInfos(httpclient.SettingsDoc{Whose: "Cronitor's", CAFor: "a proxy"})...)
}

// config is one validated instance.
type config struct {
	// base is where the telemetry route starts: scheme, host, path prefix.
	base    *url.URL
	apiKey  string
	monitor string
	// heartbeatMonitor is true for monitor_type heartbeat.
	heartbeatMonitor bool
	// successState is the state a success sends: "complete" for jobs,
	// "" (none), "tick" or "ok" for heartbeat monitors.
	successState string
	env          string
	host         string
	// fix names the settings that name the monitor, for messages.
	fix     string
	timeout time.Duration
	tls     httpclient.TLSSettings
}

// parseSettings validates settings, reporting every invalid one at once.
// Errors never quote ping_url or api_key: they hold the key.
func parseSettings(s sdk.Settings, logger hclog.Logger) (config, error) {
	var raw rawSettings
	var decoded sdk.FieldErrors
	decoded.Merge(s.Decode(&raw))
	var errs sdk.FieldErrors
	cfg := config{tls: httpclient.TLSSettings{CAFile: raw.CAFile, InsecureSkipVerify: raw.InsecureSkipVerify}}

	pingURL := strings.TrimSpace(raw.PingURL)
	apiKey := strings.TrimSpace(raw.APIKey)
	monitor := strings.TrimSpace(raw.Monitor)
	addressFailed := decoded.Has("ping_url") || decoded.Has("base_url") || decoded.Has("api_key") || decoded.Has("monitor")
	switch {
	case decoded.Has("ping_url"):
		// ping_url was given, in a form that did not decode.
	case pingURL != "":
		if raw.BaseURL != nil {
			errs.Add("base_url", "ping_url already holds the server's address: remove base_url, or replace ping_url with api_key and monitor")
		}
		if apiKey != "" {
			errs.Add("api_key", "ping_url already holds the API key: set ping_url, or api_key and monitor, not both")
		}
		if monitor != "" {
			errs.Add("monitor", "ping_url already names the monitor: set ping_url, or api_key and monitor, not both")
		}
		base, key, mon, msg := parsePingURL(pingURL)
		if msg != "" {
			errs.Add("ping_url", "%s", msg)
			break
		}
		cfg.base, cfg.apiKey, cfg.monitor, cfg.fix = base, key, mon, "ping_url"
	case apiKey != "" || monitor != "" || raw.BaseURL != nil:
		base, msg := parseBaseURL(raw.BaseURL)
		if msg != "" {
			errs.Add("base_url", "%s", msg)
		}
		switch {
		case apiKey == "" && !decoded.Has("api_key"):
			errs.Add("api_key", "missing: set the Telemetry key of your Cronitor account (Settings, API keys), or api_key_file, or ping_url")
		case apiKey != "":
			if msg := checkAPIKey(apiKey); msg != "" {
				errs.Add("api_key", "%s", msg)
			}
		}
		switch {
		case monitor == "" && !decoded.Has("monitor"):
			errs.Add("monitor", "missing: set the key of the Cronitor monitor, e.g. nightly-backup")
		case monitor != "":
			if msg := checkMonitor(monitor); msg != "" {
				errs.Add("monitor", "%s", msg)
			}
		}
		cfg.base, cfg.apiKey, cfg.monitor, cfg.fix = base, apiKey, monitor, "api_key and monitor"
	case addressFailed:
		// The monitor was given, in a form that did not decode.
	default:
		errs.Add("api_key", "missing: set api_key (the Telemetry key of your Cronitor account) and monitor, or ping_url")
		errs.Add("monitor", "missing: set the key of the Cronitor monitor, e.g. nightly-backup")
	}

	switch t := strings.ToLower(strings.TrimSpace(raw.MonitorType)); t {
	case "", typeJob:
		cfg.successState = "complete"
		if raw.SuccessState != "" {
			errs.Add("success_state", "applies to heartbeat monitors only: a job monitor's success is always state=complete (set monitor_type: heartbeat if the monitor is a heartbeat monitor)")
		}
	case typeHeartbeat:
		cfg.heartbeatMonitor = true
		switch st := strings.ToLower(strings.TrimSpace(raw.SuccessState)); st {
		case "", stateNone:
		case stateTick, stateOK:
			cfg.successState = st
		default:
			errs.Add("success_state", "must be none, tick or ok, not %q", bound(raw.SuccessState))
		}
	default:
		errs.Add("monitor_type", "must be job or heartbeat (the type of the monitor in Cronitor), not %q", bound(raw.MonitorType))
	}

	if env := strings.TrimSpace(raw.Environment); env != "" {
		if msg := checkLabel(env, maxEnv); msg != "" {
			errs.Add("environment", "%s", msg)
		}
		cfg.env = env
	}
	if raw.Host != nil {
		host := strings.TrimSpace(*raw.Host)
		if msg := checkLabel(host, maxHost); msg != "" {
			errs.Add("host", "%s", msg)
		}
		cfg.host = host
	} else if name, err := os.Hostname(); err == nil {
		cfg.host = cutBytes(sanitize(name, false), maxHost)
	}

	cfg.timeout = httpclient.ParseTimeout(raw.Timeout, &errs)
	cfg.tls.WarnIgnoredCA(logger)
	if cfg.base != nil && cfg.base.Scheme == "http" && !isLoopback(cfg.base.Hostname()) && !errs.Has("base_url") && !errs.Has("ping_url") {
		logger.Warn("events go over plain http: the API key in the URL travels unencrypted; use https://", "server", cfg.base.Host)
	}
	decoded.Merge(errs.Err())
	return cfg, decoded.Err()
}

// urlRules is what ping_url and base_url must not hold.
var urlRules = httpclient.URLRules{
	UserInfo: "must not hold a user name or password: Cronitor authenticates events by the API key in the path",
	Query:    "must not have a query (the part after ?): heartbeat adds state, message and the other parameters itself",
	Fragment: "must not have a fragment (the part after #)",
}

// parseHTTPURL parses an absolute http(s) URL without query or fragment.
// Its messages never quote the URL: it may hold the key.
func parseHTTPURL(raw string) (*url.URL, string) {
	u, err := httpclient.ParseURL(raw, urlRules)
	if err != nil {
		return nil, err.Error()
	}
	return u, ""
}

// parseBaseURL validates base_url; unset is cronitor.link.
func parseBaseURL(raw *string) (*url.URL, string) {
	s := hostedBaseURL
	if raw != nil {
		s = strings.TrimSpace(*raw)
		if s == "" {
			return nil, "is empty: remove it to send events to " + hostedBaseURL + ", or set the server's address"
		}
	}
	u, msg := parseHTTPURL(s)
	if msg != "" {
		return nil, msg
	}
	segs := pathSegments(u)
	for i, seg := range segs {
		if seg == route || seg == "ping" {
			if i+1 < len(segs) {
				return nil, "is a telemetry URL (it holds /" + seg + "/ and what follows): set it as ping_url instead, or leave out /" + seg + "/… and set api_key and monitor"
			}
			return nil, "ends with /" + seg + ": leave it out, heartbeat adds /p/<api_key>/<monitor> itself"
		}
	}
	return withSegments(u, segs), ""
}

// parsePingURL splits a telemetry URL, <base>/p/<key>/<monitor>, into its
// parts. Its messages never quote the URL or the key.
func parsePingURL(raw string) (base *url.URL, key, monitor, msg string) {
	u, msg := parseHTTPURL(raw)
	if msg != "" {
		return nil, "", "", msg
	}
	segs := pathSegments(u)
	n := len(segs)
	switch {
	case n >= 3 && segs[n-3] == route:
	case n >= 3 && segs[n-3] == "ping":
		return nil, "", "", "uses the older /ping/<api_key>/<monitor> form: replace /ping/ with /p/ (the documented form)"
	case n >= 2 && (segs[n-2] == route || segs[n-2] == "ping"):
		return nil, "", "", "has no monitor key after the API key: use the telemetry URL https://cronitor.link/p/<api_key>/<monitor>"
	case n == 2 && (isState(segs[1]) || segs[1] == "tick"):
		return nil, "", "", "is a URL of the older form without API key (/<code>/" + segs[1] + "): heartbeat needs the telemetry URL https://cronitor.link/p/<api_key>/<monitor>, or api_key and monitor"
	default:
		return nil, "", "", "must be a Cronitor telemetry URL, https://cronitor.link/p/<api_key>/<monitor> (the path ends with /p/, the API key and the monitor key)"
	}
	key, err := url.PathUnescape(segs[n-2])
	if err != nil {
		return nil, "", "", "holds an API key that is not valid percent-encoding"
	}
	monitor, err = url.PathUnescape(segs[n-1])
	if err != nil {
		return nil, "", "", "holds a monitor key that is not valid percent-encoding"
	}
	if m := checkAPIKey(key); m != "" {
		return nil, "", "", "API key " + m
	}
	if m := checkMonitor(monitor); m != "" {
		return nil, "", "", "monitor key " + m
	}
	return withSegments(u, segs[:n-3]), key, monitor, ""
}

func isState(s string) bool {
	switch s {
	case "run", "complete", "fail", "ok":
		return true
	}
	return false
}

// pathSegments splits u's escaped path, ignoring empty segments.
func pathSegments(u *url.URL) []string {
	var out []string
	for _, s := range strings.Split(u.EscapedPath(), "/") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// withSegments returns u with its path set to the escaped segments, without
// a trailing slash.
func withSegments(u *url.URL, segs []string) *url.URL {
	out := *u
	out.Path, out.RawPath = "", ""
	if len(segs) > 0 {
		escaped := "/" + strings.Join(segs, "/")
		if p, err := url.PathUnescape(escaped); err == nil {
			out.Path = p
			if url.PathEscape(p) != escaped {
				out.RawPath = escaped
			}
		}
	}
	return &out
}

// checkAPIKey returns "" for a usable key, else a message that does not
// quote it.
func checkAPIKey(key string) string {
	switch {
	case key == "." || key == "..":
		return "is not an API key: copy the key from Cronitor's Settings, API keys"
	case strings.Contains(key, "://"):
		return "is a URL: set the telemetry URL as ping_url, or only the key (the part after /p/) as api_key"
	case strings.Contains(key, "/"):
		return "must not contain /: it is only the part of the telemetry URL after /p/"
	case strings.ContainsAny(key, "?#&="):
		return "must not contain ?, #, & or =: copy only the key from Cronitor's Settings, API keys"
	case strings.ContainsFunc(key, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return "must not contain spaces or control characters: copy only the key"
	case !utf8.ValidString(key):
		return "is not valid UTF-8 text"
	case len(key) > maxAPIKey:
		return "is too long to be a Cronitor API key (32 characters)"
	}
	return ""
}

// checkMonitor returns "" for a usable monitor key.
func checkMonitor(m string) string {
	switch {
	case m == "." || m == "..":
		return "is not a monitor key: use the monitor's key, e.g. nightly-backup"
	case strings.Contains(m, "/"):
		return "must not contain /: it is one segment of the telemetry URL, e.g. nightly-backup"
	case strings.ContainsFunc(m, unicode.IsControl):
		return "must not contain control characters"
	case !utf8.ValidString(m):
		return "is not valid UTF-8 text"
	case utf8.RuneCountInString(m) > maxMonitorKey:
		return "is longer than 200 characters: use the monitor's key, e.g. nightly-backup"
	}
	return ""
}

// checkLabel checks environment and host.
func checkLabel(s string, limit int) string {
	switch {
	case !utf8.ValidString(s):
		return "is not valid UTF-8 text"
	case strings.ContainsFunc(s, unicode.IsControl):
		return "must not contain control characters"
	case utf8.RuneCountInString(s) > limit:
		return "is longer than Cronitor's 50 characters"
	}
	return ""
}

// isLoopback reports whether host is this machine, where plain http leaks
// nothing.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// bound makes a user's value safe to quote in a message: one line, short.
func bound(s string) string {
	s = sanitize(s, false)
	if utf8.RuneCountInString(s) > 40 {
		s = string([]rune(s)[:39]) + "…"
	}
	return s
}
