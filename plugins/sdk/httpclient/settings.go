package httpclient

import (
	"errors"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// SettingsDoc words the rows SettingInfos writes for one target.
type SettingsDoc struct {
	// Whose is whose answer timeout waits for, possessive:
	// "Cronitor's", "the Pushgateway's". Empty means "the server's".
	Whose string
	// CAFor is who may have a certificate from its own CA: "a proxy",
	// "a self-hosted Sentry". Empty means "a server".
	CAFor string
	// Verified is whose certificate insecure_skip_verify stops verifying:
	// "the Pushgateway's". Empty means "the server's".
	Verified string
}

// SettingInfos documents the settings every HTTP target takes, timeout,
// ca_file and insecure_skip_verify, in that order, for Info.Settings.
// The target reads them with ParseTimeout and TLSSettings.
func SettingInfos(doc SettingsDoc) []sdk.SettingInfo {
	whose := doc.Whose
	if whose == "" {
		whose = "the server's"
	}
	caFor := doc.CAFor
	if caFor == "" {
		caFor = "a server"
	}
	verified := doc.Verified
	if verified == "" {
		verified = "the server's"
	}
	return []sdk.SettingInfo{
		{Name: "timeout", Type: "duration", Default: DefaultTimeout.String(), Description: "How long to wait for " + whose + " answer, e.g. `5s`. Must be more than 0."},
		{Name: "ca_file", Type: "string", Description: "A PEM file of CA certificates to trust in addition to the system's, for " + caFor + " with a certificate from its own CA."},
		{Name: "insecure_skip_verify", Type: "bool", Default: "false", Description: "Do not verify " + verified + " certificate. Prefer `ca_file`."},
	}
}

// ParseTimeout reads a timeout setting: DefaultTimeout when unset, and a
// problem for the field "timeout" in errs (and DefaultTimeout) when it is
// not more than 0.
func ParseTimeout(d *sdk.Duration, errs *sdk.FieldErrors) time.Duration {
	switch {
	case d == nil:
		return DefaultTimeout
	case d.Std() <= 0:
		errs.Add("timeout", "must be more than 0, e.g. \"10s\"")
		return DefaultTimeout
	}
	return d.Std()
}

// WarnIgnoredCA logs a warning when both ca_file and insecure_skip_verify
// are set: the CA file then has no effect, which the user may not expect.
func (s TLSSettings) WarnIgnoredCA(logger hclog.Logger) {
	if logger != nil && s.CAFile != "" && s.InsecureSkipVerify {
		logger.Warn("insecure_skip_verify is set, so ca_file is not used: certificates are not verified")
	}
}

// URLRules says what ParseURL refuses in an http(s) URL beyond the
// basics, and how it says so: a non-empty message refuses that part of the
// URL with the message, an empty one lets it through.
type URLRules struct {
	// UserInfo refuses a user name or password (https://user:pw@host).
	UserInfo string
	// Query refuses a query, the part after ?, even an empty one.
	Query string
	// Fragment refuses a fragment, the part after #.
	Fragment string
}

// maxSchemeShown bounds the scheme a message quotes.
const maxSchemeShown = 20

// ParseURL parses a URL setting that must be an absolute http:// or
// https:// URL with a host name, and refuses what rules name. Its messages
// never quote the URL, which may hold a secret (a token in the path, a
// password): they are worded to follow the setting's name, e.g. "has no
// server name". The scheme of the result is lower case.
func ParseURL(raw string, rules URLRules) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			// url.Error's own message quotes the whole URL.
			return nil, errors.New("is not a valid URL: " + ue.Err.Error())
		}
		return nil, errors.New("is not a valid URL")
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	case "":
		return nil, errors.New("must start with https:// (or http://)")
	default:
		return nil, errors.New("must start with https:// (or http://), not " + boundScheme(u.Scheme) + "://")
	}
	u.Scheme = strings.ToLower(u.Scheme)
	switch {
	case u.Hostname() == "":
		return nil, errors.New("has no server name")
	case rules.UserInfo != "" && u.User != nil:
		return nil, errors.New(rules.UserInfo)
	case rules.Query != "" && (u.RawQuery != "" || u.ForceQuery):
		return nil, errors.New(rules.Query)
	case rules.Fragment != "" && u.Fragment != "":
		return nil, errors.New(rules.Fragment)
	}
	return u, nil
}

// boundScheme cuts a scheme to maxSchemeShown bytes for a message. A
// parsed scheme is ASCII, but the cut stays on a character boundary
// whatever it gets.
func boundScheme(s string) string {
	if len(s) <= maxSchemeShown {
		return s
	}
	cut := maxSchemeShown
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// PathSegments splits u's (decoded) path into its segments, ignoring
// leading and trailing slashes: "/api/v1/heartbeat/" is api, v1,
// heartbeat.
func PathSegments(u *url.URL) []string {
	p := strings.Trim(u.Path, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// WithPath returns a copy of u whose path is segs joined with slashes,
// e.g. a URL setting without the token that ends it.
func WithPath(u *url.URL, segs []string) *url.URL {
	out := *u
	out.RawPath = ""
	out.Path = "/" + strings.Join(segs, "/")
	return &out
}

// DisplayURL shows base followed by the redacted secret, for messages,
// logs and Describe: https://nosnch.in/…d2c4. Unlike sdk.RedactURL it
// keeps base's path, which is no secret and tells targets apart; base's
// user info, query and fragment are left out.
func DisplayURL(base *url.URL, secret string) string {
	shown := url.URL{Scheme: base.Scheme, Host: base.Host, Path: base.Path, RawPath: base.RawPath}
	return strings.TrimSuffix(shown.String(), "/") + "/" + sdk.RedactSecret(secret)
}
