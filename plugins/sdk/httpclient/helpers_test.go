package httpclient_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/httpclient"
)

func TestParseURL(t *testing.T) {
	rules := httpclient.URLRules{UserInfo: "no user", Query: "no query", Fragment: "no fragment"}
	tests := []struct {
		name, raw string
		rules     httpclient.URLRules
		want      string // the URL, or the error when it starts with "!"
	}{
		{"https", "https://example.com/p/" + secret, rules, "https://example.com/p/" + secret},
		{"upper-case scheme", "HTTP://example.com:8080", rules, "http://example.com:8080"},
		{"no scheme", "example.com/" + secret, rules, "!must start with https:// (or http://)"},
		{"other scheme", "ftp://example.com/" + secret, rules, "!must start with https:// (or http://), not ftp://"},
		{"long scheme", strings.Repeat("x", 100) + "://example.com/" + secret, rules, "!not " + strings.Repeat("x", 20) + "…://"},
		{"no host", "https:///" + secret, rules, "!has no server name"},
		{"bad syntax", "https://exa mple.com/" + secret, rules, "!is not a valid URL: "},
		{"control character", "https://example.com/" + secret + "\x7f", rules, "!is not a valid URL: "},
		{"user info", "https://u:" + secret + "@example.com/", rules, "!no user"},
		{"query", "https://example.com/?k=" + secret, rules, "!no query"},
		{"empty query", "https://example.com/?", rules, "!no query"},
		{"fragment", "https://example.com/#" + secret, rules, "!no fragment"},
		{"all allowed", "https://u:" + secret + "@example.com/?k=v#f", httpclient.URLRules{}, "https://u:" + secret + "@example.com/?k=v#f"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := httpclient.ParseURL(tt.raw, tt.rules)
			if want, isErr := strings.CutPrefix(tt.want, "!"); isErr {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("got %v, %v; want an error with %q", u, err, want)
				}
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error quotes the secret: %v", err)
				}
				return
			}
			if err != nil || u.String() != tt.want {
				t.Fatalf("got %v, %v; want %s", u, err, tt.want)
			}
		})
	}
}

func TestDisplayURL(t *testing.T) {
	u, err := httpclient.ParseURL("https://user:pw@example.com/kuma/api/?q=1#f", httpclient.URLRules{})
	if err != nil {
		t.Fatal(err)
	}
	got := httpclient.DisplayURL(u, secret)
	if want := "https://example.com/kuma/api/…4f5a"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := httpclient.DisplayURL(u, "short"); strings.Contains(got, "short") {
		t.Errorf("a short secret shows: %q", got)
	}
}

func TestSettingInfos(t *testing.T) {
	rows := httpclient.SettingInfos(httpclient.SettingsDoc{Whose: "Cronitor's", CAFor: "a proxy"})
	var names []string
	for _, r := range rows {
		names = append(names, r.Name)
		if r.Description == "" || r.Secret {
			t.Errorf("row %+v", r)
		}
	}
	if got := strings.Join(names, ","); got != "timeout,ca_file,insecure_skip_verify" {
		t.Errorf("rows %s", got)
	}
	for _, want := range []string{"wait for Cronitor's answer", "for a proxy with", "verify the server's certificate"} {
		if !strings.Contains(rows[0].Description+rows[1].Description+rows[2].Description, want) {
			t.Errorf("no %q in %+v", want, rows)
		}
	}
	if rows[0].Default != httpclient.DefaultTimeout.String() {
		t.Errorf("timeout default %q", rows[0].Default)
	}
}

