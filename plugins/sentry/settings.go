package main

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	_ "time/tzdata" // timezone is checked against the IANA database, also where the system has none
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/httpclient"
)

const (
	// maxSlugRunes is where Relay cuts a monitor slug: a longer one would
	// check in to another monitor.
	maxSlugRunes = 50
	// maxEnvironmentRunes is the longest environment Relay accepts; a longer
	// one is dropped after the 202.
	maxEnvironmentRunes = 64
)

// rawSettings is the settings as written in the config file. The TLS
// settings are spelled out: sdk.Settings.Decode knows only top-level json
// names.
type rawSettings struct {
	DSN                string        `json:"dsn" heartbeat:"required"`
	MonitorSlug        string        `json:"monitor_slug" heartbeat:"required"`
	Environment        string        `json:"environment"`
	Upsert             *bool         `json:"upsert"`
	Schedule           string        `json:"schedule"`
	CheckinMargin      *sdk.Duration `json:"checkin_margin"`
	MaxRuntime         *sdk.Duration `json:"max_runtime"`
	Timezone           string        `json:"timezone"`
	Timeout            *sdk.Duration `json:"timeout"`
	CAFile             string        `json:"ca_file"`
	InsecureSkipVerify bool          `json:"insecure_skip_verify"`
}

// settingInfos documents rawSettings for "heartbeat plugins" and the docs.
func settingInfos() []sdk.SettingInfo {
	return append([]sdk.SettingInfo{
		{Name: "dsn", Type: "string", Required: true, Secret: true, Description: "The project's DSN (Project Settings > Client Keys (DSN)), `https://<public key>@<host>/<project id>`; a path before the project id is kept for a self-hosted Sentry under a prefix. Check-ins go to the DSN's host and nowhere else. The public key is kept secret in logs and errors. Also accepted as `dsn_file`."},
		{Name: "monitor_slug", Type: "string", Required: true, Description: "The slug of the cron monitor: lower-case letters, digits, `-` and `_`, at most 50 characters. With `upsert` or `schedule` Sentry creates the monitor on the first check-in; without, it must exist."},
		{Name: "environment", Type: "string", Default: "Sentry's `production`", Description: "The environment of the check-ins, at most 64 characters, without `/` or line breaks. Sentry tracks each environment of a monitor apart."},
		{Name: "upsert", Type: "bool", Default: "`true` with `schedule`, else `false`", Description: "Creates or updates the monitor on every check-in, with the heartbeat's `frequency` or `cron` as its schedule (or `schedule`, when given) and the settings below. A schedule Sentry cannot express (seconds, later.js `at`/`on`, 6-field cron, `@hourly`) is left out, with a warning in the log. Without upsert the monitor's settings in Sentry are left alone."},
		{Name: "schedule", Type: "string", Description: "The monitor's schedule, instead of the heartbeat's; turns `upsert` on: a crontab such as `0 * * * *` (5 fields: minute hour day month weekday) or an interval such as `every 10 minutes` (minute, hour, day, week, month or year)."},
		{Name: "checkin_margin", Type: "duration", Description: "With upsert: how late a check-in may be before Sentry counts it missed, in whole minutes, e.g. `5m`."},
		{Name: "max_runtime", Type: "duration", Description: "With upsert: how long a run may stay in progress (after `start`) before Sentry marks it timed out, in whole minutes, e.g. `30m`."},
		{Name: "timezone", Type: "string", Default: "the heartbeat's `timezone`, else UTC", Description: "With upsert: the IANA time zone a crontab schedule is read in, e.g. `Europe/Stockholm`, instead of the heartbeat's."},
	}, httpclient.SettingInfos(httpclient.SettingsDoc{Whose: "Sentry's", CAFor: "a self-hosted Sentry"})...)
}

// monitorConfig is the upsert part of a check-in (relay-monitors
// MonitorConfig): the schedule is required, the rest optional. In the
// settings, a zero Schedule stands for the heartbeat's and an empty
// Timezone for the heartbeat's.
type monitorConfig struct {
	Schedule      schedule `json:"schedule"`
	CheckinMargin *uint64  `json:"checkin_margin,omitempty"`
	MaxRuntime    *uint64  `json:"max_runtime,omitempty"`
	Timezone      string   `json:"timezone,omitempty"`
}

