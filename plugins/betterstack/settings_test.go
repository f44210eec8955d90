package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/sdktest"
)

func TestInfo(t *testing.T) {
	// Better Stack has no start and no separate log: the core must never
	// send them, since any request counts as a heartbeat.
	sdktest.CheckInfo(t, target{}, sdktest.InfoWant{
		Name:     "betterstack",
		Signals:  []sdk.Signal{sdk.SignalSuccess, sdk.SignalFail},
		Settings: rawSettings{},
		Secret:   map[string]bool{"heartbeat_url": true, "token": true, "base_url": false},
	})
}

func TestConfigureAccepts(t *testing.T) {
	hosted := "https://uptime.betterstack.com/api/v1/heartbeat/"
	tests := []struct {
		name     string
		settings settingsMap
		url      string // the success URL
		fail     string // the failure URL
		describe string
	}{
		{"heartbeat_url", settingsMap{"heartbeat_url": hosted + testToken}, hosted + testToken, hosted + testToken + "/fail",
			"GET/POST https://uptime.betterstack.com/api/v1/heartbeat/…1bCd (timeout 10s)"},
		{"heartbeat_url with a trailing slash and spaces", settingsMap{"heartbeat_url": " " + hosted + testToken + "/ "}, hosted + testToken, hosted + testToken + "/fail", ""},
		{"heartbeat_url of the older domain", settingsMap{"heartbeat_url": "https://betteruptime.com/api/v1/heartbeat/" + testToken},
			"https://betteruptime.com/api/v1/heartbeat/" + testToken, "", ""},
		{"token alone: the hosted service", settingsMap{"token": testToken}, hosted + testToken, "", ""},
		{"base_url and token", settingsMap{"base_url": "http://127.0.0.1:8080/bs", "token": testToken, "timeout": "3s"},
			"http://127.0.0.1:8080/bs/" + testToken, "http://127.0.0.1:8080/bs/" + testToken + "/fail",
			"GET/POST http://127.0.0.1:8080/bs/…1bCd (timeout 3s)"},
		{"a short token is hidden whole", settingsMap{"token": "abc123"}, hosted + "abc123", "",
			"GET/POST https://uptime.betterstack.com/api/v1/heartbeat/… (timeout 10s)"},
		{"a token that needs escaping", settingsMap{"token": "a%b"}, hosted + "a%25b", "", ""},
		{"HTTPS in upper case", settingsMap{"heartbeat_url": "HTTPS://uptime.betterstack.com/api/v1/heartbeat/" + testToken}, hosted + testToken, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, desc, err := configure(t, tt.settings)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := parseSettings(mustJSON(t, tt.settings), nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.url("").String(); got != tt.url {
				t.Errorf("success URL %s, want %s", got, tt.url)
			}
			if got := cfg.url("fail").String(); tt.fail != "" && got != tt.fail {
				t.Errorf("failure URL %s, want %s", got, tt.fail)
			}
			if tt.describe != "" && desc != tt.describe {
				t.Errorf("describe %q, want %q", desc, tt.describe)
			}
		})
	}
}

