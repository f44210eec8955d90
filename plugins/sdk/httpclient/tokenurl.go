package httpclient

import (
	"net/url"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// TokenURL reads the address of a target whose URL ends with a secret
// token, as many monitoring tools' ping URLs do. The settings give it in
// one of two forms: one URL setting holding the token (URLSetting, e.g.
// heartbeat_url), or base_url and token. Its messages never quote the
// URL or the token.
type TokenURL struct {
	// URLSetting is the name of the setting holding the whole URL.
	URLSetting string
	// Thing is what the token belongs to, for messages: "heartbeat",
	// "snitch".
	Thing string
	// Service is the tool that shows the URL: "Better Stack".
	Service string
	// Split splits the whole URL into the base and the token, or returns
	// a message that says what is wrong with it.
	Split func(raw string) (base *url.URL, token, msg string)
	// Base checks base_url (nil when unset) and returns the base, or a
	// message.
	Base func(raw *string) (*url.URL, string)
	// CheckToken returns "" for a usable token, else a message.
	CheckToken func(token string) string
}

// Parse reads the settings' values, trimmed: rawURL of URLSetting,
// baseURL (nil when unset) and token. decoded holds the problems of
// decoding, whose settings are not checked again; the problems found go
// into checks. It returns the base and the token, with the setting to fix
// when the service does not know the token (URLSetting or "token"). base
// is nil when the address is unusable; with both forms given, the whole
// URL is read and the other settings are reported.
func (t TokenURL) Parse(rawURL string, baseURL *string, token string, decoded sdk.FieldErrors, checks *sdk.FieldErrors) (base *url.URL, tok, field string) {
	switch {
	case rawURL != "":
		if baseURL != nil {
			checks.Add("base_url", "%s already holds the address: remove base_url, or replace %s with base_url and token", t.URLSetting, t.URLSetting)
		}
		if token != "" {
			checks.Add("token", "%s already holds the token: set %s or token, not both", t.URLSetting, t.URLSetting)
		}
		base, tok, msg := t.Split(rawURL)
		if msg != "" {
			checks.Add(t.URLSetting, "%s", msg)
			return nil, "", ""
		}
		return base, tok, t.URLSetting
	case token != "":
		base, msg := t.Base(baseURL)
		if msg != "" {
			checks.Add("base_url", "%s", msg)
		}
		if msg := t.CheckToken(token); msg != "" {
			checks.Add("token", "%s", msg)
			return nil, "", ""
		}
		if base == nil {
			return nil, "", ""
		}
		return base, token, "token"
	case decoded.Has(t.URLSetting) || decoded.Has("token") || decoded.Has("base_url"):
		// The address was given in a form that did not decode.
	case baseURL != nil:
		checks.Add("token", "missing: base_url needs the %s's token (the last part of its URL)", t.Thing)
	default:
		checks.Add(t.URLSetting, "missing: set %s to the %s's URL as %s shows it (or set token)", t.URLSetting, t.Thing, t.Service)
	}
	return nil, "", ""
}
