package httpclient

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// connCounter counts the connections a test server accepted.
type connCounter struct{ opened atomic.Int64 }

func (c *connCounter) track(_ net.Conn, s http.ConnState) {
	if s == http.StateNew {
		c.opened.Add(1)
	}
}

// newCountingServer starts a server answering "OK" that counts its
// connections; tlsOn makes it an HTTPS server with its own CA.
func newCountingServer(t *testing.T, tlsOn bool, h http.Handler) (*httptest.Server, *connCounter) {
	t.Helper()
	if h == nil {
		h = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "OK") })
	}
	var c connCounter
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = c.track
	if tlsOn {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv, &c
}

// writeCA writes srv's certificate, which is its own CA, as a PEM file.
func writeCA(t *testing.T, path string, srv *httptest.Server) string {
	t.Helper()
	block := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(path, block, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// newCert makes a self-signed certificate for 127.0.0.1, other than
// httptest's own.
func newCert(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(2),
		Subject:               pkix.Name{CommonName: "pool test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func mustNew(t *testing.T, timeout time.Duration, s TLSSettings, opts ...Option) *http.Client {
	t.Helper()
	c, err := New(timeout, s, opts...)
	if err != nil {
		t.Fatalf("New(%+v): %v", s, err)
	}
	return c
}

func transportOf(c *http.Client) *http.Transport { return c.Transport.(*http.Transport) }

func get(t *testing.T, c *http.Client, url string) error {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := Do(ctx, c, req)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("answered %d", resp.StatusCode)
	}
	return err
}

func TestPoolSharesTransportPerSetting(t *testing.T) {
	srv, _ := newCountingServer(t, true, nil)
	dir := t.TempDir()
	caA := writeCA(t, filepath.Join(dir, "a.pem"), srv)
	caB := writeCA(t, filepath.Join(dir, "b.pem"), srv) // same contents, another file
	tests := []struct {
		name string
		a, b TLSSettings
		same bool
	}{
		{"no TLS settings", TLSSettings{}, TLSSettings{}, true},
		{"same CA file", TLSSettings{CAFile: caA}, TLSSettings{CAFile: caA}, true},
		{"insecure both", TLSSettings{InsecureSkipVerify: true}, TLSSettings{InsecureSkipVerify: true}, true},
		{"insecure or not", TLSSettings{}, TLSSettings{InsecureSkipVerify: true}, false},
		{"CA file or none", TLSSettings{}, TLSSettings{CAFile: caA}, false},
		{"two CA files", TLSSettings{CAFile: caA}, TLSSettings{CAFile: caB}, false},
		{"CA file, insecure or not", TLSSettings{CAFile: caA}, TLSSettings{CAFile: caA, InsecureSkipVerify: true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPool()
			// The clients' own settings (timeout, redirects) do not split
			// the transport.
			a := mustNew(t, time.Second, tt.a, WithPool(p))
			b := mustNew(t, time.Minute, tt.b, WithPool(p), FollowRedirects(RedirectsNone))
			if same := transportOf(a) == transportOf(b); same != tt.same {
				t.Errorf("same transport = %v, want %v", same, tt.same)
			}
			if a == b || a.Timeout == b.Timeout {
				t.Errorf("clients must stay per instance: %p %v, %p %v", a, a.Timeout, b, b.Timeout)
			}
			// Without a pool every client has its own transport.
			c := mustNew(t, 0, tt.a)
			d := mustNew(t, 0, tt.a)
			if transportOf(c) == transportOf(d) || transportOf(c) == transportOf(a) {
				t.Error("clients built without a pool share a transport")
			}
		})
	}
}

func TestPoolSharesConnections(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", tlsOn), func(t *testing.T) {
			srv, conns := newCountingServer(t, tlsOn, nil)
			var s TLSSettings
			if tlsOn {
				s.CAFile = writeCA(t, filepath.Join(t.TempDir(), "ca.pem"), srv)
			}
			p := NewPool()
			for i := range 5 {
				c := mustNew(t, time.Duration(i+1)*time.Second, s, WithPool(p))
				if err := get(t, c, srv.URL+"/ping"); err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
			}
			if n := conns.opened.Load(); n != 1 {
				t.Errorf("5 clients of one pool opened %d connections, want 1", n)
			}
			for i := range 2 {
				if err := get(t, mustNew(t, 0, s), srv.URL+"/ping"); err != nil {
					t.Fatalf("request %d without a pool: %v", i, err)
				}
			}
			if n := conns.opened.Load(); n != 3 {
				t.Errorf("2 clients without a pool opened %d connections, want 2 more (3)", n)
			}
		})
	}
}

