package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

func TestPingTypeSignal(t *testing.T) {
	cases := []struct {
		p      pingType
		code   int
		signal sdk.Signal
		exit   int // -1: none
	}{
		{pingExitCode, 0, sdk.SignalSuccess, 0},
		{pingExitCode, 3, sdk.SignalFail, 3},
		{pingSuccess, 3, sdk.SignalSuccess, -1},
		{pingFail, 0, sdk.SignalFail, -1},
		{pingLog, 1, sdk.SignalLog, -1},
	}
	for _, c := range cases {
		t.Run(c.p.String(), func(t *testing.T) {
			sig, code := c.p.signal(c.code)
			got := -1
			if code != nil {
				got = *code
			}
			if sig != c.signal || got != c.exit {
				t.Errorf("%s(%d) = %s, %d; want %s, %d", c.p, c.code, sig, got, c.signal, c.exit)
			}
		})
	}
}

// Flags win over runitor's environment variables, each of which may read
// its value from a file; the environment is read only when no target is
// named on the command line.
func TestExecReportConfig(t *testing.T) {
	const uuid = "0b6f4e52-3c1a-4d8e-9f27-5a9c1e7d3b40"
	const key = "hPz3lXbG0k4vVd9sW1qAbC"
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	if err := os.WriteFile(keyFile, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		args    []string
		env     map[string]string
		plugins []string
		setting map[string]any // of the first target
		wantErr string
	}{
		{name: "url", args: []string{"--url", "https://hc-ping.com/" + uuid}, plugins: []string{"healthchecks"},
			setting: map[string]any{"base_url": "https://hc-ping.com/", "uuid": uuid}},
		{name: "two urls", args: []string{"--url", "https://hc-ping.com/" + uuid, "--url", "https://example.com/hook"}, plugins: []string{"healthchecks", "http"}},
		{name: "two of a kind are numbered", args: []string{"--url", "https://example.com/a", "--url", "https://example.com/b"}, plugins: []string{"http", "http"}},
		{name: "HEARTBEAT_URL", env: map[string]string{"HEARTBEAT_URL": "https://kuma.example.com/api/push/abcdefgh"}, plugins: []string{"uptimekuma"}},
		{name: "flags ignore the environment", args: []string{"--url", "https://example.com/a"}, env: map[string]string{"CHECK_UUID": uuid}, plugins: []string{"http"}},
		{name: "runitor env, key from a file", env: map[string]string{"CHECK_SLUG": "db", "PING_KEY": "file:" + keyFile, "HC_API_URL": "https://hc.example.com/ping"}, plugins: []string{"healthchecks"},
			setting: map[string]any{"base_url": "https://hc.example.com/ping/", "ping_key": key, "slug": "db"}},
		{name: "slug flag with key from env", args: []string{"--slug", "db"}, env: map[string]string{"HC_PING_KEY": key}, plugins: []string{"healthchecks"},
			setting: map[string]any{"base_url": "https://hc-ping.com/", "ping_key": key, "slug": "db"}},
		{name: "headers and request timeout", args: []string{"--url", "https://example.com/a", "--header", "X-Key: v", "--request-timeout", "3s"}, plugins: []string{"http"},
			setting: map[string]any{"url": "https://example.com/a", "headers": map[string]any{"X-Key": "v"}, "timeout": "3s"}},
		{name: "nothing", wantErr: "no target to report to"},
		{name: "create without slug", args: []string{"--url", "https://example.com/a", "--create"}, wantErr: "?create=1"},
		{name: "missing file", env: map[string]string{"CHECK_UUID": "file:" + filepath.Join(dir, "none")}, wantErr: "$CHECK_UUID"},
		{name: "config without target", args: []string{"--config", filepath.Join(dir, "x.yaml"), "--url", "https://example.com/a"}, wantErr: "no --target or --heartbeat"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs, o := execFlags(io.Discard)
			if err := fs.Parse(c.args); err != nil {
				t.Fatal(err)
			}
			o.set = map[string]bool{}
			for _, a := range c.args {
				if strings.HasPrefix(a, "--") {
					o.set[strings.TrimPrefix(a, "--")] = true
				}
			}
			lookup := func(k string) (string, bool) { v, ok := c.env[k]; return v, ok }
			cfg, _, err := o.reportConfig(lookup)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var plugins []string
			for _, n := range cfg.TargetNames {
				plugins = append(plugins, cfg.Targets[n].Plugin)
			}
			if !reflect.DeepEqual(plugins, c.plugins) || len(cfg.Targets) != len(c.plugins) {
				t.Errorf("plugins %v (targets %v), want %v", plugins, cfg.TargetNames, c.plugins)
			}
			if c.setting != nil {
				var got map[string]any
				if err := json.Unmarshal(cfg.Targets[cfg.TargetNames[0]].Settings, &got); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, c.setting) {
					t.Errorf("settings %v, want %v", got, c.setting)
				}
			}
		})
	}
}

func TestParseHeader(t *testing.T) {
	for _, c := range []struct{ in, name, value, err string }{
		{in: "X-Api-Key: abc", name: "X-Api-Key", value: "abc"},
		{in: "Authorization:Bearer a:b", name: "Authorization", value: "Bearer a:b"},
		{in: "no colon", err: "Name: value"},
		{in: ": v", err: "Name: value"},
		{in: "Bad Name: v", err: "not a valid header name"},
		{in: "X: a\x01b", err: "control character"},
	} {
		name, value, err := parseHeader(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || name != c.name || value != c.value {
			t.Errorf("%q: %q %q %v", c.in, name, value, err)
		}
	}
}
