package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/httpclient"
)

// target is the generic HTTP target.
type target struct {
	// pool shares HTTP transports, and so connections, between the
	// instances; nil gives each instance its own.
	pool *httpclient.Pool
	// plainHeader is the headers of every instance without a headers
	// setting (the User-Agent alone), shared read-only as each instance's
	// are between its beats; nil gives each instance its own.
	plainHeader http.Header
}

// plainHeader is what an instance without a headers setting sends.
func plainHeader() http.Header {
	return http.Header{"User-Agent": {sdk.UserAgent()}}
}

func (target) Info() sdk.Info {
	return sdk.Info{
		Name:        "http",
		Version:     sdk.Version(),
		Description: "sends each beat as an HTTP request to a URL (the Butler SOS remoteURL)",
		Signals:     []sdk.Signal{sdk.SignalSuccess, sdk.SignalFail},
		Settings: []sdk.SettingInfo{
			{Name: "url", Type: "url", Required: true, Secret: true, Description: "The URL requested on every `success` beat. `http://` or `https://`, with a host name. Query strings are kept as written."},
			{Name: "method", Type: "string", Default: "GET", Description: "`GET`, `HEAD`, `POST`, `PUT` or `PATCH`, in any case."},
			{Name: "headers", Type: "map", Secret: true, Description: "Extra request headers, name to value, e.g. `Authorization: \"Bearer ${TOKEN}\"`. Names must be valid HTTP header names; values may not hold line breaks or other control characters. `Host` sets the virtual host the request is sent for. A `User-Agent` here replaces heartbeat's."},
			{Name: "body", Type: "string", Description: "The request body, sent as written. Set `Content-Type` in `headers` if the server needs one. Not allowed with `HEAD`."},
			{Name: "timeout", Type: "duration", Default: httpclient.DefaultTimeout.String(), Description: "Time allowed for one request, from connecting to reading the answer: `\"5s\"`, `\"1m30s\"`, or a number of seconds. `0` means the default. The target's delivery `timeout` (15 s by default, see Targets in docs/configuration.md) bounds the whole attempt as well."},
			{Name: "success_status", Type: "list", Default: "[2xx]", Description: "The status codes that count as delivered: codes (`204`) or classes (`2xx`, `3xx`, ...), e.g. `[200, 204]` or `[2xx, 404]`. A single code or class needs no list: `success_status: 204`. It replaces the default: `[204]` refuses a `200`."},
			{Name: "fail_url", Type: "url", Secret: true, Description: "The URL requested for a `fail` signal (a failed health check). Same method, headers and body as `url`. Without it a `fail` signal sends nothing."},
			{Name: "ca_file", Type: "path", Description: "A PEM file of CA certificates to trust in addition to the system's, for a server whose certificate comes from your own CA."},
			{Name: "insecure_skip_verify", Type: "bool", Default: "false", Description: "Do not verify the server's certificate at all. Prefer `ca_file`."},
			{Name: "follow_redirects", Type: "string", Default: string(httpclient.RedirectsSameHost), Description: "`same_host`: follow a redirect that stays on the same server (same scheme, host name and port, or from `http` to `https` on the same host name with the default ports). `none`: follow no redirect; the redirect is the answer (see below). A redirect to another host or from `https` to `http` is never followed, whatever this says."},
		},
	}
}

type settings struct {
	URL           string            `json:"url"`
	Method        string            `json:"method"`
	Headers       map[string]string `json:"headers"`
	Body          string            `json:"body"`
	Timeout       sdk.Duration      `json:"timeout"`
	SuccessStatus statusSpecs       `json:"success_status"`
	FailURL       string            `json:"fail_url"`
	// The fields of httpclient.TLSSettings, spelled out: errors in an
	// embedded struct would name the Go field path (TLSSettings.ca_file)
	// instead of the setting.
	CAFile             string `json:"ca_file"`
	InsecureSkipVerify bool   `json:"insecure_skip_verify"`
	FollowRedirects    string `json:"follow_redirects"`
}

func (s settings) tls() httpclient.TLSSettings {
	return httpclient.TLSSettings{CAFile: s.CAFile, InsecureSkipVerify: s.InsecureSkipVerify}
}

