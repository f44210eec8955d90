package sdktest

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/httpclient"
)

const testSecret = "Xq3vN7pL2mR9sT4wY6zA1bCd"

// poster is a minimal HTTP target built on httpclient: it GETs
// <url>/beat/<token> and takes any 2xx as success.
type poster struct{}

func (poster) Info() sdk.Info {
	return sdk.Info{Name: "poster", Version: "1", Signals: []sdk.Signal{sdk.SignalSuccess}}
}

func (poster) Configure(_ context.Context, req sdk.ConfigureRequest) (sdk.Instance, error) {
	var s struct {
		URL                string        `json:"url"`
		CAFile             string        `json:"ca_file"`
		Token              string        `json:"token"`
		Timeout            *sdk.Duration `json:"timeout"`
		InsecureSkipVerify bool          `json:"insecure_skip_verify"`
	}
	if err := req.Settings.Decode(&s); err != nil {
		return nil, err
	}
	var errs sdk.FieldErrors
	timeout := httpclient.ParseTimeout(s.Timeout, &errs)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	client, err := httpclient.New(timeout, httpclient.TLSSettings{CAFile: s.CAFile, InsecureSkipVerify: s.InsecureSkipVerify})
	if err != nil {
		return nil, err
	}
	return &posterInstance{url: s.URL + "/beat/" + s.Token, token: s.Token, client: client}, nil
}

type posterInstance struct {
	url, token string
	client     *http.Client
}

func (p *posterInstance) Describe() string { return "poster" }

func (p *posterInstance) Beat(ctx context.Context, _ sdk.Beat) (sdk.Result, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url, nil)
	if err != nil {
		return sdk.Result{}, sdk.Permanent(errors.New("cannot build the request"))
	}
	resp, err := httpclient.Do(ctx, p.client, req)
	if err != nil {
		return sdk.Result{}, err
	}
	said := httpclient.Summary(resp, p.token)
	switch {
	case resp.StatusCode/100 == 2:
		return sdk.Result{Detail: said}, nil
	case resp.StatusCode >= 500:
		return sdk.Result{}, sdk.Temporary(fmt.Errorf("the server answered %s", said))
	}
	return sdk.Result{}, sdk.Permanent(fmt.Errorf("the server answered %s", said))
}

// beatPoster configures a poster for serverURL and sends one beat.
func beatPoster(t *testing.T, settings map[string]any) (sdk.Result, error) {
	t.Helper()
	c := Dial(t, poster{})
	if _, err := Configure(t, c, "p", settings); err != nil {
		t.Fatalf("configure: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return c.Beat(ctx, "p", sdk.Beat{Heartbeat: "h", Signal: sdk.SignalSuccess, Attempt: 1})
}

func TestRunRedirects(t *testing.T) {
	RunRedirects(t, Redirects{
		Secret: testSecret,
		Path:   "/beat/" + testSecret,
		Status: http.StatusAccepted,
		Beat: func(t *testing.T, serverURL string, tls bool) (sdk.Result, error) {
			return beatPoster(t, map[string]any{"url": serverURL, "token": testSecret, "insecure_skip_verify": tls})
		},
	})
}

func TestRunTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(srv.Close)
	delivered := 0
	RunTLS(t, TLS{
		CACertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}),
		Detail:    "204 No Content",
		Beat: func(t *testing.T, extra map[string]any) (sdk.Result, error) {
			settings := map[string]any{"url": srv.URL, "token": testSecret}
			maps.Copy(settings, extra)
			return beatPoster(t, settings)
		},
		Delivered: func(*testing.T) { delivered++ },
	})
	if delivered != 2 {
		t.Errorf("%d beats delivered, want 2 (ca_file and insecure_skip_verify)", delivered)
	}
}

func TestRunHostile(t *testing.T) {
	RunHostile(t, Hostile{
		Secret: testSecret,
		Beat: func(t *testing.T, serverURL, timeout string) (sdk.Result, error) {
			return beatPoster(t, map[string]any{"url": serverURL, "token": testSecret, "timeout": timeout})
		},
	}, []HostileCase{
		{Name: "endless 200 body", Handler: EndlessBody(http.StatusOK, nil), Timeout: "10s", OK: true, Wording: "200 OK"},
		{Name: "endless error page", Handler: EndlessBody(http.StatusBadGateway, []byte("<p>"+testSecret+"</p>")), Timeout: "10s", Kind: sdk.KindTemporary, Wording: "502 Bad Gateway"},
		{Name: "body that trickles", Handler: TrickleBody(http.StatusOK), Timeout: "500ms", Kind: sdk.KindTemporary, Wording: "reading the answer"},
		{Name: "no answer", Handler: NoAnswer(), Timeout: "500ms", Kind: sdk.KindTemporary, Wording: "no answer before the timeout"},
		{Name: "control characters", Handler: Answer(http.StatusBadRequest, "\x1b[2Jbad\r\nrequest "+strings.Repeat("z", 5000)), Timeout: "10s", Kind: sdk.KindPermanent, Wording: "400 Bad Request"},
		{Name: "echoed secret", Handler: Answer(http.StatusForbidden, "no "+testSecret), Timeout: "10s", Kind: sdk.KindPermanent, Wording: "403 no …1bCd"},
	})
}

