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
	// Any request is a check-in: the core must never send start or log.
	sdktest.CheckInfo(t, target{}, sdktest.InfoWant{
		Name:     "deadmanssnitch",
		Signals:  []sdk.Signal{sdk.SignalSuccess, sdk.SignalFail},
		Settings: rawSettings{},
		Secret:   map[string]bool{"snitch_url": true, "token": true, "base_url": false},
	})
}

func TestConfigureAccepts(t *testing.T) {
	tests := []struct {
		name     string
		settings settingsMap
		url      string
		describe string
	}{
		{"snitch_url", settingsMap{"snitch_url": "https://nosnch.in/" + testToken}, "https://nosnch.in/" + testToken,
			"GET https://nosnch.in/… (timeout 10s)"},
		{"a long token shows its end", settingsMap{"snitch_url": "https://nosnch.in/" + longToken}, "https://nosnch.in/" + longToken,
			"GET https://nosnch.in/…1bCd (timeout 10s)"},
		{"snitch_url with a trailing slash and spaces", settingsMap{"snitch_url": " https://nosnch.in/" + testToken + "/ "}, "https://nosnch.in/" + testToken, ""},
		{"snitch_url through a proxy path", settingsMap{"snitch_url": "http://127.0.0.1:8080/dms/" + testToken, "timeout": 3},
			"http://127.0.0.1:8080/dms/" + testToken, "GET http://127.0.0.1:8080/dms/… (timeout 3s)"},
		{"token alone: nosnch.in", settingsMap{"token": testToken}, "https://nosnch.in/" + testToken, ""},
		{"base_url and token", settingsMap{"base_url": "http://127.0.0.1:8080/", "token": testToken}, "http://127.0.0.1:8080/" + testToken, ""},
		{"a token that needs escaping", settingsMap{"token": "a%b"}, "https://nosnch.in/a%25b", ""},
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
			if got := cfg.url().String(); got != tt.url {
				t.Errorf("check-in URL %s, want %s", got, tt.url)
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
	sn := "https://nosnch.in/" + testToken
	tests := []struct {
		name     string
		settings settingsMap
		fields   []string // every field reported, in order
		wording  string   // in the first error's message
	}{
		{"nothing", settingsMap{}, []string{"snitch_url"}, "set snitch_url"},
		{"empty snitch_url (unset variable)", settingsMap{"snitch_url": ""}, []string{"snitch_url"}, "missing"},
		{"only base_url", settingsMap{"base_url": "https://example.com/"}, []string{"token"}, "missing"},
		{"snitch_url and token", settingsMap{"snitch_url": sn, "token": testToken}, []string{"token"}, "not both"},
		{"snitch_url and base_url", settingsMap{"snitch_url": sn, "base_url": "https://nosnch.in/"}, []string{"base_url"}, "remove base_url"},
		{"snitch_url without token", settingsMap{"snitch_url": "https://nosnch.in/"}, []string{"snitch_url"}, "has no snitch token"},
		{"snitch_url with a message", settingsMap{"snitch_url": sn + "?m=hello"}, []string{"snitch_url"}, "heartbeat adds the message (m) and status (s)"},
		{"snitch_url with fragment", settingsMap{"snitch_url": sn + "#x"}, []string{"snitch_url"}, "fragment"},
		{"snitch_url with a password", settingsMap{"snitch_url": "https://u:p@nosnch.in/" + testToken}, []string{"snitch_url"}, "user name or password"},
		{"snitch_url ftp", settingsMap{"snitch_url": "ftp://nosnch.in/" + testToken}, []string{"snitch_url"}, "not ftp://"},
		{"snitch_url without scheme", settingsMap{"snitch_url": "nosnch.in/" + testToken}, []string{"snitch_url"}, "https://"},
		{"snitch_url without host", settingsMap{"snitch_url": "https:///" + testToken}, []string{"snitch_url"}, "no server name"},
		{"snitch_url not a URL", settingsMap{"snitch_url": "https://nos nch/%zz"}, []string{"snitch_url"}, "not a valid URL"},
		{"snitch_url not a string", settingsMap{"snitch_url": 42}, []string{"snitch_url"}, ""},
		{"token with a slash", settingsMap{"token": "abc/def"}, []string{"token"}, "must not contain /"},
		{"token with a query", settingsMap{"token": testToken + "?m=x"}, []string{"token"}, "must not contain ?, #, & or ="},
		{"token with a space", settingsMap{"token": "abc def"}, []string{"token"}, "spaces"},
		{"token ..", settingsMap{"token": ".."}, []string{"token"}, "not a snitch token"},
		{"base_url empty", settingsMap{"base_url": "", "token": testToken}, []string{"base_url"}, "is empty"},
		{"base_url is a snitch URL", settingsMap{"base_url": sn, "token": testToken}, []string{"base_url"}, "snitch_url"},
		{"base_url with query", settingsMap{"base_url": "https://example.com/?a=b", "token": testToken}, []string{"base_url"}, "query"},
		{"timeout zero", settingsMap{"snitch_url": sn, "timeout": "0s"}, []string{"timeout"}, "more than 0"},
		{"timeout negative", settingsMap{"snitch_url": sn, "timeout": -3}, []string{"timeout"}, "more than 0"},
		{"timeout not a duration", settingsMap{"snitch_url": sn, "timeout": "soon"}, []string{"timeout"}, "not a duration"},
		{"unknown setting", settingsMap{"snitch_url": sn, "message": "x"}, []string{"message"}, "unknown setting"},
		{"wrong type", settingsMap{"snitch_url": sn, "insecure_skip_verify": "yes"}, []string{"insecure_skip_verify"}, "true or false"},
		{"ca_file missing", settingsMap{"snitch_url": sn, "ca_file": filepath.Join(dir, "nope.pem")}, []string{"ca_file"}, "cannot read"},
		{"ca_file not PEM", settingsMap{"snitch_url": sn, "ca_file": notPEM}, []string{"ca_file"}, "no PEM certificate"},
		{"every error at once", settingsMap{"snitch_url": sn + "?s=1", "token": "a/b", "timeout": "0s", "colour": "red"},
			[]string{"colour", "snitch_url", "timeout", "token"}, ""},
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