func (t target) Configure(_ context.Context, req sdk.ConfigureRequest) (sdk.Instance, error) {
	var s settings
	// Decoding problems and the checks below are reported together; a
	// setting that failed to decode is not checked again (Merge).
	var errs sdk.FieldErrors
	errs.Merge(req.Settings.Decode(&s))
	var checks sdk.FieldErrors
	if s.URL == "" {
		checks.Add("url", "is required: the URL to request on every beat")
	} else if err := checkURL(s.URL); err != nil {
		checks.Add("url", "%v", err)
	}
	if s.FailURL != "" {
		if err := checkURL(s.FailURL); err != nil {
			checks.Add("fail_url", "%v", err)
		}
	}
	method := strings.ToUpper(strings.TrimSpace(s.Method))
	if method == "" {
		method = http.MethodGet
	}
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch:
	default:
		checks.Add("method", "%q is not supported; use GET, HEAD, POST, PUT or PATCH", s.Method)
	}
	if method == http.MethodHead && s.Body != "" {
		checks.Add("body", "a HEAD request cannot carry a body; use POST or remove body")
	}
	if s.Timeout < 0 {
		checks.Add("timeout", "must be positive, e.g. 10s")
	}
	for _, name := range sortedNames(s.Headers) {
		if !validHeaderName(name) {
			checks.Add("headers", "%q is not a valid header name", name)
			continue
		}
		if !validHeaderValue(s.Headers[name]) {
			// The value may be a secret: name the header only.
			checks.Add("headers", "the value of %s holds a line break or another control character", name)
		}
	}
	accept, err := parseStatusSet(s.SuccessStatus)
	if err != nil {
		checks.Add("success_status", "%v", err)
	}
	redirects, err := httpclient.ParseRedirects(s.FollowRedirects)
	if err != nil {
		checks.Add("follow_redirects", "%v", err)
	}
	client, err := httpclient.New(s.Timeout.Std(), s.tls(), httpclient.FollowRedirects(redirects), httpclient.WithPool(t.pool))
	if err != nil {
		checks = append(checks, sdk.AsFieldErrors(err)...)
	}
	errs.Merge(checks.Err())
	if len(errs) > 0 {
		return nil, errs
	}
	in := &instance{settings: s, method: method, accept: accept, client: client}
	in.prepare(t.plainHeader)
	if in.success, err = newAddress(method, s.URL); err != nil {
		return nil, sdk.FieldError{Field: "url", Message: err.Error()}
	}
	in.success.limit = httpclient.LimitOf(client, in.success.url)
	if s.FailURL != "" {
		if in.fail, err = newAddress(method, s.FailURL); err != nil {
			return nil, sdk.FieldError{Field: "fail_url", Message: err.Error()}
		}
		in.fail.limit = httpclient.LimitOf(client, in.fail.url)
	}
	return in, nil
}

func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("is not a valid URL: %s", redactParseError(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("must start with http:// or https://")
	}
	if u.Host == "" {
		return fmt.Errorf("has no host name")
	}
	return nil
}

// redactParseError keeps url.Parse's reason without the URL it quotes.
func redactParseError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return "malformed"
}

// statusSpecs is the success_status setting: a list of codes and classes.
// YAML writes codes as numbers (204) and classes as strings ("2xx"); both
// are taken, as is a single value without a list.
type statusSpecs []string

func (s *statusSpecs) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	var items []json.RawMessage
	if len(b) > 0 && b[0] != '[' && b[0] != '{' {
		items = []json.RawMessage{b}
	} else if err := json.Unmarshal(b, &items); err != nil {
		return sdk.FieldError{Message: `must be a list of status codes and classes, e.g. [200, 204] or ["2xx"]`}
	}
	out := make(statusSpecs, 0, len(items))
	for _, item := range items {
		var str string
		if err := json.Unmarshal(item, &str); err == nil {
			out = append(out, str)
			continue
		}
		var num json.Number
		if err := json.Unmarshal(item, &num); err != nil {
			return sdk.FieldError{Message: fmt.Sprintf("%s is neither a status code (100-599) nor a class such as 2xx", item)}
		}
		out = append(out, num.String())
	}
	*s = out
	return nil
}

// statusSet holds the accepted status codes: exact codes and classes.
// Ten thousand instances keep ten thousand sets, so it holds no map: the
// classes as bits, the codes (usually none) in a list.
type statusSet struct {
	classes uint8 // bit n: class nxx
	codes   []int
}

func (s statusSet) has(code int) bool {
	if c := code / 100; c >= 1 && c <= 5 && s.classes&(1<<c) != 0 {
		return true
	}
	return slices.Contains(s.codes, code)
}

func parseStatusSet(specs []string) (statusSet, error) {
	var set statusSet
	if len(specs) == 0 {
		set.classes = 1 << 2
		return set, nil
	}
	for _, spec := range specs {
		spec = strings.ToLower(strings.TrimSpace(spec))
		if len(spec) == 3 && strings.HasSuffix(spec, "xx") && spec[0] >= '1' && spec[0] <= '5' {
			set.classes |= 1 << (spec[0] - '0')
			continue
		}
		code, err := strconv.Atoi(spec)
		if err != nil || code < 100 || code > 599 {
			return statusSet{}, fmt.Errorf("%q is neither a status code (100-599) nor a class such as 2xx", spec)
		}
		if !slices.Contains(set.codes, code) {
			set.codes = append(set.codes, code)
		}
	}
	return set, nil
}

type instance struct {
	settings settings
	method   string
	accept   statusSet
	client   *http.Client

	// What every request shares, worked out once in Configure: beats
	// only copy the headers.
	success, fail address
	// header holds the headers setting and the User-Agent.
	header http.Header
	// host is the Host header setting, "" when unset.
	host string
	// getBody gives a reader of the body setting; nil when it is empty.
	getBody func() (io.ReadCloser, error)
}

