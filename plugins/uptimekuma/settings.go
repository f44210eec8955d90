package main

import (
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"unicode"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/httpclient"
)

// settings are one instance's settings.
//
// The TLS settings are spelled out rather than embedding
// httpclient.TLSSettings: sdk.Settings.Decode only knows the json names of
// the top-level fields and would reject ca_file as unknown.
type settings struct {
	PushURL            string            `json:"push_url"`
	BaseURL            string            `json:"base_url"`
	Token              string            `json:"token"`
	Timeout            *sdk.Duration     `json:"timeout"`
	Headers            map[string]string `json:"headers"`
	CAFile             string            `json:"ca_file"`
	InsecureSkipVerify bool              `json:"insecure_skip_verify"`
}

func (s settings) tls() httpclient.TLSSettings {
	return httpclient.TLSSettings{CAFile: s.CAFile, InsecureSkipVerify: s.InsecureSkipVerify}
}

// pushRoute is where Uptime Kuma takes pushes, below its base URL.
const pushRoute = "/api/push"

// endpoint is a parsed push URL.
type endpoint struct {
	// base is Uptime Kuma's address: scheme, user info, host and path
	// prefix, with the query parameters to keep. Never the token.
	base  *url.URL
	token string
	// fields names the settings a user fixes when the push URL is wrong.
	fields string
}

// parseEndpoint reads push_url, or base_url and token. It never quotes
// push_url or token in its errors: they hold the secret token.
func parseEndpoint(s settings) (endpoint, sdk.FieldErrors) {
	var errs sdk.FieldErrors
	pushURL := strings.TrimSpace(s.PushURL)
	baseURL := strings.TrimSpace(s.BaseURL)
	switch {
	case pushURL != "" && (baseURL != "" || s.Token != ""):
		errs.Add("push_url", "set either push_url, or base_url and token, not both")
		return endpoint{}, errs
	case pushURL != "":
		return parsePushURL(pushURL)
	case baseURL == "" && s.Token == "":
		errs.Add("push_url", "is required: copy the push URL of an Uptime Kuma Push monitor (or set base_url and token)")
		return endpoint{}, errs
	}
	var ep endpoint
	if baseURL == "" {
		errs.Add("base_url", "is required with token: set Uptime Kuma's address, e.g. https://kuma.example.com")
	} else if base, msg := parseBaseURL(baseURL); msg != "" {
		errs.Add("base_url", "%s", msg)
	} else {
		ep.base = base
	}
	if s.Token == "" {
		errs.Add("token", "is required with base_url: the part of the push URL after /api/push/")
	} else if msg := checkToken(s.Token); msg != "" {
		errs.Add("token", "%s", msg)
	} else {
		ep.token = s.Token
	}
	ep.fields = "base_url and token"
	return ep, errs
}

// parsePushURL splits the URL Uptime Kuma shows, e.g.
// https://kuma.example.com/kuma/api/push/<token>?status=up&msg=OK&ping=,
// into base and token. The UI's status, msg and ping are dropped: each
// beat sets its own.
func parsePushURL(raw string) (endpoint, sdk.FieldErrors) {
	var errs sdk.FieldErrors
	u, msg := parseHTTPURL(raw)
	if msg != "" {
		errs.Add("push_url", "%s", msg)
		return endpoint{}, errs
	}
	i := strings.LastIndex(u.Path, pushRoute+"/")
	if i < 0 {
		if strings.HasSuffix(strings.TrimRight(u.Path, "/"), pushRoute) {
			errs.Add("push_url", "has no push token after /api/push/ (if the token comes from an environment variable, is it set?)")
		} else {
			errs.Add("push_url", "must be the push URL of an Uptime Kuma Push monitor, with the path /api/push/<token>")
		}
		return endpoint{}, errs
	}
	// Uptime Kuma's route accepts one trailing slash after the token.
	token := strings.TrimSuffix(u.Path[i+len(pushRoute)+1:], "/")
	switch {
	case token == "":
		errs.Add("push_url", "has no push token after /api/push/ (if the token comes from an environment variable, is it set?)")
	case strings.Contains(token, "/"):
		errs.Add("push_url", "must end with the push token: Uptime Kuma takes no further path after /api/push/<token>")
	default:
		if msg := checkToken(token); msg != "" {
			errs.Add("push_url", "push token %s", msg)
		}
	}
	query, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		errs.Add("push_url", "has an invalid query (the part after ?): copy the push URL again from Uptime Kuma")
	}
	if len(errs) > 0 {
		return endpoint{}, errs
	}
	for _, k := range []string{"status", "msg", "ping"} {
		query.Del(k)
	}
	base := *u
	base.Path, base.RawPath = u.Path[:i], ""
	base.RawQuery = query.Encode()
	return endpoint{base: &base, token: token, fields: "push_url"}, nil
}

// parseBaseURL checks base_url, which may have a path prefix (Uptime Kuma
// behind a reverse proxy at https://example.com/kuma/).
func parseBaseURL(raw string) (*url.URL, string) {
	u, msg := parseHTTPURL(raw)
	if msg != "" {
		return nil, msg
	}
	if strings.Contains(u.Path+"/", pushRoute+"/") {
		return nil, "is a push URL: set it as push_url instead, or leave out /api/push/… and set the token as token"
	}
	if u.RawQuery != "" {
		return nil, "must not have a query (the part after ?)"
	}
	base := *u
	base.Path, base.RawPath = strings.TrimRight(u.Path, "/"), ""
	return &base, ""
}

// parseHTTPURL parses an absolute http or https URL. Its messages never
// quote the URL.
func parseHTTPURL(raw string) (*url.URL, string) {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			// url.Error's own message quotes the whole URL, token included.
			return nil, "is not a valid URL: " + ue.Err.Error()
		}
		return nil, "is not a valid URL"
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	case "":
		return nil, "must start with http:// or https://"
	default:
		return nil, "must start with http:// or https://, not " + u.Scheme + "://"
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, "has no host name"
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Fragment, u.RawFragment = "", ""
	return u, ""
}

// checkToken rejects what cannot be a push token. Uptime Kuma's route takes
// the token as one path segment, so it cannot hold a slash; the UI
// generates letters and digits, so white space, control characters, ? and #
// are copy-and-paste slips. It returns "" for a usable token, otherwise a
// message that does not quote the token.
func checkToken(token string) string {
	switch {
	case token == "." || token == "..":
		return "is not a push token"
	case strings.Contains(token, "/"):
		return "must not contain /: it is only the part of the push URL after /api/push/"
	case strings.ContainsAny(token, "?#&="):
		return "must not contain ?, #, & or =: leave out the ?status=up&msg=OK&ping= part of the push URL"
	case strings.ContainsFunc(token, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return "must not contain spaces or control characters"
	}
	return ""
}

// checkHeaders refuses headers net/http would not send, and those the
// plugin sets itself. A value may be a secret: messages name the header
// only.
func checkHeaders(headers map[string]string) sdk.FieldErrors {
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
		case strings.EqualFold(name, "Accept") || strings.EqualFold(name, "Host") || strings.EqualFold(name, "Content-Length"):
			errs.Add("headers", "%s is set by heartbeat and cannot be set here", http.CanonicalHeaderKey(name))
		}
	}
	return errs
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