func TestConfigureRejects(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	hb := "https://uptime.betterstack.com/api/v1/heartbeat/" + testToken
	tests := []struct {
		name     string
		settings settingsMap
		fields   []string // every field reported, in order
		wording  string   // in the first error's message
	}{
		{"nothing", settingsMap{}, []string{"heartbeat_url"}, "set heartbeat_url"},
		{"empty heartbeat_url (unset variable)", settingsMap{"heartbeat_url": ""}, []string{"heartbeat_url"}, "missing"},
		{"only base_url", settingsMap{"base_url": "https://example.com/hb/"}, []string{"token"}, "missing"},
		{"heartbeat_url and token", settingsMap{"heartbeat_url": hb, "token": testToken}, []string{"token"}, "not both"},
		{"heartbeat_url and base_url", settingsMap{"heartbeat_url": hb, "base_url": "https://example.com/"}, []string{"base_url"}, "remove base_url"},
		{"heartbeat_url without token", settingsMap{"heartbeat_url": "https://uptime.betterstack.com/api/v1/heartbeat/"}, []string{"heartbeat_url"}, "has no token"},
		{"heartbeat_url with /fail", settingsMap{"heartbeat_url": hb + "/fail"}, []string{"heartbeat_url"}, "ends with /fail"},
		{"heartbeat_url with an exit code", settingsMap{"heartbeat_url": hb + "/1"}, []string{"heartbeat_url"}, "ends with /1"},
		{"heartbeat_url elsewhere", settingsMap{"heartbeat_url": "https://example.com/" + testToken}, []string{"heartbeat_url"}, "/api/v1/heartbeat/<token>"},
		{"heartbeat_url with query", settingsMap{"heartbeat_url": hb + "?x=1"}, []string{"heartbeat_url"}, "query"},
		{"heartbeat_url with fragment", settingsMap{"heartbeat_url": hb + "#x"}, []string{"heartbeat_url"}, "fragment"},
		{"heartbeat_url with a password", settingsMap{"heartbeat_url": "https://u:p@uptime.betterstack.com/api/v1/heartbeat/" + testToken}, []string{"heartbeat_url"}, "user name or password"},
		{"heartbeat_url ftp", settingsMap{"heartbeat_url": "ftp://uptime.betterstack.com/api/v1/heartbeat/" + testToken}, []string{"heartbeat_url"}, "not ftp://"},
		{"heartbeat_url without scheme", settingsMap{"heartbeat_url": "uptime.betterstack.com/api/v1/heartbeat/" + testToken}, []string{"heartbeat_url"}, "https://"},
		{"heartbeat_url without host", settingsMap{"heartbeat_url": "https:///api/v1/heartbeat/" + testToken}, []string{"heartbeat_url"}, "no server name"},
		{"heartbeat_url not a URL", settingsMap{"heartbeat_url": "https://up time/%zz"}, []string{"heartbeat_url"}, "not a valid URL"},
		{"heartbeat_url not a string", settingsMap{"heartbeat_url": 42}, []string{"heartbeat_url"}, ""},
		{"token with a slash", settingsMap{"token": "abc/def"}, []string{"token"}, "must not contain /"},
		{"token with a question mark", settingsMap{"token": "abc?def"}, []string{"token"}, "must not contain ?"},
		{"token with a space", settingsMap{"token": "abc def"}, []string{"token"}, "spaces"},
		{"token ..", settingsMap{"token": ".."}, []string{"token"}, "not a heartbeat token"},
		{"base_url empty", settingsMap{"base_url": "", "token": testToken}, []string{"base_url"}, "is empty"},
		{"base_url with the token", settingsMap{"base_url": hb, "token": testToken}, []string{"base_url"}, "heartbeat_url"},
		{"base_url with query", settingsMap{"base_url": "https://example.com/?a=b", "token": testToken}, []string{"base_url"}, "query"},
		{"timeout zero", settingsMap{"heartbeat_url": hb, "timeout": "0s"}, []string{"timeout"}, "more than 0"},
		{"timeout negative", settingsMap{"heartbeat_url": hb, "timeout": -3}, []string{"timeout"}, "more than 0"},
		{"timeout not a duration", settingsMap{"heartbeat_url": hb, "timeout": "soon"}, []string{"timeout"}, "not a duration"},
		{"unknown setting", settingsMap{"heartbeat_url": hb, "url": "x"}, []string{"url"}, "unknown setting"},
		{"wrong type", settingsMap{"heartbeat_url": hb, "insecure_skip_verify": "yes"}, []string{"insecure_skip_verify"}, "true or false"},
		{"ca_file missing", settingsMap{"heartbeat_url": hb, "ca_file": filepath.Join(dir, "nope.pem")}, []string{"ca_file"}, "cannot read"},
		{"ca_file not PEM", settingsMap{"heartbeat_url": hb, "ca_file": notPEM}, []string{"ca_file"}, "no PEM certificate"},
		{"every error at once", settingsMap{"heartbeat_url": hb + "/fail", "token": "a/b", "timeout": "0s", "colour": "red"},
			[]string{"colour", "heartbeat_url", "timeout", "token"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := configure(t, tt.settings)
			if err == nil {
				t.Fatal("accepted")
			}
			errs := sdk.AsFieldErrors(err)
			var fields []string
			for _, fe := range errs {
				fields = append(fields, fe.Field)
			}
			want := tt.fields
			if tt.wording == "" {
				// Order is not part of the contract when many fail.
				slices.Sort(fields)
				want = slices.Sorted(slices.Values(want))
			}
			if !slices.Equal(fields, want) {
				t.Errorf("errors for %v, want %v: %v", fields, want, err)
			}
			if tt.wording != "" && !strings.Contains(errs[0].Message, tt.wording) {
				t.Errorf("error %q lacks %q", errs[0].Message, tt.wording)
			}
			if strings.Contains(err.Error(), testToken) || strings.Contains(err.Error(), "abc/def") {
				t.Errorf("error shows the token: %v", err)
			}
		})
	}
}
