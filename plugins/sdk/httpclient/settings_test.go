package httpclient_test

import (
	"bytes"
	"encoding/json"
	"net/url"
	"path/filepath"
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

func TestPathSegments(t *testing.T) {
	for raw, want := range map[string]string{
		"https://h":                       "",
		"https://h/":                      "",
		"https://h/api/v1/heartbeat/tok/": "api,v1,heartbeat,tok",
		"https://h/a%2Fb/c":               "a,b,c", // the decoded path
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(httpclient.PathSegments(u), ","); got != want {
			t.Errorf("%s: got %q, want %q", raw, got, want)
		}
	}
	u, _ := url.Parse("https://h/x?q=1")
	if got := httpclient.WithPath(u, []string{"a", "b"}).String(); got != "https://h/a/b?q=1" {
		t.Errorf("WithPath: %s", got)
	}
	if u.Path != "/x" {
		t.Errorf("WithPath changed its argument: %s", u)
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

func TestNewChecked(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.pem")
	var settings sdk.FieldErrors
	settings.Add("url", "is empty")
	tests := []struct {
		name       string
		settings   error
		caFile     string
		wantFields string
	}{
		{"valid", nil, "", ""},
		{"settings problem", settings.Err(), "", "url"},
		{"unreadable ca_file", nil, missing, "ca_file"},
		{"both", settings.Err(), missing, "url,ca_file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, err := httpclient.NewChecked(tt.settings, 0, httpclient.TLSSettings{CAFile: tt.caFile})
			var fields []string
			if err != nil {
				for _, e := range sdk.AsFieldErrors(err) {
					fields = append(fields, e.Field)
				}
			}
			if got := strings.Join(fields, ","); got != tt.wantFields || (err == nil) != (client != nil) {
				t.Errorf("got client %v, problems %v; want problems for %q", client != nil, err, tt.wantFields)
			}
		})
	}
}
