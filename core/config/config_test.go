package config

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func env(vars map[string]string) Options {
	return Options{LookupEnv: func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}}
}

func TestParseValidConfig(t *testing.T) {
	src := `
plugin_dir: ./plugins
listen: 127.0.0.1:9464
insecure_plugin_permissions: true
plugins:
  healthchecks: { sha256: "3b0c4f0e5d6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5e91" }
targets:
  hc:
    plugin: healthchecks
    config:
      ping_url: "https://hc-ping.com/${HC_UUID}"
      timeout: 10s
      create: true
      tries: 3
    timeout: 20s
    retries: 4
    retry_backoff: 2s
  web:
    plugin: http
    config: { url: "https://example.com/${PATH_PART:-default}", headers: { X-Token: "$$literal" } }
heartbeats:
  - name: butler-sos
    frequency: every 1 hour
    targets: [hc, web]
  - name: nightly
    frequency: every 1 day
    timezone: Europe/Stockholm
    targets: web
    check:
      command: [/usr/bin/systemctl, is-active, "${UNIT:-butler-sos}"]
      timeout: 30s
`
	cfg, err := Parse("/etc/heartbeat/heartbeat.yaml", []byte(src), env(map[string]string{"HC_UUID": "5b1c7a4e-0d3f-4a5b-9c8d-7e6f5a4b3c2d"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:9464" || !cfg.InsecurePluginPermissions || len(cfg.Plugins["healthchecks"].SHA256) != 32 {
		t.Errorf("listen %q, insecure %v, pins %v", cfg.Listen, cfg.InsecurePluginPermissions, cfg.Plugins)
	}
	if len(cfg.PluginDirs) != 1 || cfg.PluginDirs[0] != "/etc/heartbeat/plugins" {
		t.Errorf("PluginDirs = %q, want plugin_dir relative to the config file", cfg.PluginDirs)
	}
	if got := strings.Join(cfg.TargetNames, ","); got != "hc,web" {
		t.Errorf("TargetNames = %s", got)
	}
	hc := cfg.Targets["hc"]
	var settings map[string]any
	if err := json.Unmarshal(hc.Settings, &settings); err != nil {
		t.Fatal(err)
	}
	if settings["ping_url"] != "https://hc-ping.com/5b1c7a4e-0d3f-4a5b-9c8d-7e6f5a4b3c2d" || settings["create"] != true || settings["tries"] != 3.0 || settings["timeout"] != "10s" {
		t.Errorf("settings = %v", settings)
	}
	if hc.Delivery != (Delivery{Timeout: 20 * time.Second, Retries: 4, Backoff: 2 * time.Second}) {
		t.Errorf("delivery = %+v", hc.Delivery)
	}
	if p := hc.SettingPos("ping_url"); p.Line != 11 || p.Column != 7 {
		t.Errorf("SettingPos(ping_url) = %v, want line 11 column 7", p)
	}
	web := cfg.Targets["web"]
	if web.Delivery != (Delivery{Timeout: DefaultDeliveryTimeout, Retries: DefaultRetries, Backoff: DefaultRetryBackoff}) {
		t.Errorf("default delivery = %+v", web.Delivery)
	}
	if !strings.Contains(string(web.Settings), `"url":"https://example.com/default"`) || !strings.Contains(string(web.Settings), `"X-Token":"$literal"`) {
		t.Errorf("web settings = %s", web.Settings)
	}
	if len(cfg.Heartbeats) != 2 || cfg.Heartbeats[1].Targets[0] != "web" {
		t.Fatalf("heartbeats = %+v", cfg.Heartbeats)
	}
	if c := cfg.Heartbeats[1].Check; c == nil || strings.Join(c.Command, " ") != "/usr/bin/systemctl is-active butler-sos" || c.Timeout != 30*time.Second {
		t.Errorf("check = %+v", c)
	}
	if cfg.Heartbeats[0].Check != nil || cfg.Heartbeats[0].Key() == cfg.Heartbeats[1].Key() {
		t.Errorf("keys %q %q", cfg.Heartbeats[0].Key(), cfg.Heartbeats[1].Key())
	}
	next, ok := cfg.Heartbeats[1].Schedule.NextFire(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	if !ok || !next.Equal(time.Date(2026, 6, 1, 22, 0, 0, 0, time.UTC)) {
		t.Errorf("every 1 day in Europe/Stockholm from 12:00Z fires at %v, want 22:00Z (midnight CEST)", next)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		env     map[string]string
		wantPos string
		want    []string
	}{
		{"unknown top-level key", "targts:\n  a: {plugin: log}\n", nil, "c.yaml:1:1", []string{`unknown key "targts"`, `did you mean "targets"`}},
		{"unknown heartbeat key", "targets:\n  a: {plugin: log}\nheartbeats:\n  - name: x\n    frequncy: every 1 hour\n    targets: [a]\n", nil, "c.yaml:5:5", []string{`unknown key "frequncy"`, `did you mean "frequency"`}},
		{"unknown target key", "targets:\n  a: {plugin: log, retry: 3}\nheartbeats:\n  - {name: x, frequency: every 1 hour, targets: [a]}\n", nil, "c.yaml:2:20", []string{`unknown key "retry"`, `did you mean "retries"`}},
		{"missing target", "targets:\n  web: {plugin: log}\nheartbeats:\n  - {name: x, frequency: every 1 hour, targets: [wbe]}\n", nil, "c.yaml:4:50", []string{`unknown target "wbe"`, `did you mean "web"`}},
		{"no plugin", "targets:\n  web: {config: {}}\nheartbeats:\n  - {name: x, frequency: every 1 hour, targets: [web]}\n", nil, "c.yaml:2:3", []string{"has no plugin"}},
		{"bad indentation", "targets:\n  web:\n    plugin: log\n   config: {}\n", nil, "c.yaml:4:4", []string{"invalid YAML"}},
		{"tab indentation", "targets:\n\tweb: {plugin: log}\n", nil, "c.yaml:2:", []string{"invalid YAML", "tabs"}},
		{"missing env var", "targets:\n  web: {plugin: http, config: {url: \"https://x/${TOKEN}\"}}\nheartbeats:\n  - {name: x, frequency: every 1 hour, targets: [web]}\n", nil, "c.yaml:2:", []string{"TOKEN is not set", "${TOKEN:-default}"}},
		{"missing env var in plain scalar points at it", "targets:\n  web:\n    plugin: http\n    config:\n      url: https://x/${TOKEN}\nheartbeats:\n  - {name: x, frequency: every 1 hour, targets: [web]}\n", nil, "c.yaml:5:22", []string{"TOKEN is not set"}},
		{"unclosed variable", "targets:\n  web: {plugin: http, config: {url: \"${TOKEN\"}}\nheartbeats:\n  - {name: x, frequency: every 1 hour, targets: [web]}\n", nil, "c.yaml:2:", []string{"not closed"}},
		{"bad frequency", "targets:\n  web: {plugin: log}\nheartbeats:\n  - name: x\n    frequency: every 5 minz\n    targets: [web]\n", nil, "c.yaml:5:24", []string{"position 8", "^"}},
		{"frequency and cron", "targets:\n  web: {plugin: log}\nheartbeats:\n  - {name: x, frequency: every 1 hour, cron: '* * * * *', targets: [web]}\n", nil, "c.yaml:4:", []string{"both frequency and cron"}},
		{"no frequency", "targets:\n  web: {plugin: log}\nheartbeats:\n  - {name: x, targets: [web]}\n", nil, "c.yaml:4:5", []string{"has no frequency"}},
		{"duplicate heartbeat", "targets:\n  web: {plugin: log}\nheartbeats:\n  - {name: x, frequency: every 1 hour, targets: [web]}\n  - {name: x, frequency: every 1 hour, targets: [web]}\n", nil, "c.yaml:5:5", []string{`"x" is defined twice`}},
		{"duplicate key", "targets:\n  web: {plugin: log}\n  web: {plugin: log}\nheartbeats:\n  - {name: x, frequency: every 1 hour, targets: [web]}\n", nil, "c.yaml:3:3", []string{`"web" twice`}},
		{"bad timezone", "targets:\n  web: {plugin: log}\nheartbeats:\n  - {name: x, frequency: every 1 hour, timezone: Mars/Olympus, targets: [web]}\n", nil, "c.yaml:4:", []string{"unknown time zone"}},
		{"bad timeout", "targets:\n  web: {plugin: log, timeout: soon}\nheartbeats:\n  - {name: x, frequency: every 1 hour, targets: [web]}\n", nil, "c.yaml:2:", []string{"not a duration"}},
		{"heartbeats not a list", "targets:\n  web: {plugin: log}\nheartbeats:\n  name: x\n", nil, "c.yaml:4:3", []string{"must be a list"}},
		{"empty file", "", nil, "c.yaml:1:1", []string{"empty"}},
		{"not a mapping", "- a\n- b\n", nil, "c.yaml:1:1", []string{"must be a mapping"}},
		{"binary garbage", "\x00\x01\x02", nil, "c.yaml:1:1", []string{"binary"}},
		{"two documents", "targets: {}\n---\nheartbeats: []\n", nil, "c.yaml:2:1", []string{"more than one YAML document"}},
		{"alias", "targets:\n  a: &x {plugin: log}\n  b: *x\n", nil, "c.yaml:", []string{"aliases"}},
		{"bad name", "targets:\n  \"my target\": {plugin: log}\nheartbeats: []\n", nil, "c.yaml:2:3", []string{"not a valid name"}},
		{"check with both kinds", "targets:\n  web: {plugin: log}\nheartbeats:\n  - name: x\n    frequency: every 1 hour\n    targets: [web]\n    check: {http: 'http://h/', command: [true]}\n", nil, "c.yaml:7:32", []string{"both http and command"}},
		{"check with neither", "targets:\n  web: {plugin: log}\nheartbeats:\n  - name: x\n    frequency: every 1 hour\n    targets: [web]\n    check: {timeout: 5s}\n", nil, "c.yaml:7:12", []string{"needs http or command"}},
		{"check command as a string", "targets:\n  web: {plugin: log}\nheartbeats:\n  - name: x\n    frequency: every 1 hour\n    targets: [web]\n    check: {command: 'systemctl is-active x'}\n", nil, "c.yaml:7:22", []string{"non-empty list", "no shell"}},
		{"check expect without http", "targets:\n  web: {plugin: log}\nheartbeats:\n  - name: x\n    frequency: every 1 hour\n    targets: [web]\n    check: {command: [true], expect: ok}\n", nil, "c.yaml:7:30", []string{"expect without http"}},
		{"check bad URL", "targets:\n  web: {plugin: log}\nheartbeats:\n  - name: x\n    frequency: every 1 hour\n    targets: [web]\n    check: {http: localhost:9997}\n", nil, "c.yaml:7:19", []string{"not an http(s) URL"}},
		{"bad listen address", "listen: 9464\ntargets:\n  web: {plugin: log}\nheartbeats:\n  - {name: x, frequency: every 1 hour, targets: [web]}\n", nil, "c.yaml:1:9", []string{"host:port"}},
		{"bad sha256", "plugins:\n  log: {sha256: abc}\ntargets:\n  web: {plugin: log}\nheartbeats:\n  - {name: x, frequency: every 1 hour, targets: [web]}\n", nil, "c.yaml:2:17", []string{"not a SHA-256", "heartbeat plugins --sha256"}},
		{"unknown plugin setting key", "plugins:\n  log: {sha: abc}\ntargets:\n  web: {plugin: log}\nheartbeats:\n  - {name: x, frequency: every 1 hour, targets: [web]}\n", nil, "c.yaml:2:9", []string{`unknown key "sha"`, `keys of plugin "log" are: sha256`}},
		{"insecure flag not a bool", "insecure_plugin_permissions: maybe\ntargets:\n  web: {plugin: log}\nheartbeats:\n  - {name: x, frequency: every 1 hour, targets: [web]}\n", nil, "c.yaml:1:30", []string{"true or false"}},
		{"butler without heartbeat", "Butler-SOS:\n  logLevel: info\n", nil, "c.yaml:2:3", []string{"no heartbeat section"}},
		{"butler missing key", "Butler-SOS:\n  heartbeat:\n    enable: false\n    remoteURL: http://x/\n", nil, "c.yaml:3:5", []string{"has no frequency"}},
		{"butler enable not bool", "Butler-SOS:\n  heartbeat:\n    enable: yes please\n    remoteURL: http://x/\n    frequency: every 1 hour\n", nil, "c.yaml:3:13", []string{"true or false"}},
		{"butler bad URL", "Butler-SOS:\n  heartbeat:\n    enable: true\n    remoteURL: not a url\n    frequency: every 1 hour\n", nil, "c.yaml:4:16", []string{"not an http(s) URL"}},
		{"butler bad frequency", "Butler-SOS:\n  heartbeat:\n    enable: true\n    remoteURL: http://x/\n    frequency: every 1 hourz\n", nil, "c.yaml:5:", []string{"position"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tt.src), env(tt.env))
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, tt.wantPos) {
				t.Errorf("error does not start with %q:\n%s", tt.wantPos, msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q:\n%s", w, msg)
				}
			}
		})
	}
}

