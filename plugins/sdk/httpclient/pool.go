package httpclient

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// Transport tuning, the same for pooled and private transports.
const (
	// maxConnsPerHost bounds the connections to one host, open or being
	// opened; a request beyond it waits, within its deadline, for one to
	// come free. Over HTTP/1.1 a burst of N beats to one host would
	// otherwise open N connections at once: 10,000 heartbeats due in the
	// same second overflow a server's listen queue (somaxconn, often
	// 4096), lose beats to dropped connects and hold ~40 KB each. 512
	// still carries over 5,000 beats a second to a host 100 ms away, and
	// HTTP/2 multiplexes beats on far fewer.
	maxConnsPerHost = 512
	// maxIdleConnsPerHost keeps the connections of a burst open for the
	// next one: with net/http's default of 2, all but two would be closed
	// after each burst and opened again (a TCP and often a TLS handshake).
	maxIdleConnsPerHost = maxConnsPerHost
	// maxIdleConns bounds the idle connections of one transport, all hosts
	// together.
	maxIdleConns = 16384
	// idleConnTimeout is net/http's default: a connection idle this long
	// is closed, so a plugin whose beats are far apart holds no connection
	// (and no goroutine or timer for one) between them.
	idleConnTimeout = 90 * time.Second
)

// DefaultPoolSize is how many transports a Pool keeps at most.
const DefaultPoolSize = 64

// proxyFromEnvironment names the proxy setting every transport uses today:
// HTTPS_PROXY, HTTP_PROXY and NO_PROXY, read once per process.
const proxyFromEnvironment = "environment"

// Pool shares HTTP transports, and with them connections, TLS sessions and
// their goroutines, between the target instances of one plugin whose
// settings would build the same transport. Without it every instance opens
// its own connections to a host that many instances reach.
//
// A plugin's Target owns one Pool and passes it to New with WithPool. The
// clients stay per instance: their timeout and redirect policy are the
// instance's own.
//
// A Pool holds at most DefaultPoolSize transports. Instances have no
// end the plugin learns of, so a transport cannot be freed when its last
// instance goes: when a new setting needs room, the transport handed out
// least recently leaves the pool and its idle connections are closed.
// Instances still using it keep working (it opens connections again as
// needed), and an idle transport holds no connection after
// idleConnTimeout anyway.
//
// A Pool is safe for concurrent use.
type Pool struct {
	max int

	mu      sync.Mutex
	entries map[transportKey]*poolEntry
	// clock orders hand-outs, to find the least recently used entry.
	clock uint64
}

// transportKey is everything that makes two transports differ.
type transportKey struct {
	insecureSkipVerify bool
	// caFile is the CA file's path and caSum the SHA-256 of its contents
	// when it was read: a CA file edited before a reload gives a new
	// transport with the new certificates.
	caFile string
	caSum  [sha256.Size]byte
	// proxy is where requests go through: proxyFromEnvironment today. A
	// per-target proxy setting would put its URL here.
	proxy string
}

type poolEntry struct {
	transport *http.Transport
	used      uint64
}

// NewPool returns an empty pool of at most DefaultPoolSize transports.
func NewPool() *Pool { return newPool(DefaultPoolSize) }

func newPool(max int) *Pool {
	return &Pool{max: max, entries: make(map[transportKey]*poolEntry)}
}

// WithPool makes New take its transport from p, shared with the other
// clients of p built with the same TLS and proxy settings. A nil p gives
// the client a transport of its own, as without the option.
func WithPool(p *Pool) Option {
	return func(o *options) { o.pool = p }
}

// transport returns a transport for s: the pool's when p holds one for the
// same settings, else a new one, added to p unless p is nil.
func (p *Pool) transport(s TLSSettings) (*http.Transport, error) {
	var pem []byte
	if s.CAFile != "" {
		var err error
		if pem, err = os.ReadFile(s.CAFile); err != nil {
			return nil, sdk.FieldError{Field: "ca_file", Message: fmt.Sprintf("cannot read the CA file: %v", err)}
		}
	}
	if p == nil {
		return newTransport(s, pem)
	}
	key := transportKey{insecureSkipVerify: s.InsecureSkipVerify, caFile: s.CAFile, proxy: proxyFromEnvironment}
	if s.CAFile != "" {
		key.caSum = sha256.Sum256(pem)
	}
	if t := p.get(key); t != nil {
		return t, nil
	}
	// Built without the lock: reading the system's certificates and the
	// CA file's is slow, and other instances may be configured meanwhile.
	t, err := newTransport(s, pem)
	if err != nil {
		return nil, err
	}
	return p.add(key, t), nil
}