// TestTransportKeepsConnectionsOfABurst checks that the connections of
// beats sent at once to one host stay open for the next burst: net/http's
// default keeps 2.
func TestTransportKeepsConnectionsOfABurst(t *testing.T) {
	const burst = 12
	var arrived sync.WaitGroup
	release := make(chan struct{})
	var round atomic.Pointer[sync.WaitGroup]
	srv, conns := newCountingServer(t, false, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		round.Load().Done()
		// Hold every request until the whole burst has arrived, so that
		// each needs a connection of its own.
		<-release
		_, _ = io.WriteString(w, "OK")
	}))
	c := mustNew(t, time.Minute, TLSSettings{}, WithPool(NewPool()))
	for r := range 2 {
		arrived.Add(burst)
		round.Store(&arrived)
		release = make(chan struct{})
		errs := make(chan error, burst)
		for range burst {
			go func() { errs <- get(t, c, srv.URL) }()
		}
		waitGroupOrFail(t, &arrived, "the burst's requests to arrive")
		close(release)
		for range burst {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: %v", r, err)
			}
		}
	}
	if n := conns.opened.Load(); n != burst {
		t.Errorf("two bursts of %d requests opened %d connections, want %d: idle connections were closed between them", burst, n, burst)
	}
}

// TestTransportBoundsConnectionsPerHost checks that a burst larger than
// maxConnsPerHost opens no more connections than that to one host, and
// that the requests beyond it wait for a connection and are delivered.
func TestTransportBoundsConnectionsPerHost(t *testing.T) {
	const burst = maxConnsPerHost + 20
	var inFlight atomic.Int64
	release := make(chan struct{})
	srv, conns := newCountingServer(t, false, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		inFlight.Add(1)
		<-release
		_, _ = io.WriteString(w, "OK")
	}))
	c := mustNew(t, time.Minute, TLSSettings{}, WithPool(NewPool()))
	errs := make(chan error, burst)
	for range burst {
		go func() { errs <- get(t, c, srv.URL) }()
	}
	deadline := time.Now().Add(60 * time.Second)
	for inFlight.Load() < maxConnsPerHost {
		if time.Now().After(deadline) {
			close(release)
			t.Fatalf("only %d of %d requests reached the server within 60s", inFlight.Load(), maxConnsPerHost)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Give requests beyond the bound the chance to open more connections.
	time.Sleep(200 * time.Millisecond)
	if n := conns.opened.Load(); n > maxConnsPerHost {
		t.Errorf("a burst of %d requests to one host opened %d connections, want at most %d", burst, n, maxConnsPerHost)
	}
	close(release)
	for range burst {
		if err := <-errs; err != nil {
			t.Fatalf("a request waiting for a connection failed: %v", err)
		}
	}
	if n := inFlight.Load(); n != burst {
		t.Errorf("the server saw %d requests, want %d", n, burst)
	}
}

func waitGroupOrFail(t *testing.T, wg *sync.WaitGroup, what string) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func TestPoolNewTransportWhenCAFileChanges(t *testing.T) {
	srvA, _ := newCountingServer(t, true, nil)
	srvB := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "OK") }))
	srvB.TLS = &tls.Config{Certificates: []tls.Certificate{newCert(t)}}
	srvB.StartTLS()
	t.Cleanup(srvB.Close)
	ca := writeCA(t, filepath.Join(t.TempDir(), "ca.pem"), srvA)
	p := NewPool()
	before := mustNew(t, 0, TLSSettings{CAFile: ca}, WithPool(p))
	if err := get(t, before, srvA.URL); err != nil {
		t.Fatalf("trusting A: %v", err)
	}
	// The file is edited, then the target configured again (a reload).
	writeCA(t, ca, srvB)
	after := mustNew(t, 0, TLSSettings{CAFile: ca}, WithPool(p))
	if transportOf(before) == transportOf(after) {
		t.Fatal("the CA file's new contents got the transport built from its old contents")
	}
	if err := get(t, after, srvB.URL); err != nil {
		t.Errorf("after the edit, trusting B: %v", err)
	}
	if err := get(t, after, srvA.URL); err == nil || sdk.KindOf(err) != sdk.KindPermanent || !strings.Contains(err.Error(), "ca_file") {
		t.Errorf("after the edit, A is still trusted: %v", err)
	}
	// The same contents again share the transport.
	again := mustNew(t, 0, TLSSettings{CAFile: ca}, WithPool(p))
	if transportOf(again) != transportOf(after) {
		t.Error("an unchanged CA file got a new transport")
	}
}