// address is a URL setting, parsed once.
type address struct {
	url *url.URL
	// host is what net/http sends as Host for url.
	host string
	// limit bounds the beats under way to url's host.
	limit httpclient.Limit
}

// newAddress parses raw, already checked by checkURL, the way
// http.NewRequest does.
func newAddress(method, raw string) (address, error) {
	req, err := http.NewRequest(method, raw, nil)
	if err != nil {
		// The error would quote the URL, which may hold a secret.
		return address{}, errors.New("cannot build a request with this URL: " + redactParseError(err))
	}
	a := address{url: req.URL, host: req.Host}
	if a.host == a.url.Host {
		// net/http sends the URL's host when Host is empty, and copies the
		// URL on every request when it is not.
		a.host = ""
	}
	return a, nil
}

// prepare builds the headers, Host and body every request sends; plain,
// when not nil, is the headers to share when there is no headers setting.
func (i *instance) prepare(plain http.Header) {
	if len(i.settings.Headers) == 0 && plain != nil {
		i.header = plain
	} else {
		i.header = plainHeader()
	}
	// Sorted, so that of two names differing only in case the same one
	// wins every time.
	for _, name := range sortedNames(i.settings.Headers) {
		value := i.settings.Headers[name]
		if http.CanonicalHeaderKey(name) == "Host" {
			// net/http ignores a Host header; the request's Host is sent.
			i.host = value
			continue
		}
		i.header.Set(name, value)
	}
	if body := i.settings.Body; body != "" {
		i.getBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(body)), nil }
	}
}

// newRequest is a request to a under ctx, as http.NewRequestWithContext
// would build it, without parsing the URL again. The URL is shared
// between requests: net/http does not change it.
func (i *instance) newRequest(ctx context.Context, a address) *http.Request {
	// Built in place and copied once by WithContext, the one way to set
	// the context; httpclient.Do then sends it as it is.
	req := (&http.Request{
		Method:     i.method,
		URL:        a.url,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     i.header, // shared: neither net/http nor httpclient.Do changes it
		Host:       a.host,
	}).WithContext(ctx)
	if i.host != "" {
		req.Host = i.host
	}
	if i.getBody != nil {
		// A body of known length: sent with a Content-Length, not
		// chunked, and sent again on a redirect that keeps the method.
		req.Body, _ = i.getBody()
		req.GetBody = i.getBody
		req.ContentLength = int64(len(i.settings.Body))
	}
	return req
}

func (i *instance) Describe() string {
	d := i.method + " " + sdk.RedactURL(i.settings.URL)
	if i.settings.FailURL != "" {
		d += ", fail: " + sdk.RedactURL(i.settings.FailURL)
	}
	return d
}

// BeatLimit bounds the beats under way to the host a beat goes to (see
// sdk.Limited).
func (i *instance) BeatLimit(b sdk.Beat) (key any, n int) {
	to := i.success
	if b.Signal == sdk.SignalFail {
		to = i.fail
	}
	return to.limit.Key, to.limit.N
}

func (i *instance) Beat(ctx context.Context, b sdk.Beat) (sdk.Result, error) {
	target, to := i.settings.URL, i.success
	switch b.Signal {
	case sdk.SignalSuccess:
	case sdk.SignalFail:
		if i.settings.FailURL == "" {
			// Silence is how a plain URL learns of a failure.
			return sdk.Result{Detail: "not sent: no fail_url, the missing beat signals the failure"}, nil
		}
		target, to = i.settings.FailURL, i.fail
	default:
		return sdk.Result{}, sdk.Errorf(sdk.KindPermanent, "the http target does not deliver %s signals", b.Signal)
	}
	req := i.newRequest(ctx, to)
	resp, err := httpclient.Do(ctx, i.client, req)
	if err != nil {
		return sdk.Result{}, err
	}
	detail := strconv.Itoa(resp.StatusCode) + " " + http.StatusText(resp.StatusCode)
	if i.accept.has(resp.StatusCode) {
		return sdk.Result{Detail: detail}, nil
	}
	err = fmt.Errorf("%s answered %s", sdk.RedactURL(target), detail)
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400 && resp.Header.Get("Location") != "":
		return sdk.Result{}, sdk.Permanent(fmt.Errorf("%w: it redirects to %s, which is not followed (see follow_redirects); set the url to that address, or list %d in success_status if the redirect means delivered", err, location(req, resp), resp.StatusCode))
	case resp.StatusCode == http.StatusTooManyRequests:
		return sdk.Result{}, sdk.RateLimited(fmt.Errorf("%w: the server asks to slow down; use a less frequent schedule", err))
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return sdk.Result{}, sdk.NotFound(fmt.Errorf("%w: check the url", err))
	case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode >= 500:
		return sdk.Result{}, sdk.Temporary(err)
	}
	return sdk.Result{}, sdk.Permanent(err)
}

// location is the redacted target of a redirect answer.
func location(req *http.Request, resp httpclient.Response) string {
	loc, err := req.URL.Parse(resp.Header.Get("Location"))
	if err != nil {
		return "an invalid URL"
	}
	return sdk.RedactURL(loc.String())
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

func sortedNames(m map[string]string) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
