package main

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/httpclient"
)

const (
	hostedBaseURL = "https://hc-ping.com/"
	hostedHost    = "hc-ping.com"
	// Body limits when the server has not sent Ping-Body-Limit yet (or never
	// will: servers older than v2 do not send it).
	hostedBodyLimit     = 100_000
	selfHostedBodyLimit = 10_000
	// maxBodyLimit is Django's default upload limit: a larger body gets 400
	// whatever Ping-Body-Limit says.
	maxBodyLimit = 2_621_440
)

// isSlug reports whether s is what Healthchecks' URL routes accept as a slug
// or ping key (Django's slug converter: [-a-zA-Z0-9_]+).
func isSlug(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c == '-' || c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// rawSettings is the settings as written in the config file.
type rawSettings struct {
	PingURL string        `json:"ping_url"`
	BaseURL *string       `json:"base_url"`
	UUID    string        `json:"uuid"`
	PingKey string        `json:"ping_key"`
	Slug    string        `json:"slug"`
	Create  bool          `json:"create"`
	Timeout *sdk.Duration `json:"timeout"`
	Method  string        `json:"method"`
	// Headers are extra request headers, e.g. for a proxy in front of a
	// self-hosted server.
	Headers map[string]string `json:"headers"`
	// The fields of httpclient.TLSSettings, spelled out because
	// sdk.Settings.Decode does not see the fields of an embedded struct.
	CAFile             string `json:"ca_file"`
	InsecureSkipVerify bool   `json:"insecure_skip_verify"`
}

// settingInfos documents rawSettings for "heartbeat plugins" and the docs.
func settingInfos() []sdk.SettingInfo {
	return []sdk.SettingInfo{
		{Name: "ping_url", Type: "string", Secret: true, Description: "The check's ping URL as Healthchecks shows it: `http://` or `https://`, ending with the check's UUID (a trailing `/` is fine). No query, and no `/start`, `/fail` or exit code at the end: heartbeat adds those. A slug URL is refused with a hint to use `ping_key` and `slug`."},
		{Name: "base_url", Type: "string", Default: hostedBaseURL, Description: "The server's ping endpoint, path prefix included, e.g. `https://example.com/hc/ping/`. No query, and not a ping URL (move that to `ping_url`). For a self-hosted server usually `<SITE_ROOT>/ping/`."},
		{Name: "uuid", Type: "string", Secret: true, Description: "The check's UUID, with `base_url`. Upper case and the form without dashes are accepted and sent as Healthchecks expects them (lower case, with dashes)."},
		{Name: "ping_key", Type: "string", Secret: true, Description: "The project's ping key (on the project's Settings page), with `slug`. Letters, digits, `-` and `_`."},
		{Name: "slug", Type: "string", Description: "The check's slug, with `ping_key`. Letters, digits, `-` and `_`. Upper case is accepted, with a warning: Healthchecks' UI makes slugs lower case, so it is likely a typo."},
		{Name: "create", Type: "bool", Default: "false", Description: "With `ping_key` and `slug` only: ask Healthchecks to create the check when the project has none with this slug (`?create=1`). New checks get the project's default period and grace time: adjust them in Healthchecks."},
		{Name: "timeout", Type: "duration", Default: httpclient.DefaultTimeout.String(), Description: "How long to wait for Healthchecks' answer, e.g. `5s`. Must be more than 0."},
		{Name: "method", Type: "string", Default: "`POST` when the beat has a message or log, else `GET`", Description: "`HEAD`, `GET` or `POST` (any case). Only `POST` sends the message and log; with `HEAD` or `GET` they are dropped."},
		{Name: "headers", Type: "map", Secret: true, Description: "Extra request headers, name to value, e.g. for an authenticating proxy in front of a self-hosted server: `Authorization: \"Bearer ${TOKEN}\"`. Names must be valid HTTP header names; values may not hold line breaks or other control characters. A `User-Agent` here replaces heartbeat's; `Content-Type` and `Host` cannot be set."},
		{Name: "ca_file", Type: "string", Description: "A PEM file of CA certificates to trust in addition to the system's, for a server with a certificate from its own CA."},
		{Name: "insecure_skip_verify", Type: "bool", Default: "false", Description: "Do not verify the server's certificate. Prefer `ca_file`."},
	}
}

// config is one validated instance.
type config struct {
	// ping is the check's success URL: base + uuid, or base + ping key + slug.
	ping *url.URL
	// display is ping with the UUID or ping key redacted, for messages.
	display string
	// secret is the UUID or ping key, redacted from anything shown.
	secret string
	// fix names the settings to fix when the check does not exist.
	fix     string
	slug    string
	create  bool
	hosted  bool
	method  string // "" chooses POST or GET per beat
	headers map[string]string
	timeout time.Duration
	tls     httpclient.TLSSettings
}

// parseSettings validates settings, reporting every invalid one.
func parseSettings(s sdk.Settings, logger hclog.Logger) (config, error) {
	var raw rawSettings
	// Every problem is reported at once: decoding's, then the checks'
	// below, except for settings that failed to decode (their zero value
	// would only repeat the problem in other words).
	var decoded sdk.FieldErrors
	decoded.Merge(s.Decode(&raw))
	var errs sdk.FieldErrors
	cfg := config{
		create:  raw.Create,
		timeout: httpclient.DefaultTimeout,
		tls:     httpclient.TLSSettings{CAFile: raw.CAFile, InsecureSkipVerify: raw.InsecureSkipVerify},
	}

	pingURL := strings.TrimSpace(raw.PingURL)
	uuid := strings.TrimSpace(raw.UUID)
	pingKey := strings.TrimSpace(raw.PingKey)
	slug := strings.TrimSpace(raw.Slug)
	slugForm := pingKey != "" || slug != ""

	switch {
	case pingURL != "":
		if raw.BaseURL != nil {
			errs.Add("base_url", "ping_url already holds the server's address: remove base_url, or replace ping_url with base_url and uuid")
		}
		if uuid != "" {
			errs.Add("uuid", "ping_url already holds the check's UUID: set ping_url or uuid, not both")
		}
		if slugForm {
			errs.Add(firstSet("ping_key", pingKey, "slug"), "ping_url already names the check: set ping_url, or ping_key and slug, not both")
		}
		base, id, err := parsePingURL(pingURL)
		if err != nil {
			errs.Add("ping_url", "%s", err)
			break
		}
		cfg.setUUID(base, id, "ping_url")
	case uuid != "" || slugForm:
		base, err := parseBaseURL(raw.BaseURL)
		if err != nil {
			errs.Add("base_url", "%s", err)
		}
		if uuid != "" && slugForm {
			errs.Add("uuid", "set uuid, or ping_key and slug, not both")
			break
		}
		if uuid != "" {
			id, ok := canonicalUUID(uuid)
			if !ok {
				errs.Add("uuid", "is not a UUID; copy it from the check's page in Healthchecks (36 characters such as 01234567-89ab-cdef-0123-456789abcdef)")
				break
			}
			if base != nil {
				cfg.setUUID(base, id, "uuid")
			}
			break
		}
		keyOK := validPingKey(pingKey, &errs)
		slugOK := validSlug(slug, &errs, logger)
		if !keyOK || !slugOK || base == nil {
			break
		}
		cfg.ping = base.JoinPath(pingKey, slug)
		cfg.secret = pingKey
		cfg.slug = slug
		cfg.display = displayURL(base, pingKey) + "/" + slug
		cfg.fix = "fix ping_key or slug, or set create: true to have Healthchecks create it"
		cfg.hosted = base.Hostname() == hostedHost
	case decoded.Has("ping_url") || decoded.Has("uuid") || decoded.Has("ping_key") || decoded.Has("slug") || decoded.Has("base_url"):
		// The check's address was given, in a form that did not decode.
	default:
		errs.Add("ping_url", "missing: set ping_url (the check's ping URL as Healthchecks shows it), or base_url with uuid, or base_url with ping_key and slug")
	}
	if raw.Create && !slugForm {
		errs.Add("create", "works only with ping_key and slug: Healthchecks creates missing checks by slug, never by UUID")
	}

	cfg.timeout = httpclient.ParseTimeout(raw.Timeout, &errs)
	switch m := strings.ToUpper(strings.TrimSpace(raw.Method)); m {
	case "":
	case "HEAD", "GET", "POST":
		cfg.method = m
	default:
		errs.Add("method", "must be HEAD, GET or POST, not %q", raw.Method)
	}
	errs.Merge(checkHeaders(raw.Headers))
	cfg.headers = raw.Headers
	cfg.tls.WarnIgnoredCA(logger)
	decoded.Merge(errs.Err())
	return cfg, decoded.Err()
}

func (c *config) setUUID(base *url.URL, id, setting string) {
	c.ping = base.JoinPath(id)
	c.secret = id
	c.display = displayURL(base, id)
	c.fix = "create it or fix " + setting
	c.hosted = base.Hostname() == hostedHost
}

// displayURL is base joined with the redacted secret. Unlike sdk.RedactURL
// it keeps the base's path, which is no secret and tells servers apart.
func displayURL(base *url.URL, secret string) string {
	shown := *base
	shown.User = nil
	shown.RawQuery, shown.Fragment = "", ""
	return strings.TrimSuffix(shown.String(), "/") + "/" + sdk.RedactSecret(secret)
}

func firstSet(name, value, other string) string {
	if value != "" {
		return name
	}
	return other
}

// parseHTTPURL parses an absolute http(s) URL without query or fragment.
// Errors never repeat the URL: it may hold a secret.
func parseHTTPURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, fmt.Errorf("is not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		if u.Scheme == "" {
			return nil, fmt.Errorf("must start with https:// (or http://)")
		}
		return nil, fmt.Errorf("must be an http or https URL, not %s", u.Scheme)
	case u.Host == "":
		return nil, fmt.Errorf("has no server name")
	case u.RawQuery != "" || u.ForceQuery:
		return nil, fmt.Errorf("must not have a query (the part after ?): heartbeat adds the parameters it needs")
	case u.Fragment != "":
		return nil, fmt.Errorf("must not have a fragment (the part after #)")
	}
	return u, nil
}

