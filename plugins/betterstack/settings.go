package main

import (
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/httpclient"
)

// hostedBaseURL is where Better Stack takes heartbeats: the heartbeat URL
// its UI shows is this plus the token.
const hostedBaseURL = "https://uptime.betterstack.com/api/v1/heartbeat/"

// heartbeatSegment is the path segment before the token in Better Stack's
// heartbeat URLs (…/api/v1/heartbeat/<token>).
const heartbeatSegment = "heartbeat"

// rawSettings is the settings as written in the config file. The TLS
// settings are spelled out rather than embedding httpclient.TLSSettings:
// sdk.Settings.Decode only sees the fields of the struct itself.
type rawSettings struct {
	HeartbeatURL       string        `json:"heartbeat_url"`
	BaseURL            *string       `json:"base_url"`
	Token              string        `json:"token"`
	Timeout            *sdk.Duration `json:"timeout"`
	CAFile             string        `json:"ca_file"`
	InsecureSkipVerify bool          `json:"insecure_skip_verify"`
}

// settingInfos documents rawSettings for "heartbeat plugins" and the docs.
func settingInfos() []sdk.SettingInfo {
	return append([]sdk.SettingInfo{
		{Name: "heartbeat_url", Type: "string", Secret: true, Description: "The heartbeat's URL as Better Stack shows it, e.g. `https://uptime.betterstack.com/api/v1/heartbeat/<token>`: `http://` or `https://`, ending with `/heartbeat/<token>` (a trailing `/` is fine). No query, and no `/fail` or exit code at the end: heartbeat adds those. Required unless `token` is set."},
		{Name: "base_url", Type: "string", Default: hostedBaseURL, Description: "Instead of `heartbeat_url`, with `token`: the address heartbeat URLs start with, path included. Change it only to reach Better Stack through a proxy of your own (or a test server). No query, and not a heartbeat URL (move that to `heartbeat_url`)."},
		{Name: "token", Type: "string", Secret: true, Description: "Instead of `heartbeat_url`: the heartbeat's token, the last part of its URL. It cannot contain `/`, `?`, `#`, spaces or control characters."},
	}, httpclient.SettingInfos(httpclient.SettingsDoc{Whose: "Better Stack's", CAFor: "a proxy"})...)
}

// config is one validated instance.
type config struct {
	// base is the heartbeat endpoint without the token; never holds it.
	base *url.URL
	// token is the heartbeat's secret token.
	token string
	// display is the heartbeat URL with the token redacted, for messages.
	display string
	// fields names the settings to fix when Better Stack does not know the
	// heartbeat.
	fields  string
	timeout time.Duration
	tls     httpclient.TLSSettings
}

// url is the heartbeat URL followed by suffix (nothing, "fail" or an exit
// code).
func (c config) url(suffix string) *url.URL {
	u := c.base.JoinPath(url.PathEscape(c.token))
	if suffix != "" {
		u = u.JoinPath(suffix)
	}
	return u
}

// parseSettings validates settings, reporting every invalid one at once.
// No message quotes heartbeat_url or token: both hold the secret.
func parseSettings(s sdk.Settings, logger hclog.Logger) (config, error) {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	var raw rawSettings
	// Decoding's problems first; checks below skip the settings that
	// failed to decode, whose zero value would only repeat the problem.
	var errs sdk.FieldErrors
	errs.Merge(s.Decode(&raw))
	var checks sdk.FieldErrors
	cfg := config{tls: httpclient.TLSSettings{CAFile: raw.CAFile, InsecureSkipVerify: raw.InsecureSkipVerify}}
	cfg.base, cfg.token, cfg.fields = address.Parse(strings.TrimSpace(raw.HeartbeatURL), raw.BaseURL, strings.TrimSpace(raw.Token), errs, &checks)
	if cfg.base != nil {
		cfg.display = httpclient.DisplayURL(cfg.base, cfg.token)
	}

	cfg.timeout = httpclient.ParseTimeout(raw.Timeout, &checks)
	cfg.tls.WarnIgnoredCA(logger)
	errs.Merge(checks.Err())
	return cfg, errs.Err()
}

