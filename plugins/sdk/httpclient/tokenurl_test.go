package httpclient_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/httpclient"
)

// pingURL reads https://host/ping/<token> and base_url https://host/ping.
var pingURL = httpclient.TokenURL{
	URLSetting: "ping_url",
	Thing:      "check",
	Service:    "Example",
	Split: func(raw string) (*url.URL, string, string) {
		u, err := httpclient.ParseURL(raw, httpclient.URLRules{Query: "no query"})
		if err != nil {
			return nil, "", err.Error()
		}
		segs := httpclient.PathSegments(u)
		if len(segs) < 2 {
			return nil, "", "has no token"
		}
		return httpclient.WithPath(u, segs[:len(segs)-1]), segs[len(segs)-1], ""
	},
	Base: func(raw *string) (*url.URL, string) {
		s := "https://example.com/ping"
		if raw != nil {
			s = *raw
		}
		u, err := httpclient.ParseURL(s, httpclient.URLRules{})
		if err != nil {
			return nil, err.Error()
		}
		return u, ""
	},
	CheckToken: func(token string) string {
		if strings.Contains(token, "/") {
			return "must not contain /"
		}
		return ""
	},
}

func TestTokenURL(t *testing.T) {
	str := func(s string) *string { return &s }
	tests := []struct {
		name      string
		rawURL    string
		baseURL   *string
		token     string
		decoded   sdk.FieldErrors
		want      string // base + "|" + token + "|" + field, or the problems' fields
		wantWords string
	}{
		{"whole URL", "https://h/ping/" + secret, nil, "", nil, "https://h/ping|" + secret + "|ping_url", ""},
		{"token and default base", "", nil, secret, nil, "https://example.com/ping|" + secret + "|token", ""},
		{"token and base_url", "", str("http://proxy/p"), secret, nil, "http://proxy/p|" + secret + "|token", ""},
		{"both forms", "https://h/ping/" + secret, str("https://h/"), secret, nil, "!base_url,token", "already holds"},
		{"bad URL", "ftp://h/ping/" + secret, nil, "", nil, "!ping_url", "not ftp://"},
		{"URL without token", "https://h/", nil, "", nil, "!ping_url", "has no token"},
		{"bad token", "", nil, "a/b", nil, "!token", "must not contain /"},
		{"bad base_url", "", str("h"), secret, nil, "!base_url", "must start with https://"},
		{"only base_url", "", str("https://h/"), "", nil, "!token", "missing: base_url needs the check's token"},
		{"nothing", "", nil, "", nil, "!ping_url", "missing: set ping_url to the check's URL as Example shows it"},
		{"undecodable", "", nil, "", sdk.FieldErrors{{Field: "ping_url", Message: "x"}}, "!", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var checks sdk.FieldErrors
			base, tok, field := pingURL.Parse(tt.rawURL, tt.baseURL, tt.token, tt.decoded, &checks)
			if want, isErr := strings.CutPrefix(tt.want, "!"); isErr {
				var fields []string
				for _, c := range checks {
					fields = append(fields, c.Field)
				}
				if strings.Join(fields, ",") != want || !strings.Contains(checks.Error(), tt.wantWords) {
					t.Errorf("got %v, problems %v; want problems for %s with %q", base, checks, want, tt.wantWords)
				}
				if strings.Contains(checks.Error(), secret) {
					t.Errorf("a problem quotes the token: %v", checks)
				}
				return
			}
			if len(checks) > 0 || base == nil || base.String()+"|"+tok+"|"+field != tt.want {
				t.Errorf("got %v|%s|%s, problems %v; want %s", base, tok, field, checks, tt.want)
			}
		})
	}
}
