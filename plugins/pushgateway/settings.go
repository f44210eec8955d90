package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/httpclient"
)

const (
	defaultJob    = "heartbeat"
	defaultPrefix = "heartbeat"
	// heartbeatLabel is the grouping label that holds the heartbeat's name,
	// so heartbeats sharing a target never overwrite each other's metrics.
	heartbeatLabel = "heartbeat"
	// maxLabels bounds the labels setting: a grouping key is a handful of
	// labels, and each one lengthens every request's path.
	maxLabels = 32
	// maxValueBytes bounds the job and label values (sent in the URL path,
	// where proxies commonly allow 8 KB per request line).
	maxValueBytes = 1024
)

// settings is the settings as written in the config file. Every setting is
// a field of its own: sdk.Settings.Decode does not see the fields of an
// embedded struct (httpclient.TLSSettings).
type settings struct {
	URL                string                `json:"url" heartbeat:"required"`
	Job                *string               `json:"job"`
	Labels             map[string]labelValue `json:"labels"`
	MetricPrefix       *string               `json:"metric_prefix"`
	Username           string                `json:"username"`
	Password           string                `json:"password"`
	Timeout            *sdk.Duration         `json:"timeout"`
	CAFile             string                `json:"ca_file"`
	InsecureSkipVerify bool                  `json:"insecure_skip_verify"`
}

// settingInfos documents settings for "heartbeat plugins" and the docs.
func settingInfos() []sdk.SettingInfo {
	return append([]sdk.SettingInfo{
		{Name: "url", Type: "string", Required: true, Description: "The Pushgateway's base URL, `http://` or `https://`, with its path prefix when it runs with `--web.route-prefix` or behind a reverse proxy, e.g. `http://pushgateway.example.com:9091`. Without `/metrics/job/…` (heartbeat adds it), without a query and without a user name or password (use `username` and `password`)."},
		{Name: "job", Type: "string", Default: "`" + defaultJob + "`", Description: "The `job` label of the grouping key. Any text but empty; values with `/` are sent base64-encoded as the Pushgateway requires."},
		{Name: "labels", Type: "mapping", Description: "More labels of the grouping key, e.g. `{ env: prod, host: db1 }`. Names are Prometheus label names (letters, digits, `_`, not starting with a digit or `__`); `job` and `heartbeat` are set by heartbeat. At most 32."},
		{Name: "metric_prefix", Type: "string", Default: "`" + defaultPrefix + "`", Description: "The start of every metric's name, as in `<prefix>_last_success_timestamp_seconds`. A Prometheus metric name: letters, digits, `_` and `:`, not starting with a digit."},
		{Name: "username", Type: "string", Description: "User name for HTTP basic auth (a Pushgateway started with `--web.config.file` that sets `basic_auth_users`). Needs `password`."},
		{Name: "password", Type: "string", Secret: true, Description: "Password for HTTP basic auth, with `username`. Write `password_file: /path` to read it from a file."},
	}, httpclient.SettingInfos(httpclient.SettingsDoc{Whose: "the Pushgateway's", CAFor: "a Pushgateway", Verified: "the Pushgateway's"})...)
}

// config is one validated instance.
type config struct {
	// base is the gateway's URL without a trailing slash; pushes go to
	// base + "/metrics/job/…".
	base *url.URL
	// where names the gateway in messages: scheme, host and path prefix.
	where    string
	job      string
	labels   []label // sorted by name
	prefix   string
	username string
	password string
	timeout  time.Duration
	tls      httpclient.TLSSettings
}

// label is one label of the grouping key.
type label struct{ name, value string }

// parseSettings validates settings, reporting every invalid one at once.
func parseSettings(raw sdk.Settings) (config, error) {
	var s settings
	var errs sdk.FieldErrors
	errs.Merge(raw.Decode(&s))
	var checks sdk.FieldErrors
	cfg := config{
		job:      defaultJob,
		prefix:   defaultPrefix,
		username: s.Username,
		password: s.Password,
		tls:      httpclient.TLSSettings{CAFile: s.CAFile, InsecureSkipVerify: s.InsecureSkipVerify},
	}
	if strings.TrimSpace(s.URL) != "" {
		base, msg := parseBaseURL(strings.TrimSpace(s.URL))
		if msg != "" {
			checks.Add("url", "%s", msg)
		} else {
			cfg.base = base
			cfg.where = where(base)
		}
	}
	if s.Job != nil {
		switch job := *s.Job; {
		case job == "":
			checks.Add("job", "is empty: the Pushgateway needs a job name; remove the setting to use %q", defaultJob)
		case len(job) > maxValueBytes:
			checks.Add("job", "is %d bytes long; at most %d fit in the push URL", len(job), maxValueBytes)
		default:
			cfg.job = job
		}
	}
	cfg.labels = parseLabels(s.Labels, &checks)
	if s.MetricPrefix != nil {
		if p := *s.MetricPrefix; !validMetricName(p) {
			checks.Add("metric_prefix", "%q is not a Prometheus metric name: use letters, digits, _ and :, not starting with a digit (e.g. db_backup)", bounded(p, 64))
		} else {
			cfg.prefix = p
		}
	}
	switch {
	case s.Username != "" && s.Password == "":
		checks.Add("password", "is required with username (or password_file)")
	case s.Username == "" && s.Password != "":
		checks.Add("username", "is required with password")
	case strings.ContainsAny(s.Username, ":\r\n"):
		checks.Add("username", "must not contain :, CR or LF (HTTP basic auth cannot carry them)")
	}
	cfg.timeout = httpclient.ParseTimeout(s.Timeout, &checks)
	errs.Merge(checks.Err())
	return cfg, errs.Err()
}

