// Package httpclient builds the HTTP client every bundled target uses:
// timeouts, custom CA, proxies from the environment, a fixed User-Agent,
// redirects followed only on the same host and without a Referer, bounded
// response bodies and errors that never show the secret URL.
//
// It also holds what every HTTP target does around the client: the
// timeout, ca_file and insecure_skip_verify settings (SettingInfos,
// ParseTimeout, NewChecked), URL settings that may hold a secret
// (ParseURL, TokenURL, DisplayURL), and answers summed up on one line
// with secrets masked (Summary, RetryAfter, PingAnswers).
package httpclient

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// MaxBodyBytes bounds how much of a response is read: monitoring tools
// answer with a few bytes, and a misbehaving server must not exhaust memory.
const MaxBodyBytes = 64 << 10

// DefaultTimeout applies when a target sets no timeout.
const DefaultTimeout = 10 * time.Second

// TLSSettings are the settings for self-hosted servers with their own CA.
type TLSSettings struct {
	// CAFile is a PEM file of CA certificates trusted in addition to the
	// system's.
	CAFile string `json:"ca_file"`
	// InsecureSkipVerify turns certificate verification off.
	InsecureSkipVerify bool `json:"insecure_skip_verify"`
}

// Redirects says which redirects a client follows. A redirect to another
// host, or from https to http, is never followed: the URL and headers of a
// target carry its secrets.
type Redirects string

const (
	// RedirectsSameHost follows redirects to the same scheme, host and
	// port, and from http to https on the same host (default ports). It
	// is the default.
	RedirectsSameHost Redirects = "same_host"
	// RedirectsNone follows no redirect: the 3xx answer is the answer.
	RedirectsNone Redirects = "none"
)

// maxRedirects is where a chain of redirects stops, as in net/http.
const maxRedirects = 10

// ParseRedirects reads a follow_redirects setting; "" is RedirectsSameHost.
func ParseRedirects(s string) (Redirects, error) {
	switch r := Redirects(strings.ToLower(strings.TrimSpace(s))); r {
	case "":
		return RedirectsSameHost, nil
	case RedirectsSameHost, RedirectsNone:
		return r, nil
	}
	return "", fmt.Errorf("%q is not a redirect policy; use same_host or none (a redirect to another host or to plain http is never followed)", s)
}

// Option changes how New builds a client.
type Option func(*options)

type options struct {
	redirects Redirects
	pool      *Pool
}

// FollowRedirects sets which redirects the client follows
// (RedirectsSameHost when not given).
func FollowRedirects(r Redirects) Option {
	return func(o *options) { o.redirects = r }
}

// New returns a client with the given timeout (DefaultTimeout when 0) and
// TLS settings. Proxies come from HTTPS_PROXY, HTTP_PROXY and NO_PROXY. It
// follows redirects only to the same host (see Redirects) and never sends
// a Referer, which would hold the secret URL. With WithPool its transport
// is shared with the pool's other clients of the same settings; without,
// it has its own.
func New(timeout time.Duration, tlsSettings TLSSettings, opts ...Option) (*http.Client, error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	o := options{redirects: RedirectsSameHost}
	for _, opt := range opts {
		opt(&o)
	}
	transport, err := o.pool.transport(tlsSettings)
	if err != nil {
		return nil, err
	}
	return &http.Client{Timeout: timeout, Transport: transport, CheckRedirect: checkRedirect(o.redirects)}, nil
}

// NewChecked is New for a target's Configure: settingsErr holds the
// problems found in the settings (nil when none), and the error returned
// reports them together with New's own (a ca_file it cannot use), so
// that the user sees every problem at once. The client is nil whenever
// the error is not.
func NewChecked(settingsErr error, timeout time.Duration, tlsSettings TLSSettings, opts ...Option) (*http.Client, error) {
	var errs sdk.FieldErrors
	errs.Merge(settingsErr)
	client, err := New(timeout, tlsSettings, opts...)
	errs.Merge(err)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return client, nil
}

// RedirectError is a redirect the client refused to follow.
type RedirectError struct {
	// From and To are redacted URLs.
	From, To string
	// Why is the reason, ending with the fix.
	Why string
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("%s redirected to %s: %s", e.From, e.To, e.Why)
}

