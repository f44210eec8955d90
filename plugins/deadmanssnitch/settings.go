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

// hostedBaseURL is where Dead Man's Snitch takes check-ins: a snitch's URL
// is this plus its token.
const hostedBaseURL = "https://nosnch.in/"

// rawSettings is the settings as written in the config file. The TLS
// settings are spelled out rather than embedding httpclient.TLSSettings:
// sdk.Settings.Decode only sees the fields of the struct itself.
type rawSettings struct {
	SnitchURL          string        `json:"snitch_url"`
	BaseURL            *string       `json:"base_url"`
	Token              string        `json:"token"`
	Timeout            *sdk.Duration `json:"timeout"`
	CAFile             string        `json:"ca_file"`
	InsecureSkipVerify bool          `json:"insecure_skip_verify"`
}

// settingInfos documents rawSettings for "heartbeat plugins" and the docs.
func settingInfos() []sdk.SettingInfo {
	return append([]sdk.SettingInfo{
		{Name: "snitch_url", Type: "string", Secret: true, Description: "The snitch's check-in URL as Dead Man's Snitch shows it, e.g. `https://nosnch.in/c2354d53d2`: `http://` or `https://`, ending with the snitch's token. No query (heartbeat adds `m` and `s`). Required unless `token` is set."},
		{Name: "base_url", Type: "string", Default: hostedBaseURL, Description: "Instead of `snitch_url`, with `token`: the address check-in URLs start with, path included. Change it only to reach Dead Man's Snitch through a proxy of your own (or a test server). No query."},
		{Name: "token", Type: "string", Secret: true, Description: "Instead of `snitch_url`: the snitch's token, the last part of its URL (`c2354d53d2` in `https://nosnch.in/c2354d53d2`). It cannot contain `/`, `?`, `#`, `&`, `=`, spaces or control characters."},
	}, httpclient.SettingInfos(httpclient.SettingsDoc{Whose: "Dead Man's Snitch's", CAFor: "a proxy"})...)
}

// config is one validated instance.
type config struct {
	// base is the check-in endpoint without the token; never holds it.
	base *url.URL
	// token is the snitch's secret token.
	token string
	// display is the check-in URL with the token redacted, for messages.
	display string
	// fields names the settings to fix when the snitch is unknown.
	fields  string
	timeout time.Duration
	tls     httpclient.TLSSettings
}

// url is the snitch's check-in URL, without a query.
func (c config) url() *url.URL {
	return c.base.JoinPath(url.PathEscape(c.token))
}

// parseSettings validates settings, reporting every invalid one at once.
// No message quotes snitch_url or token: both hold the secret.
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
	cfg.base, cfg.token, cfg.fields = address.Parse(strings.TrimSpace(raw.SnitchURL), raw.BaseURL, strings.TrimSpace(raw.Token), errs, &checks)
	if cfg.base != nil {
		cfg.display = httpclient.DisplayURL(cfg.base, cfg.token)
	}

	cfg.timeout = httpclient.ParseTimeout(raw.Timeout, &checks)
	cfg.tls.WarnIgnoredCA(logger)
	errs.Merge(checks.Err())
	return cfg, errs.Err()
}

// address reads snitch_url, or base_url and token.
var address = httpclient.TokenURL{
	URLSetting: "snitch_url",
	Thing:      "snitch",
	Service:    "Dead Man's Snitch",
	Split:      parseSnitchURL,
	Base:       parseBaseURL,
	CheckToken: checkToken,
}

// urlRules is what snitch_url and base_url must not hold.
var urlRules = httpclient.URLRules{
	UserInfo: "must not hold a user name or password: check-in URLs have none",
	Query:    "must not have a query (the part after ?): heartbeat adds the message (m) and status (s) itself",
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

// parseSnitchURL splits https://nosnch.in/<token> into the endpoint and
// the token, the last path segment; a path before it is kept (a proxy).
func parseSnitchURL(raw string) (*url.URL, string, string) {
	u, msg := parseHTTPURL(raw)
	if msg != "" {
		return nil, "", msg
	}
	segs := httpclient.PathSegments(u)
	n := len(segs)
	if n == 0 {
		return nil, "", "has no snitch token: use the snitch's URL as Dead Man's Snitch shows it, https://nosnch.in/<token> (if the token comes from an environment variable, is it set?)"
	}
	if msg := checkToken(segs[n-1]); msg != "" {
		return nil, "", "token " + msg
	}
	return httpclient.WithPath(u, segs[:n-1]), segs[n-1], ""
}

// parseBaseURL checks base_url, the hosted endpoint when unset.
func parseBaseURL(raw *string) (*url.URL, string) {
	s := hostedBaseURL
	if raw != nil {
		s = strings.TrimSpace(*raw)
		if s == "" {
			return nil, "is empty: remove it to use " + hostedBaseURL + ", or set the address check-in URLs start with"
		}
	}
	u, msg := parseHTTPURL(s)
	if msg != "" {
		return nil, msg
	}
	if strings.EqualFold(u.Hostname(), "nosnch.in") && len(httpclient.PathSegments(u)) > 0 {
		return nil, "is a snitch's URL: set it as snitch_url instead, or leave base_url out and set token"
	}
	return httpclient.WithPath(u, httpclient.PathSegments(u)), ""
}

// checkToken rejects what cannot be a token. The token's format is not
// specified beyond the examples (10 hexadecimal characters), so only what
// cannot be one path segment, and copy-and-paste slips, are refused. It
// returns "" for a usable token, otherwise a message that does not quote
// it.
func checkToken(token string) string {
	switch {
	case token == "":
		return "is empty"
	case token == "." || token == "..":
		return "is not a snitch token"
	case strings.Contains(token, "/"):
		return "must not contain /: it is only the last part of the snitch's URL"
	case strings.ContainsAny(token, "?#&="):
		return "must not contain ?, #, & or =: leave out any query such as ?m=…"
	case strings.ContainsFunc(token, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return "must not contain spaces or control characters"
	}
	return ""
}
