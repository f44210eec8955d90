package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/sdktest"
)

func TestInfo(t *testing.T) {
	sdktest.CheckInfo(t, target{}, sdktest.InfoWant{
		Name:     "cronitor",
		Signals:  []sdk.Signal{sdk.SignalSuccess, sdk.SignalStart, sdk.SignalFail},
		Settings: rawSettings{},
		Secret:   map[string]bool{"api_key": true, "ping_url": true, "monitor": false, "base_url": false, "environment": false},
	})
}

// parsed is what a valid configuration turns into.
type parsed struct {
	base, key, monitor string
	heartbeat          bool
	success            string
	env, host          string
}

func TestConfigureAccepts(t *testing.T) {
	hostname, _ := os.Hostname()
	tests := []struct {
		name     string
		settings settingsMap
		want     parsed
		describe string // in Describe
	}{
		{"api_key and monitor", settingsMap{"api_key": testKey, "monitor": "nightly-backup"},
			parsed{"https://cronitor.link", testKey, "nightly-backup", false, "complete", "", cutBytes(hostname, 50)},
			"GET https://cronitor.link/p/…e1f0/nightly-backup (job monitor"},
		{"ping_url", settingsMap{"ping_url": "https://cronitor.link/p/" + testKey + "/nightly-backup"},
			parsed{"https://cronitor.link", testKey, "nightly-backup", false, "complete", "", cutBytes(hostname, 50)},
			"GET https://cronitor.link/p/…e1f0/nightly-backup"},
		{"ping_url with a trailing slash and a prefix", settingsMap{"ping_url": "https://proxy.example.com/cronitor/p/" + testKey + "/nightly/"},
			parsed{"https://proxy.example.com/cronitor", testKey, "nightly", false, "complete", "", cutBytes(hostname, 50)},
			"GET https://proxy.example.com/cronitor/p/…e1f0/nightly"},
		{"base_url with a prefix, environment and host", settingsMap{"base_url": "https://proxy.example.com/cronitor/", "api_key": " " + testKey + " ", "monitor": "db backup", "environment": "production", "host": "web-1"},
			parsed{"https://proxy.example.com/cronitor", testKey, "db backup", false, "complete", "production", "web-1"},
			"GET https://proxy.example.com/cronitor/p/…e1f0/db%20backup (job monitor, env production, host web-1"},
		{"host empty: none sent", settingsMap{"api_key": testKey, "monitor": "m", "host": ""},
			parsed{"https://cronitor.link", testKey, "m", false, "complete", "", ""}, "(job monitor, timeout 10s)"},
		{"heartbeat monitor", settingsMap{"api_key": testKey, "monitor": "m", "monitor_type": "heartbeat", "host": ""},
			parsed{"https://cronitor.link", testKey, "m", true, "", "", ""}, "(heartbeat monitor, timeout 10s)"},
		{"heartbeat monitor, tick", settingsMap{"api_key": testKey, "monitor": "m", "monitor_type": "Heartbeat", "success_state": "tick", "host": ""},
			parsed{"https://cronitor.link", testKey, "m", true, "tick", "", ""}, "(heartbeat monitor, success state=tick"},
		{"heartbeat monitor, ok", settingsMap{"api_key": testKey, "monitor": "m", "monitor_type": "heartbeat", "success_state": "ok", "timeout": "3s", "host": ""},
			parsed{"https://cronitor.link", testKey, "m", true, "ok", "", ""}, "(heartbeat monitor, success state=ok, timeout 3s)"},
		{"heartbeat monitor, none", settingsMap{"api_key": testKey, "monitor": "m", "monitor_type": "heartbeat", "success_state": "none", "host": ""},
			parsed{"https://cronitor.link", testKey, "m", true, "", "", ""}, "(heartbeat monitor, timeout"},
		{"job spelled out", settingsMap{"api_key": testKey, "monitor": "m", "monitor_type": "job", "host": ""},
			parsed{"https://cronitor.link", testKey, "m", false, "complete", "", ""}, "(job monitor"},
		{"plain http on loopback", settingsMap{"base_url": "http://127.0.0.1:8080", "api_key": testKey, "monitor": "m", "host": ""},
			parsed{"http://127.0.0.1:8080", testKey, "m", false, "complete", "", ""}, "GET http://127.0.0.1:8080/p/…e1f0/m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseSettings(mustJSON(t, tt.settings), hclog.NewNullLogger())
			if err != nil {
				t.Fatal(err)
			}
			got := parsed{cfg.base.String(), cfg.apiKey, cfg.monitor, cfg.heartbeatMonitor, cfg.successState, cfg.env, cfg.host}
			if got != tt.want {
				t.Errorf("parsed %+v\nwant   %+v", got, tt.want)
			}
			_, desc := mustConfigure(t, tt.settings)
			if !strings.Contains(desc, tt.describe) {
				t.Errorf("Describe() = %q, want it to contain %q", desc, tt.describe)
			}
			if strings.Contains(desc, testKey) {
				t.Errorf("Describe() shows the key: %q", desc)
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
	ping := "https://cronitor.link/p/" + testKey + "/nightly"
	tests := []struct {
		name     string
		settings settingsMap
		fields   []string // every field reported, sorted
		wording  string   // in the errors
	}{
		{"nothing", settingsMap{}, []string{"api_key", "monitor"}, "Telemetry key"},
		{"only base_url", settingsMap{"base_url": "https://proxy.example.com"}, []string{"api_key", "monitor"}, "missing"},
		{"api_key without monitor", settingsMap{"api_key": testKey}, []string{"monitor"}, "key of the Cronitor monitor"},
		{"monitor without api_key", settingsMap{"monitor": "m"}, []string{"api_key"}, "api_key_file"},
		{"ping_url and api_key", settingsMap{"ping_url": ping, "api_key": testKey}, []string{"api_key"}, "not both"},
		{"ping_url and monitor", settingsMap{"ping_url": ping, "monitor": "m"}, []string{"monitor"}, "not both"},
		{"ping_url and base_url", settingsMap{"ping_url": ping, "base_url": "https://cronitor.link"}, []string{"base_url"}, "remove base_url"},
		{"ping_url without /p/", settingsMap{"ping_url": "https://cronitor.link/" + testKey}, []string{"ping_url"}, "must be a Cronitor telemetry URL"},
		{"ping_url without monitor", settingsMap{"ping_url": "https://cronitor.link/p/" + testKey}, []string{"ping_url"}, "no monitor key"},
		{"ping_url in the /ping/ form", settingsMap{"ping_url": "https://cronitor.link/ping/" + testKey + "/m"}, []string{"ping_url"}, "replace /ping/ with /p/"},
		{"ping_url of the form without key", settingsMap{"ping_url": "https://cronitor.link/d3x0c1/complete"}, []string{"ping_url"}, "without API key"},
		{"ping_url with a query", settingsMap{"ping_url": ping + "?state=complete"}, []string{"ping_url"}, "must not have a query"},
		{"ping_url with a fragment", settingsMap{"ping_url": ping + "#x"}, []string{"ping_url"}, "fragment"},
		{"ping_url not http", settingsMap{"ping_url": "ftp://cronitor.link/p/" + testKey + "/m"}, []string{"ping_url"}, "not ftp://"},
		{"ping_url without scheme", settingsMap{"ping_url": "cronitor.link/p/" + testKey + "/m"}, []string{"ping_url"}, "must start with https://"},
		{"ping_url with user info", settingsMap{"ping_url": "https://user:pw@cronitor.link/p/" + testKey + "/m"}, []string{"ping_url"}, "user name or password"},
		{"ping_url with a bad escape", settingsMap{"ping_url": "https://cronitor.link/p/" + testKey + "/m%zz"}, []string{"ping_url"}, "not a valid URL"},
		{"base_url empty", settingsMap{"base_url": "", "api_key": testKey, "monitor": "m"}, []string{"base_url"}, "is empty"},
		{"base_url is a telemetry URL", settingsMap{"base_url": ping, "api_key": testKey, "monitor": "m"}, []string{"base_url"}, "set it as ping_url"},
		{"base_url ends with /p", settingsMap{"base_url": "https://cronitor.link/p/", "api_key": testKey, "monitor": "m"}, []string{"base_url"}, "leave it out"},
		{"base_url with a query", settingsMap{"base_url": "https://cronitor.link/?x=1", "api_key": testKey, "monitor": "m"}, []string{"base_url"}, "query"},
		{"api_key is a URL", settingsMap{"api_key": ping, "monitor": "m"}, []string{"api_key"}, "is a URL"},
		{"api_key with a slash", settingsMap{"api_key": "ab/cd", "monitor": "m"}, []string{"api_key"}, "must not contain /"},
		{"api_key with a space", settingsMap{"api_key": "ab cd", "monitor": "m"}, []string{"api_key"}, "spaces"},
		{"api_key with a query", settingsMap{"api_key": testKey + "?state=run", "monitor": "m"}, []string{"api_key"}, "must not contain ?"},
		{"api_key too long", settingsMap{"api_key": strings.Repeat("a", 201), "monitor": "m"}, []string{"api_key"}, "too long"},
		{"monitor with a slash", settingsMap{"api_key": testKey, "monitor": "a/b"}, []string{"monitor"}, "must not contain /"},
		{"monitor with a control character", settingsMap{"api_key": testKey, "monitor": "a\x01b"}, []string{"monitor"}, "control"},
		{"monitor ..", settingsMap{"api_key": testKey, "monitor": ".."}, []string{"monitor"}, "is not a monitor key"},
		{"api_key ..", settingsMap{"api_key": "..", "monitor": "m"}, []string{"api_key"}, "is not an API key"},
		{"ping_url with monitor ..", settingsMap{"ping_url": "https://cronitor.link/p/" + testKey + "/%2E%2E"}, []string{"ping_url"}, "is not a monitor key"},
		{"ping_url of the wrong type with api_key", settingsMap{"ping_url": 3, "monitor": "m"}, []string{"ping_url"}, "must be"},
		{"monitor too long", settingsMap{"api_key": testKey, "monitor": strings.Repeat("m", 201)}, []string{"monitor"}, "longer than 200"},
		{"unknown monitor_type", settingsMap{"api_key": testKey, "monitor": "m", "monitor_type": "cron"}, []string{"monitor_type"}, `must be job or heartbeat (the type of the monitor in Cronitor), not "cron"`},
		{"success_state on a job monitor", settingsMap{"api_key": testKey, "monitor": "m", "success_state": "ok"}, []string{"success_state"}, "heartbeat monitors only"},
		{"unknown success_state", settingsMap{"api_key": testKey, "monitor": "m", "monitor_type": "heartbeat", "success_state": "complete"}, []string{"success_state"}, "must be none, tick or ok"},
		{"environment too long", settingsMap{"api_key": testKey, "monitor": "m", "environment": strings.Repeat("e", 51)}, []string{"environment"}, "50 characters"},
		{"host too long", settingsMap{"api_key": testKey, "monitor": "m", "host": strings.Repeat("h", 51)}, []string{"host"}, "50 characters"},
		{"host with a newline", settingsMap{"api_key": testKey, "monitor": "m", "host": "a\nb"}, []string{"host"}, "control"},
		{"timeout 0", settingsMap{"api_key": testKey, "monitor": "m", "timeout": "0s"}, []string{"timeout"}, "more than 0"},
		{"ca_file not PEM", settingsMap{"api_key": testKey, "monitor": "m", "ca_file": notPEM}, []string{"ca_file"}, "no PEM certificate"},
		{"ca_file missing", settingsMap{"api_key": testKey, "monitor": "m", "ca_file": filepath.Join(dir, "nope.pem")}, []string{"ca_file"}, "cannot read"},
		{"wrong types", settingsMap{"api_key": 42, "monitor": true, "timeout": "soon"}, []string{"api_key", "monitor", "timeout"}, ""},
		{"unknown setting", settingsMap{"api_key": testKey, "monitor": "m", "apikey": "x"}, []string{"apikey"}, "api_key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := configure(t, tt.settings)
			if err == nil {
				t.Fatal("accepted")
			}
			fes := sdk.AsFieldErrors(err)
			var fields []string
			for _, fe := range fes {
				fields = append(fields, fe.Field)
			}
			slices.Sort(fields)
			if !slices.Equal(fields, tt.fields) {
				t.Errorf("errors for %v, want %v: %v", fields, tt.fields, err)
			}
			if !strings.Contains(err.Error(), tt.wording) {
				t.Errorf("error %q lacks %q", err, tt.wording)
			}
			if strings.Contains(err.Error(), testKey) {
				t.Errorf("error shows the key: %q", err)
			}
		})
	}
}

// Problems found while decoding and by the checks after it come back in
// one answer.
func TestSettingsErrorsAllAtOnce(t *testing.T) {
	_, _, err := configure(t, settingsMap{"api_key": testKey + "/x", "monitor": "a/b", "colour": "red", "environment": 7, "monitor_type": "cron", "timeout": "0s"})
	if err == nil {
		t.Fatal("accepted")
	}
	var fields []string
	for _, fe := range sdk.AsFieldErrors(err) {
		fields = append(fields, fe.Field)
	}
	slices.Sort(fields)
	want := []string{"api_key", "colour", "environment", "monitor", "monitor_type", "timeout"}
	if !slices.Equal(fields, want) {
		t.Errorf("errors for %v, want one each for %v: %v", fields, want, err)
	}
}

// A plain http server other than this machine gets a warning: the key
// travels in the URL.
func TestPlainHTTPWarning(t *testing.T) {
	tests := []struct {
		base string
		warn bool
	}{
		{"http://cronitor.example.com", true},
		{"http://127.0.0.1:9", false},
		{"http://localhost:9", false},
		{"https://cronitor.example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.base, func(t *testing.T) {
			var logs strings.Builder
			logger := hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Trace})
			if _, err := parseSettings(mustJSON(t, settingsMap{"base_url": tt.base, "api_key": testKey, "monitor": "m"}), logger); err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(logs.String(), "unencrypted"); got != tt.warn {
				t.Errorf("warned %v, want %v: %s", got, tt.warn, logs.String())
			}
			if strings.Contains(logs.String(), testKey) {
				t.Errorf("log shows the key: %s", logs.String())
			}
		})
	}
}