// RunHostile's byte count is what reached the connection, so an endless
// body shows whether the client stopped reading.
func TestCountingWriterCounts(t *testing.T) {
	h := EndlessBody(http.StatusOK, []byte("abc"))
	rec := &limitedRecorder{header: http.Header{}, limit: 30}
	var n atomic.Int64
	cw := &countingWriter{ResponseWriter: rec, n: &n}
	req, _ := http.NewRequest(http.MethodGet, "http://x/", nil)
	h(cw, req)
	if got := n.Load(); got != 30 {
		t.Errorf("counted %d bytes, want 30", got)
	}
}

// limitedRecorder accepts limit bytes, then fails as a closed connection.
type limitedRecorder struct {
	header http.Header
	limit  int
	got    int
}

func (r *limitedRecorder) Header() http.Header { return r.header }
func (r *limitedRecorder) WriteHeader(int)     {}
func (r *limitedRecorder) Write(b []byte) (int, error) {
	if r.got+len(b) > r.limit {
		return 0, errors.New("connection closed")
	}
	r.got += len(b)
	return len(b), nil
}

func TestInstanceAndBeat(t *testing.T) {
	if _, _, err := Instance(t, poster{}, "p", map[string]any{"timeout": "0s"}); err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Errorf("a zero timeout was accepted: %v", err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(srv.Close)
	c, desc := MustInstance(t, poster{}, "p", map[string]any{"url": srv.URL, "token": testSecret})
	if desc != "poster" {
		t.Errorf("description %q", desc)
	}
	if res, err := Beat(context.Background(), c, "p", "nightly", sdk.Beat{Signal: sdk.SignalSuccess}); err != nil || res.Detail != "204 No Content" {
		t.Errorf("got %q, %v", res.Detail, err)
	}
}

func TestMerge(t *testing.T) {
	type settings map[string]any
	a, b := settings{"x": 1, "y": 2}, settings{"y": 3, "z": 4}
	got := Merge(a, b)
	if len(got) != 3 || got["x"] != 1 || got["y"] != 3 || got["z"] != 4 {
		t.Errorf("got %v", got)
	}
	if a["y"] != 2 || len(a) != 2 {
		t.Errorf("a changed: %v", a)
	}
}

func TestCheckInfo(t *testing.T) {
	type settings struct {
		URL   string `json:"url"`
		Token string `json:"token"`
	}
	CheckInfo(t, documented{}, InfoWant{
		Name:     "documented",
		Signals:  []sdk.Signal{sdk.SignalSuccess, sdk.SignalFail},
		Settings: settings{},
		Secret:   map[string]bool{"token": true, "url": false},
	})
}

// documented is a target whose Info documents its settings.
type documented struct{ poster }

func (documented) Info() sdk.Info {
	return sdk.Info{
		Name: "documented", Version: sdk.Version(), Description: "documents its settings",
		Signals: []sdk.Signal{sdk.SignalSuccess, sdk.SignalFail},
		Settings: []sdk.SettingInfo{
			{Name: "url", Type: "string", Description: "where beats go"},
			{Name: "token", Type: "string", Secret: true, Description: "the secret"},
		},
	}
}

func TestCheckOutcome(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/gone") {
			http.Error(w, "<h1>gone</h1>", http.StatusGone)
			return
		}
		_, _ = w.Write([]byte("OK"))
	}))
	t.Cleanup(srv.Close)
	res, err := beatPoster(t, map[string]any{"url": srv.URL, "token": testSecret})
	CheckOutcome(t, res, err, Success, testSecret, "200 OK")
	res, err = beatPoster(t, map[string]any{"url": srv.URL, "token": "gone"})
	CheckOutcome(t, res, err, sdk.KindPermanent, testSecret, "410 Gone")
}

func TestRunDeadline(t *testing.T) {
	RunDeadline(t, func(t *testing.T, serverURL string) (sdk.Client, string) {
		c, _ := MustInstance(t, poster{}, "p", map[string]any{"url": serverURL, "token": testSecret, "timeout": "1h"})
		return c, "p"
	})
}
