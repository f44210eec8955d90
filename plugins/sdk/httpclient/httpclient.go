// Package httpclient builds the HTTP client every bundled target uses:
// timeouts, custom CA, proxies from the environment, a fixed User-Agent,
// bounded response bodies and errors that never show the secret URL.
package httpclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
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

// New returns a client with the given timeout (DefaultTimeout when 0) and
// TLS settings. Proxies come from HTTPS_PROXY, HTTP_PROXY and NO_PROXY.
func New(timeout time.Duration, tlsSettings TLSSettings) (*http.Client, error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = http.ProxyFromEnvironment
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: tlsSettings.InsecureSkipVerify} //nolint:gosec // opt-in for self-hosted servers
	if tlsSettings.CAFile != "" {
		pem, err := os.ReadFile(tlsSettings.CAFile)
		if err != nil {
			return nil, sdk.FieldError{Field: "ca_file", Message: fmt.Sprintf("cannot read the CA file: %v", err)}
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, sdk.FieldError{Field: "ca_file", Message: fmt.Sprintf("%s holds no PEM certificate", tlsSettings.CAFile)}
		}
		tlsConfig.RootCAs = pool
	}
	transport.TLSClientConfig = tlsConfig
	return &http.Client{Timeout: timeout, Transport: transport}, nil
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
	req = req.WithContext(ctx)
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", sdk.UserAgent())
	}
	resp, err := client.Do(req)
	if err != nil {
		var certErr *tls.CertificateVerificationError
		if errors.As(err, &certErr) {
			// Retrying cannot fix a certificate the client does not trust.
			return Response{}, sdk.Permanent(fmt.Errorf("%w (set ca_file to the server's CA, or insecure_skip_verify: true)", RedactError(err)))
		}
		return Response{}, sdk.Temporary(RedactError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes))
	if err != nil {
		return Response{}, sdk.Temporary(fmt.Errorf("reading the answer of %s: %w", sdk.RedactURL(req.URL.String()), RedactError(err)))
	}
	return Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: body}, nil
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