func TestErrorsCollectsSeveralProblems(t *testing.T) {
	src := "targets:\n  web: {plugin: log, colour: red}\nheartbeats:\n  - {name: x, frequency: every 1 hour, targets: [nope]}\n"
	_, err := Parse("c.yaml", []byte(src), env(nil))
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 2 {
		t.Fatalf("want 2 errors, got %v", err)
	}
}

func TestButlerSOSConfig(t *testing.T) {
	tests := []struct {
		name       string
		enable     string
		heartbeats int
	}{
		{"enabled", "true", 1},
		{"disabled", "false", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "Butler-SOS:\n  logLevel: info\n  heartbeat:\n    enable: " + tt.enable + "\n    remoteURL: http://monitor.example/ping/abc\n    frequency: every 30 seconds\n  uptimeMonitor:\n    enable: true\n    frequency: this is ignored\n"
			cfg, err := Parse("butler.yaml", []byte(src), env(nil))
			if err != nil {
				t.Fatal(err)
			}
			if !cfg.ButlerSOS || len(cfg.Heartbeats) != tt.heartbeats {
				t.Fatalf("ButlerSOS=%v heartbeats=%d, want %d", cfg.ButlerSOS, len(cfg.Heartbeats), tt.heartbeats)
			}
			if tt.heartbeats == 0 {
				return
			}
			hb := cfg.Heartbeats[0]
			target := cfg.Targets[hb.Targets[0]]
			if hb.Name != ButlerHeartbeatName || target.Plugin != "http" || string(target.Settings) != `{"url":"http://monitor.example/ping/abc"}` {
				t.Errorf("heartbeat %+v target %+v", hb, target)
			}
			next, _ := hb.Schedule.NextFire(time.Date(2026, 1, 1, 0, 0, 10, 0, time.UTC))
			if !next.Equal(time.Date(2026, 1, 1, 0, 0, 30, 0, time.UTC)) {
				t.Errorf("every 30 seconds from 00:00:10 fires at %v", next)
			}
		})
	}
}