func TestParseTimeout(t *testing.T) {
	dur := func(d time.Duration) *sdk.Duration { v := sdk.Duration(d); return &v }
	tests := []struct {
		name    string
		in      *sdk.Duration
		want    time.Duration
		wantErr bool
	}{
		{"unset", nil, httpclient.DefaultTimeout, false},
		{"set", dur(5 * time.Second), 5 * time.Second, false},
		{"zero", dur(0), httpclient.DefaultTimeout, true},
		{"negative", dur(-time.Second), httpclient.DefaultTimeout, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var errs sdk.FieldErrors
			got := httpclient.ParseTimeout(tt.in, &errs)
			if got != tt.want || errs.Has("timeout") != tt.wantErr {
				t.Errorf("got %s, %v; want %s, error %v", got, errs, tt.want, tt.wantErr)
			}
		})
	}
}

func TestWarnIgnoredCA(t *testing.T) {
	for _, tt := range []struct {
		s    httpclient.TLSSettings
		warn bool
	}{
		{httpclient.TLSSettings{CAFile: "ca.pem", InsecureSkipVerify: true}, true},
		{httpclient.TLSSettings{CAFile: "ca.pem"}, false},
		{httpclient.TLSSettings{InsecureSkipVerify: true}, false},
	} {
		var out bytes.Buffer
		tt.s.WarnIgnoredCA(hclog.New(&hclog.LoggerOptions{Output: &out, Level: hclog.Warn}))
		if got := strings.Contains(out.String(), "ca_file is not used"); got != tt.warn {
			t.Errorf("%+v: warned %v, want %v (%q)", tt.s, got, tt.warn, out.String())
		}
	}
	httpclient.TLSSettings{CAFile: "x", InsecureSkipVerify: true}.WarnIgnoredCA(nil) // no logger: no panic
}

func TestSummary(t *testing.T) {
	tests := []struct {
		name string
		code int
		body string
		want string
	}{
		{"short text", 202, "Got it, thanks!\n", "202 Got it, thanks!"},
		{"empty", 404, "", "404 Not Found"},
		{"page", 502, "<html>bad gateway</html>", "502 Bad Gateway"},
		{"document", 400, `{"error":"x"}`, "400 Bad Request"},
		{"long", 200, strings.Repeat("a", 81), "200 OK"},
		{"two lines", 200, "OK\nmore", "200 OK"},
		{"control character", 400, "\x1b[2Jbad", "400 Bad Request"},
		{"invalid UTF-8", 400, "bad \xff", "400 Bad Request"},
		{"unknown status, no text", 599, "", "599"},
		{"echoed secret", 403, "denied /p/" + secret, "403 denied /p/…4f5a"},
		{"echoed escaped secret", 403, "denied /p/a%20b" + secret, "403 denied /p/…4f5a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := httpclient.Summary(httpclient.Response{StatusCode: tt.code, Body: []byte(tt.body)}, "", "a b"+secret, secret)
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		header string
		want   time.Duration
		ok     bool
	}{
		{"", 0, false},
		{"30", 30 * time.Second, true},
		{" 0 ", 0, true},
		{"-1", 0, false},
		{"604801", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, false},
		{now.Add(8 * 24 * time.Hour).Format(http.TimeFormat), 0, false},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.header != "" {
			h.Set("Retry-After", tt.header)
		}
		got, ok := httpclient.RetryAfter(h, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%q: got %s, %v; want %s, %v", tt.header, got, ok, tt.want, tt.ok)
		}
	}
}

// The rows document what the target decodes: the JSON names match.
func TestSettingInfosNames(t *testing.T) {
	raw, _ := json.Marshal(map[string]any{"timeout": "5s", "ca_file": "", "insecure_skip_verify": false})
	var s struct {
		Timeout            *sdk.Duration `json:"timeout"`
		CAFile             string        `json:"ca_file"`
		InsecureSkipVerify bool          `json:"insecure_skip_verify"`
	}
	if err := sdk.Settings(raw).Decode(&s); err != nil {
		t.Fatal(err)
	}
	for _, r := range httpclient.SettingInfos(httpclient.SettingsDoc{Whose: "the server's"}) {
		if !strings.Contains(string(raw), `"`+r.Name+`"`) {
			t.Errorf("%s is not a setting name", r.Name)
		}
	}
}