// address reads heartbeat_url, or base_url and token.
var address = httpclient.TokenURL{
	URLSetting: "heartbeat_url",
	Thing:      "heartbeat",
	Service:    "Better Stack",
	Split:      parseHeartbeatURL,
	Base:       parseBaseURL,
	CheckToken: checkToken,
}

// urlRules is what heartbeat_url and base_url must not hold.
var urlRules = httpclient.URLRules{
	UserInfo: "must not hold a user name or password: Better Stack's heartbeat URLs have none",
	Query:    "must not have a query (the part after ?): Better Stack's heartbeat URLs have none",
	Fragment: "must not have a fragment (the part after #)",
}

// parseHTTPURL parses an absolute http(s) URL without query or fragment.
// Its messages never quote the URL: it may hold the token.
func parseHTTPURL(raw string) (*url.URL, string) {
	u, err := httpclient.ParseURL(raw, urlRules)
	if err != nil {
		return nil, err.Error()
	}
	return u, ""
}

// parseHeartbeatURL splits the URL Better Stack shows,
// https://uptime.betterstack.com/api/v1/heartbeat/<token>, into the
// endpoint and the token.
func parseHeartbeatURL(raw string) (*url.URL, string, string) {
	u, msg := parseHTTPURL(raw)
	if msg != "" {
		return nil, "", msg
	}
	segs := httpclient.PathSegments(u)
	n := len(segs)
	switch {
	case n >= 2 && segs[n-2] == heartbeatSegment:
		if msg := checkToken(segs[n-1]); msg != "" {
			return nil, "", "token " + msg
		}
		return httpclient.WithPath(u, segs[:n-1]), segs[n-1], ""
	case n >= 1 && segs[n-1] == heartbeatSegment:
		return nil, "", "has no token after /heartbeat/ (if the token comes from an environment variable, is it set?)"
	case n >= 3 && segs[n-3] == heartbeatSegment && isSuffix(segs[n-1]):
		return nil, "", "ends with /" + segs[n-1] + " after the token: remove it, heartbeat adds /fail and exit codes itself"
	}
	return nil, "", "must be the heartbeat's URL as Better Stack shows it, ending with /api/v1/heartbeat/<token>; for another address set base_url and token"
}

// isSuffix reports whether seg is what a client appends to a heartbeat
// URL: fail or an exit code.
func isSuffix(seg string) bool {
	return seg == "fail" || seg != "" && strings.Trim(seg, "0123456789") == ""
}

// parseBaseURL checks base_url, the hosted endpoint when unset.
func parseBaseURL(raw *string) (*url.URL, string) {
	s := hostedBaseURL
	if raw != nil {
		s = strings.TrimSpace(*raw)
		if s == "" {
			return nil, "is empty: remove it to use " + hostedBaseURL + ", or set the address heartbeat URLs start with"
		}
	}
	u, msg := parseHTTPURL(s)
	if msg != "" {
		return nil, msg
	}
	segs := httpclient.PathSegments(u)
	if n := len(segs); n >= 2 && segs[n-2] == heartbeatSegment || n >= 3 && segs[n-3] == heartbeatSegment && isSuffix(segs[n-1]) {
		return nil, "ends with a token: base_url is the address without the heartbeat's token; move the whole URL to heartbeat_url instead"
	}
	return httpclient.WithPath(u, segs), ""
}

// checkToken rejects what cannot be a token. Better Stack does not
// document the token's format, so only what cannot be one path segment,
// and copy-and-paste slips, are refused. It returns "" for a usable token,
// otherwise a message that does not quote it.
func checkToken(token string) string {
	switch {
	case token == "":
		return "is empty"
	case token == "." || token == "..":
		return "is not a heartbeat token"
	case strings.Contains(token, "/"):
		return "must not contain /: it is only the last part of the heartbeat URL"
	case strings.ContainsAny(token, "?#"):
		return "must not contain ? or #"
	case strings.ContainsFunc(token, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return "must not contain spaces or control characters"
	}
	return ""
}