func TestLoadExamples(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	examples, _ := filepath.Glob(filepath.Join(filepath.Dir(file), "..", "..", "examples", "*.yaml"))
	if len(examples) == 0 {
		t.Fatal("no examples found")
	}
	vars := map[string]string{"HC_CHECK_UUID": "5b1c7a4e-0d3f-4a5b-9c8d-7e6f5a4b3c2d", "KUMA_TOKEN": "AbCdEfGh12", "KUMA_URL": "http://127.0.0.1:3001"}
	for _, path := range examples {
		t.Run(filepath.Base(path), func(t *testing.T) {
			if _, err := Load(path, env(vars)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add("targets:\n  web: {plugin: log}\nheartbeats:\n  - {name: x, frequency: every 1 hour, targets: [web]}\n")
	f.Add("Butler-SOS:\n  heartbeat:\n    enable: true\n    remoteURL: http://x/\n    frequency: every 1 hour\n")
	f.Add("targets:\n  a: &x {plugin: log}\n  b: *x\n")
	f.Add("targets: {web: {plugin: http, config: {url: '${A:-b}$${C}'}}}\n")
	f.Add("targets: {web: {plugin: http, config: {url: '${A:?need A}${B?x}${E:?}${U-d}'}}}\n")
	f.Add("plugins: {log: {memory_limit: 1.5GiB, cpu_limit: 90}}\nlisten: localhost:99999\ntargets: {web: {plugin: log, timeout: 15, retries: 11}}\n")
	f.Add("Butler-SOS:\n  d: &t [{name: a, value: b}]\n  userEvents: {tags: *t, <<: {x: *t}}\n  heartbeat: {enable: true, remoteURL: 'http://x/', frequency: every 1 hour}\n")
	f.Fuzz(func(t *testing.T, src string) {
		cfg, err := Parse("fuzz.yaml", []byte(src), env(map[string]string{"A": "1", "E": ""}))
		if err == nil && cfg == nil {
			t.Fatal("nil config without error")
		}
	})
}

// The bad-input corpus never loads (except files whose problem only the
// plugins can see) and never panics; see cmd/heartbeat for the messages.
func TestBadInputCorpusIsRejected(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "bad", "*.yaml"))
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			_, err := Load(file, env(nil))
			pluginLevel := strings.Contains(file, "unknown-plugin-name")
			if (err == nil) != pluginLevel {
				t.Errorf("Load error = %v", err)
			}
		})
	}
}

func TestSettingPos(t *testing.T) {
	src := `targets:
  web:
    plugin: http
    config:
      url: https://example.com/ping
      headers:
        X-Token: abc
      success_status: [200, 204]
heartbeats:
  - { name: svc, frequency: every 1 hour, targets: [web] }
`
	cfg, err := Parse("hb.yaml", []byte(src), Options{})
	if err != nil {
		t.Fatal(err)
	}
	web := cfg.Targets["web"]
	tests := []struct {
		field        string
		line, column int
	}{
		{"url", 5, 7},
		{"headers", 6, 7},
		{"headers.X-Token", 7, 9},
		{"success_status", 8, 7},
		// Not written: where the settings block starts.
		{"timeout", 4, 5},
		{"", 4, 5},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			if p := web.SettingPos(tt.field); p.File != "hb.yaml" || p.Line != tt.line || p.Column != tt.column {
				t.Errorf("SettingPos(%q) = %v, want hb.yaml:%d:%d", tt.field, p, tt.line, tt.column)
			}
		})
	}
}