// get returns the pool's transport for key, or nil.
func (p *Pool) get(key transportKey) *http.Transport {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.entries[key]
	if !ok {
		return nil
	}
	p.clock++
	e.used = p.clock
	return e.transport
}

// add puts t in the pool for key and returns it, or returns the transport
// another caller added for key meanwhile (t, unused, holds no connection).
func (p *Pool) add(key transportKey, t *http.Transport) *http.Transport {
	var evicted *http.Transport
	p.mu.Lock()
	p.clock++
	if e, ok := p.entries[key]; ok {
		e.used = p.clock
		p.mu.Unlock()
		return e.transport
	}
	if len(p.entries) >= p.max {
		var oldest transportKey
		var oldestUsed uint64
		first := true
		for k, e := range p.entries {
			if first || e.used < oldestUsed {
				oldest, oldestUsed, first = k, e.used, false
			}
		}
		evicted = p.entries[oldest].transport
		delete(p.entries, oldest)
	}
	p.entries[key] = &poolEntry{transport: t, used: p.clock}
	p.mu.Unlock()
	if evicted != nil {
		evicted.CloseIdleConnections()
	}
	return t
}

// newTransport builds a transport for s; pem is the CA file's contents.
func newTransport(s TLSSettings, pem []byte) (*http.Transport, error) {
	tlsConfig := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: s.InsecureSkipVerify, //nolint:gosec // opt-in for self-hosted servers
		// A connection opened again after idling resumes its TLS session
		// instead of a full handshake.
		ClientSessionCache: tls.NewLRUClientSessionCache(0),
	}
	if s.CAFile != "" {
		roots, err := x509.SystemCertPool()
		if err != nil || roots == nil {
			roots = x509.NewCertPool()
		}
		if !roots.AppendCertsFromPEM(pem) {
			return nil, sdk.FieldError{Field: "ca_file", Message: fmt.Sprintf("%s holds no PEM certificate", s.CAFile)}
		}
		tlsConfig.RootCAs = roots
	}
	// DefaultTransport's dial and handshake timeouts, and HTTP/2 when the
	// server offers it (ForceAttemptHTTP2, kept although TLSClientConfig is
	// set).
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = http.ProxyFromEnvironment
	t.TLSClientConfig = tlsConfig
	t.ForceAttemptHTTP2 = true
	t.MaxIdleConns = maxIdleConns
	t.MaxIdleConnsPerHost = maxIdleConnsPerHost
	t.IdleConnTimeout = idleConnTimeout
	t.MaxConnsPerHost = maxConnsPerHost
	// Monitoring tools answer in a few bytes: asking for gzip would cost
	// a header and a decompressor per request and save nothing.
	t.DisableCompression = true
	return t, nil
}

// Limit is the bound a plugin process keeps on the beats it sends at once
// to one host through one client's transport: the return values of an
// Instance's sdk.Limited BeatLimit. Work it out once, in Configure.
type Limit struct {
	Key any
	N   int
}

// hostKey names the connections a transport keeps to one host.
type hostKey struct {
	transport    *http.Transport
	scheme, host string
}

// LimitOf is the bound of requests to u through client: as many beats as
// the transport opens connections to u's host (maxConnsPerHost). Beyond
// it a request would only wait in the transport, holding a goroutine; the
// SDK holds the beat instead (see sdk.Limited). A client whose transport
// has no such bound gives the zero Limit: no bound.
//
// Over HTTP/2 the transport could carry more requests at once on fewer
// connections; the bound still holds them to maxConnsPerHost a host, which
// carries 5,000 beats a second to a host 100 ms away.
func LimitOf(client *http.Client, u *url.URL) Limit {
	t, ok := client.Transport.(*http.Transport)
	if !ok || t.MaxConnsPerHost <= 0 || u == nil {
		return Limit{}
	}
	return Limit{
		Key: hostKey{transport: t, scheme: strings.ToLower(u.Scheme), host: net.JoinHostPort(strings.ToLower(u.Hostname()), port(u))},
		N:   t.MaxConnsPerHost,
	}
}

// BeatLimit makes an instance whose beats all go to one host, and that
// embeds its Limit, an sdk.Limited.
func (l Limit) BeatLimit(sdk.Beat) (key any, n int) { return l.Key, l.N }