// withSegments returns u with its path replaced by segments.
func withSegments(u *url.URL, segments []string) *url.URL {
	out := *u
	out.RawPath = ""
	out.Path = "/" + strings.Join(segments, "/")
	if len(segments) > 0 {
		out.Path += "/"
	}
	return &out
}

// parsePingURL splits a UUID ping URL into its base and the check's UUID.
func parsePingURL(raw string) (*url.URL, string, error) {
	u, err := parseHTTPURL(raw)
	if err != nil {
		return nil, "", err
	}
	segs := httpclient.PathSegments(u)
	n := len(segs)
	if n == 0 {
		return nil, "", fmt.Errorf("has no check UUID: use the check's ping URL as Healthchecks shows it, e.g. https://hc-ping.com/<uuid>")
	}
	if id, ok := canonicalUUID(segs[n-1]); ok {
		return withSegments(u, segs[:n-1]), id, nil
	}
	if n >= 2 {
		if _, ok := canonicalUUID(segs[n-2]); ok {
			return nil, "", fmt.Errorf("ends with /%s after the check's UUID: remove it, heartbeat adds /start, /fail, /log and exit codes itself", segs[n-1])
		}
		if validSignalSuffix(segs[n-1]) && n >= 3 {
			return nil, "", fmt.Errorf("ends with /%s: remove it, heartbeat adds /start, /fail, /log and exit codes itself", segs[n-1])
		}
		return nil, "", fmt.Errorf("does not end with a check UUID; if it is a slug URL (ping key and slug), set base_url, ping_key and slug instead of ping_url")
	}
	return nil, "", fmt.Errorf("does not end with a check UUID: use the check's ping URL as Healthchecks shows it, e.g. https://hc-ping.com/<uuid>")
}