// schedule is {"type":"crontab","value":"0 * * * *"} or
// {"type":"interval","value":2,"unit":"hour"}.
type schedule struct {
	Type  string `json:"type"`
	Value any    `json:"value"`
	Unit  string `json:"unit,omitempty"`
}

// dsn is a parsed DSN.
type dsn struct {
	// base is scheme, host and path prefix, e.g. https://o0.ingest.sentry.io
	// or https://example.com/sentry; no user info.
	base string
	// baseURL is base parsed: its host is where check-ins go, for
	// httpclient.LimitOf.
	baseURL   *url.URL
	projectID string
	publicKey string
}

// config is one validated instance.
type config struct {
	dsn         dsn
	slug        string
	environment string
	monitor     *monitorConfig
	timeout     time.Duration
	tls         httpclient.TLSSettings
}

// parseSettings validates settings, reporting every invalid one at once.
func parseSettings(s sdk.Settings, logger hclog.Logger) (config, error) {
	var raw rawSettings
	var errs sdk.FieldErrors
	errs.Merge(s.Decode(&raw))
	var checks sdk.FieldErrors
	cfg := config{tls: httpclient.TLSSettings{CAFile: raw.CAFile, InsecureSkipVerify: raw.InsecureSkipVerify}}
	if d := strings.TrimSpace(raw.DSN); d != "" {
		parsed, err := parseDSN(d)
		if err != nil {
			checks.Add("dsn", "%s", err)
		}
		cfg.dsn = parsed
	}
	if slug := strings.TrimSpace(raw.MonitorSlug); slug != "" {
		if msg := checkSlug(slug); msg != "" {
			checks.Add("monitor_slug", "%s", msg)
		}
		cfg.slug = slug
	}
	if env := strings.TrimSpace(raw.Environment); env != "" {
		if msg := checkEnvironment(env); msg != "" {
			checks.Add("environment", "%s", msg)
		}
		cfg.environment = env
	}
	cfg.monitor = parseMonitor(raw, &checks)
	cfg.timeout = httpclient.ParseTimeout(raw.Timeout, &checks)
	cfg.tls.WarnIgnoredCA(logger)
	errs.Merge(checks.Err())
	return cfg, errs.Err()
}

// parseDSN splits https://<public key>[:<secret key>]@<host>[/<prefix>]/<project id>.
// Its errors never quote the DSN, which holds the key. A secret key (DSNs
// of old Sentry versions) is accepted and never used.
func parseDSN(raw string) (dsn, error) {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			// url.Error's message quotes the whole DSN.
			return dsn{}, fmt.Errorf("is not a valid DSN: %v; copy it from Project Settings > Client Keys (DSN)", ue.Err)
		}
		return dsn{}, errors.New("is not a valid DSN; copy it from Project Settings > Client Keys (DSN)")
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	case "":
		return dsn{}, errors.New("must start with https:// (or http://): a DSN looks like https://<public key>@o0.ingest.sentry.io/<project id>")
	default:
		return dsn{}, fmt.Errorf("must be an https:// or http:// DSN, not %s://", truncate(u.Scheme, 20))
	}
	if u.Hostname() == "" {
		return dsn{}, errors.New("has no host: a DSN looks like https://<public key>@o0.ingest.sentry.io/<project id>")
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return dsn{}, errors.New("must not have a query or fragment (the part after ? or #): copy the DSN as Sentry shows it")
	}
	key := ""
	if u.User != nil {
		key = u.User.Username()
	}
	switch {
	case key == "":
		return dsn{}, errors.New("has no public key before the @: copy the whole DSN from Project Settings > Client Keys (DSN) (if it comes from an environment variable, is it set?)")
	case !isAlnum(key):
		// The key itself is a secret: never repeat it.
		return dsn{}, errors.New("has a public key with characters other than letters and digits: copy the DSN again from Project Settings > Client Keys (DSN)")
	}
	p := strings.TrimSuffix(u.Path, "/")
	i := strings.LastIndexByte(p, '/')
	project := p[i+1:]
	if project == "" || !isDigits(project) {
		return dsn{}, errors.New("must end with the project id, a number: https://<public key>@<host>/<project id>")
	}
	base := url.URL{Scheme: strings.ToLower(u.Scheme), Host: u.Host, Path: p[:max(i, 0)]}
	return dsn{base: strings.TrimSuffix(base.String(), "/"), baseURL: &base, projectID: project, publicKey: key}, nil
}