func checkRedirect(policy Redirects) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		// net/http sets a Referer holding the previous URL, path and
		// query included: the secret. Keep only one the target set itself.
		if ref := via[0].Header.Get("Referer"); ref != "" {
			req.Header.Set("Referer", ref)
		} else {
			req.Header.Del("Referer")
		}
		if policy == RedirectsNone {
			return http.ErrUseLastResponse
		}
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		from := via[len(via)-1].URL
		refuse := func(why string) error {
			return &RedirectError{From: sdk.RedactURL(from.String()), To: sdk.RedactURL(req.URL.String()), Why: why}
		}
		switch {
		case from.Scheme == "https" && req.URL.Scheme != "https":
			return refuse("heartbeat does not follow a redirect from https to plain http, which would send the target's secrets unencrypted; fix the server, or set the URL it redirects to if you trust it")
		case !sameHost(from, req.URL):
			return refuse("heartbeat does not follow a redirect to another host, which would receive the target's secrets; set the URL it redirects to if you trust that host")
		}
		return nil
	}
}

// sameHost reports whether a redirect from a to b stays on the same
// server: the same scheme, host name and port, or an upgrade from http to
// https on the same host name with the default ports.
func sameHost(a, b *url.URL) bool {
	if !strings.EqualFold(a.Hostname(), b.Hostname()) {
		return false
	}
	if a.Scheme == b.Scheme {
		return port(a) == port(b)
	}
	return a.Scheme == "http" && b.Scheme == "https" && port(a) == "80" && port(b) == "443"
}

// port is u's port, the scheme's default when the URL has none.
func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch u.Scheme {
	case "http":
		return "80"
	case "https":
		return "443"
	}
	return ""
}

// Response is a response with its (bounded) body read.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

// Do sends req with the heartbeat User-Agent, reads at most MaxBodyBytes of
// the answer and returns errors that name the server but never the full URL.
// Network errors and timeouts are sdk.Temporary.
func Do(ctx context.Context, client *http.Client, req *http.Request) (Response, error) {
	if client.Timeout > 0 {
		// The client's timeout goes on the context instead, when the
		// context does not end sooner: with a Timeout set, http.Client
		// copies every request, and wraps every response's body, to
		// enforce it. The whole answer is read before Do returns, so the
		// deadline covers what Timeout would.
		if deadline, ok := ctx.Deadline(); !ok || time.Until(deadline) > client.Timeout {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, client.Timeout)
			defer cancel()
		}
		untimed := *client
		untimed.Timeout = 0
		client = &untimed
	}
	if req.Context() != ctx {
		req = req.WithContext(ctx)
	}
	if req.Header.Get("User-Agent") == "" {
		// req's Header may be shared by the requests of many beats, which
		// net/http only reads: the User-Agent goes on a copy.
		h := make(http.Header, len(req.Header)+1)
		for k, v := range req.Header {
			h[k] = v
		}
		h.Set("User-Agent", sdk.UserAgent())
		req.Header = h
	}
	resp, err := client.Do(req)
	if err != nil {
		var redirectErr *RedirectError
		if errors.As(err, &redirectErr) {
			// Following it would leak the secrets; asking again would not help.
			return Response{}, sdk.Permanent(redirectErr)
		}
		var certErr *tls.CertificateVerificationError
		if errors.As(err, &certErr) {
			// Retrying cannot fix a certificate the client does not trust.
			return Response{}, sdk.Permanent(fmt.Errorf("%w (set ca_file to the server's CA, or insecure_skip_verify: true)", RedactError(err)))
		}
		return Response{}, sdk.Temporary(RedactError(err))
	}
	defer resp.Body.Close()
	body, err := readBody(resp.Body, resp.ContentLength)
	if err != nil {
		return Response{}, sdk.Temporary(fmt.Errorf("reading the answer of %s: %w", sdk.RedactURL(req.URL.String()), RedactError(err)))
	}
	return Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

// readBody reads r to its end, or to MaxBodyBytes, like io.ReadAll of an
// io.LimitReader but in one allocation when the server said how long the
// body is (length, -1 when unknown): monitoring tools answer with a few
// bytes, and io.ReadAll would start at 512 bytes and grow from there.
// The body is read to its end so that the connection can be reused.
func readBody(r io.Reader, length int64) ([]byte, error) {
	size := 512
	if length >= 0 && length < MaxBodyBytes {
		// One byte more, for the read that finds the end.
		size = int(length) + 1
	}
	buf := make([]byte, 0, size)
	for len(buf) < MaxBodyBytes {
		if len(buf) == cap(buf) {
			// A body longer than announced, or of unknown length.
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):min(cap(buf), MaxBodyBytes)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// RedactError rewrites a *url.Error from net/http, whose message holds the
// full URL, so that it names only the scheme and host; other errors pass
// unchanged.
func RedactError(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	inner := ue.Err
	if ue.Timeout() || errors.Is(inner, context.DeadlineExceeded) {
		return fmt.Errorf("%s %s: no answer before the timeout: %w", ue.Op, sdk.RedactURL(ue.URL), RedactError(inner))
	}
	return fmt.Errorf("%s %s: %w", ue.Op, sdk.RedactURL(ue.URL), RedactError(inner))
}