func validSignalSuffix(s string) bool {
	if s == "start" || s == "fail" || s == "log" {
		return true
	}
	_, err := strconv.Atoi(s)
	return err == nil
}

// parseBaseURL validates base_url, hc-ping.com when unset.
func parseBaseURL(raw *string) (*url.URL, error) {
	s := hostedBaseURL
	if raw != nil {
		s = strings.TrimSpace(*raw)
		if s == "" {
			return nil, fmt.Errorf("is empty: remove it to use %s, or set the server's ping endpoint", hostedBaseURL)
		}
	}
	u, err := parseHTTPURL(s)
	if err != nil {
		return nil, err
	}
	segs := httpclient.PathSegments(u)
	if n := len(segs); n > 0 {
		if _, ok := canonicalUUID(segs[n-1]); ok {
			return nil, fmt.Errorf("ends with a check UUID: base_url is the server's ping endpoint without the check; move the whole URL to ping_url instead")
		}
	}
	return withSegments(u, segs), nil
}

func validPingKey(key string, errs *sdk.FieldErrors) bool {
	switch {
	case key == "":
		errs.Add("ping_key", "missing: slug needs the project's ping key (on the project's Settings page in Healthchecks)")
	case !isSlug(key):
		// The key itself is a secret: never repeat it.
		errs.Add("ping_key", "may only hold letters, digits, - and _; copy it from the project's Settings page in Healthchecks")
	default:
		return true
	}
	return false
}

func validSlug(slug string, errs *sdk.FieldErrors, logger hclog.Logger) bool {
	switch {
	case slug == "":
		errs.Add("slug", "missing: ping_key needs the check's slug")
	case !isSlug(slug):
		errs.Add("slug", "%q may only hold letters, digits, - and _ (Healthchecks' slugs look like database-backup)", slug)
	default:
		// Healthchecks accepts upper case, but its UI makes slugs lower
		// case: likely a typo, though not certainly.
		if slug != strings.ToLower(slug) {
			logger.Warn("slug has upper-case letters; Healthchecks' UI makes slugs lower case, so check it matches the check's slug", "slug", slug)
		}
		return true
	}
	return false
}

// checkHeaders refuses headers net/http would not send, and those the
// plugin sets itself. A value may be a secret: messages name the header
// only.
func checkHeaders(headers map[string]string) error {
	var errs sdk.FieldErrors
	names := make([]string, 0, len(headers))
	for name := range headers {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		switch {
		case !validHeaderName(name):
			errs.Add("headers", "%q is not a valid header name", name)
		case !validHeaderValue(headers[name]):
			errs.Add("headers", "the value of %s holds a line break or another control character", name)
		case strings.EqualFold(name, "Content-Type") || strings.EqualFold(name, "Host") || strings.EqualFold(name, "Content-Length"):
			errs.Add("headers", "%s is set by heartbeat and cannot be set here", http.CanonicalHeaderKey(name))
		}
	}
	return errs.Err()
}

// validHeaderName reports whether name is an HTTP token (RFC 9110): net/http
// refuses to send any other, which would fail every beat.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range []byte(name) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validHeaderValue reports whether net/http will send value: no control
// characters other than tab.
func validHeaderValue(value string) bool {
	for _, c := range []byte(value) {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