// checkSlug accepts what Sentry's monitor slugs are made of. It returns
// "" for a usable slug, else the reason and the fix.
func checkSlug(slug string) string {
	n := utf8.RuneCountInString(slug)
	switch {
	case n > maxSlugRunes:
		return fmt.Sprintf("has %d characters; Sentry cuts monitor slugs to %d, so the check-ins would go to another monitor: use a shorter slug", n, maxSlugRunes)
	case strings.ToLower(slug) != slug && isSlug(strings.ToLower(slug)):
		return fmt.Sprintf("%q has upper-case letters; Sentry's monitor slugs are lower case: use %q", truncate(slug, 60), strings.ToLower(slug))
	case !isSlug(slug):
		return fmt.Sprintf("%q may only hold lower-case letters, digits, - and _ (copy it from the monitor's page in Sentry, e.g. nightly-backup)", truncate(slug, 60))
	}
	return ""
}

func checkEnvironment(env string) string {
	n := utf8.RuneCountInString(env)
	switch {
	case n > maxEnvironmentRunes:
		return fmt.Sprintf("has %d characters; Sentry drops check-ins whose environment has more than %d", n, maxEnvironmentRunes)
	case strings.ContainsFunc(env, func(r rune) bool { return r == '/' || unicode.IsControl(r) }):
		return "must not contain / or control characters (line breaks, tabs), which Sentry's environment names cannot hold"
	}
	return ""
}

// parseMonitor reads the upsert settings; nil without upsert.
func parseMonitor(raw rawSettings, errs *sdk.FieldErrors) *monitorConfig {
	text := strings.TrimSpace(raw.Schedule)
	upsert := text != ""
	if raw.Upsert != nil {
		if !*raw.Upsert && text != "" {
			errs.Add("upsert", "is false, but schedule is set, and a schedule is only sent to create or update the monitor: remove upsert: false, or schedule")
		}
		upsert = *raw.Upsert
	}
	var mc monitorConfig
	if text != "" {
		sch, err := parseSchedule(text)
		if err != nil {
			errs.Add("schedule", "%s", err)
		}
		mc.Schedule = sch
	}
	minutes := func(name string, d *sdk.Duration) *uint64 {
		if d == nil {
			return nil
		}
		v := d.Std()
		switch {
		case !upsert:
			errs.Add(name, "works only with upsert: Sentry takes the monitor's settings only with its schedule; set upsert: true, or set %s on the monitor's page in Sentry", name)
		case v < time.Minute:
			errs.Add(name, "must be at least 1 minute, e.g. \"5m\" (a plain number is seconds)")
		case v%time.Minute != 0:
			errs.Add(name, "must be whole minutes, e.g. \"5m\": Sentry counts it in minutes")
		default:
			m := uint64(v / time.Minute)
			return &m
		}
		return nil
	}
	mc.CheckinMargin = minutes("checkin_margin", raw.CheckinMargin)
	mc.MaxRuntime = minutes("max_runtime", raw.MaxRuntime)
	if tz := strings.TrimSpace(raw.Timezone); tz != "" {
		switch _, err := time.LoadLocation(tz); {
		case !upsert:
			errs.Add("timezone", "works only with upsert: Sentry takes the monitor's settings only with its schedule; set upsert: true, or set the time zone on the monitor's page in Sentry")
		case tz == "Local" || err != nil:
			errs.Add("timezone", "%q is not an IANA time zone name such as UTC or Europe/Stockholm", truncate(tz, 60))
		default:
			mc.Timezone = tz
		}
	}
	if !upsert {
		return nil
	}
	return &mc
}

// isSlug: lower-case letters, digits, - and _.
func isSlug(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c == '-' || c == '_' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func isAlnum(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// truncate cuts s to at most n runes, marking the cut with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