func TestPoolBound(t *testing.T) {
	srv, _ := newCountingServer(t, true, nil)
	dir := t.TempDir()
	settings := make([]TLSSettings, 5)
	for i := range settings {
		settings[i] = TLSSettings{CAFile: writeCA(t, filepath.Join(dir, fmt.Sprintf("ca%d.pem", i)), srv)}
	}
	p := newPool(3)
	clients := make([]*http.Client, len(settings))
	for i := range 3 {
		clients[i] = mustNew(t, 0, settings[i], WithPool(p))
	}
	// settings[0] is used again, so settings[1] is the least recently used.
	if c := mustNew(t, 0, settings[0], WithPool(p)); transportOf(c) != transportOf(clients[0]) {
		t.Fatal("settings[0] got a new transport while the pool had room")
	}
	clients[3] = mustNew(t, 0, settings[3], WithPool(p))
	clients[4] = mustNew(t, 0, settings[4], WithPool(p))
	if n := len(p.entries); n != 3 {
		t.Fatalf("the pool holds %d transports, want at most 3", n)
	}
	for i, want := range []bool{true, false, false, true, true} {
		if got := pooled(p, transportOf(clients[i])); got != want {
			t.Errorf("settings[%d]'s transport in the pool = %v, want %v", i, got, want)
		}
	}
	again := mustNew(t, 0, settings[1], WithPool(p))
	if transportOf(again) == transportOf(clients[1]) || !pooled(p, transportOf(again)) {
		t.Error("settings[1], configured again after leaving the pool, did not get a new pooled transport")
	}
	if n := len(p.entries); n != 3 {
		t.Fatalf("the pool holds %d transports, want at most 3", n)
	}
	// A client whose transport left the pool still works.
	if err := get(t, clients[1], srv.URL); err != nil {
		t.Errorf("client of an evicted transport: %v", err)
	}
}

func pooled(p *Pool, t *http.Transport) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range p.entries {
		if e.transport == t {
			return true
		}
	}
	return false
}

func TestPoolConcurrentConfigure(t *testing.T) {
	srv, _ := newCountingServer(t, true, nil)
	dir := t.TempDir()
	settings := []TLSSettings{
		{},
		{InsecureSkipVerify: true},
		{CAFile: writeCA(t, filepath.Join(dir, "a.pem"), srv)},
		{CAFile: writeCA(t, filepath.Join(dir, "b.pem"), srv)},
	}
	p := NewPool()
	const n = 200
	clients := make([]*http.Client, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			clients[i], errs[i] = New(time.Second, settings[i%len(settings)], WithPool(p))
		})
	}
	wg.Wait()
	seen := map[*http.Transport]int{}
	for i, c := range clients {
		if errs[i] != nil {
			t.Fatalf("New %d: %v", i, errs[i])
		}
		want := transportOf(clients[i%len(settings)])
		if transportOf(c) != want {
			t.Errorf("client %d does not share the transport of its settings", i)
		}
		seen[transportOf(c)]++
	}
	if len(seen) != len(settings) || len(p.entries) != len(settings) {
		t.Errorf("%d transports handed out, %d in the pool; want %d each", len(seen), len(p.entries), len(settings))
	}
}

func TestPoolRefusesBadCAFile(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, file, want string
	}{
		{"missing", filepath.Join(dir, "missing.pem"), "cannot read the CA file"},
		{"not PEM", notPEM, "holds no PEM certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPool()
			for _, opts := range [][]Option{{WithPool(p)}, nil} {
				c, err := New(0, TLSSettings{CAFile: tt.file}, opts...)
				var fe sdk.FieldError
				if c != nil || !errors.As(err, &fe) || fe.Field != "ca_file" || !strings.Contains(fe.Message, tt.want) {
					t.Errorf("New = %v, %v; want a ca_file error saying %q", c, err, tt.want)
				}
			}
			if len(p.entries) != 0 {
				t.Errorf("a CA file that cannot be used entered the pool")
			}
		})
	}
}