// parseBaseURL checks url. Its messages never quote the URL: a pasted URL
// may hold a password.
func parseBaseURL(raw string) (*url.URL, string) {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			// url.Error's own message quotes the whole URL.
			return nil, "is not a valid URL: " + ue.Err.Error()
		}
		return nil, "is not a valid URL"
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	case "":
		return nil, "must start with http:// or https://, e.g. http://pushgateway.example.com:9091"
	default:
		return nil, "must start with http:// or https://, not " + bounded(u.Scheme, 20) + "://"
	}
	u.Scheme = strings.ToLower(u.Scheme)
	switch {
	case u.Hostname() == "":
		return nil, "has no host name"
	case u.User != nil:
		return nil, "must not hold a user name or password: set username and password (or password_file) instead"
	case u.RawQuery != "" || u.ForceQuery:
		return nil, "must not have a query (the part after ?)"
	case u.Fragment != "":
		return nil, "must not have a fragment (the part after #)"
	}
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	if i := slices.Index(segs, "metrics"); i >= 0 && i+1 < len(segs) && strings.HasPrefix(segs[i+1], "job") {
		return nil, "is a push URL: set only the Pushgateway's address (and path prefix) as url, the job as job and the labels as labels"
	}
	if segs[len(segs)-1] == "metrics" {
		return nil, "ends with /metrics: set the Pushgateway's address without it (heartbeat adds /metrics/job/…)"
	}
	base := *u
	base.Path, base.RawPath = strings.TrimRight(u.Path, "/"), ""
	return &base, ""
}

// where names the gateway for messages and Describe.
func where(base *url.URL) string {
	u := url.URL{Scheme: base.Scheme, Host: base.Host, Path: base.Path}
	return u.String()
}

// parseLabels checks the labels setting and returns the labels sorted by
// name, so every push names its group the same way.
func parseLabels(m map[string]labelValue, errs *sdk.FieldErrors) []label {
	if len(m) > maxLabels {
		errs.Add("labels", "has %d labels; at most %d", len(m), maxLabels)
		return nil
	}
	var out []label
	for _, name := range sortedKeys(m) {
		value := string(m[name])
		field := "labels." + bounded(name, 64)
		switch {
		case name == "job":
			errs.Add(field, "job is set by the job setting: move the value there")
		case name == heartbeatLabel:
			errs.Add(field, "heartbeat sets this label to the heartbeat's name itself, so heartbeats sharing the target stay apart: use another name")
		case strings.HasPrefix(name, "__"):
			errs.Add(field, "label names starting with __ are reserved by Prometheus")
		case !validLabelName(name):
			errs.Add(field, "is not a Prometheus label name: use letters, digits and _, not starting with a digit (e.g. env)")
		case len(value) > maxValueBytes:
			errs.Add(field, "is %d bytes long; at most %d fit in the push URL", len(value), maxValueBytes)
		default:
			out = append(out, label{name, value})
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// labelValue is a label's value: YAML writes `shard: 1` or `canary: true`
// without quotes, and a label value is text either way.
type labelValue string

func (v *labelValue) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*v = labelValue(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err == nil {
		*v = labelValue(n.String())
		return nil
	}
	var t bool
	if err := json.Unmarshal(b, &t); err == nil {
		*v = labelValue(strconv.FormatBool(t))
		return nil
	}
	return sdk.FieldError{Message: "must be a text, a number or true/false"}
}

// validLabelName is Prometheus' legacy label name rule, the one the
// Pushgateway applies to the grouping key by default:
// [a-zA-Z_][a-zA-Z0-9_]*.
func validLabelName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// validMetricName is Prometheus' legacy metric name rule:
// [a-zA-Z_:][a-zA-Z0-9_:]*.
func validMetricName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// bounded cuts s to n bytes at a UTF-8 boundary, for quoting input.
func bounded(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// describe is the instance's one-line description. Label values stay out:
// they may name hosts or paths (they show in debug logs only).
func (c config) describe() string {
	var names []string
	for _, l := range c.labels {
		names = append(names, l.name)
	}
	extra := []string{"timeout " + c.timeout.String()}
	if c.username != "" {
		extra = append(extra, fmt.Sprintf("basic auth as %q", bounded(c.username, 64)))
	}
	key := fmt.Sprintf("job=%q, heartbeat=<name>", bounded(c.job, 64))
	if len(names) > 0 {
		key += ", labels " + strings.Join(names, ", ")
	}
	return fmt.Sprintf("POST %s/metrics/job/… (%s; metrics %s_*; %s)", c.where, key, c.prefix, strings.Join(extra, ", "))
}
