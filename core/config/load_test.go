package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// minimal wraps target and top-level lines into a config that is valid
// apart from them.
func minimal(top, target string) string {
	return top + "targets:\n  web:\n    plugin: log\n" + target + "heartbeats:\n  - {name: x, frequency: every 1 hour, targets: [web]}\n"
}

func TestDurationsFollowOneRule(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		env   map[string]string
		check func(*Config) time.Duration
		want  time.Duration
	}{
		{"target timeout as bare seconds", minimal("", "    timeout: 15\n"), nil, targetTimeout, 15 * time.Second},
		{"target timeout as a fraction of seconds", minimal("", "    timeout: 1.5\n"), nil, targetTimeout, 1500 * time.Millisecond},
		{"target timeout quoted seconds", minimal("", "    timeout: \"20\"\n"), nil, targetTimeout, 20 * time.Second},
		{"target timeout from a variable", minimal("", "    timeout: ${T}\n"), map[string]string{"T": "25"}, targetTimeout, 25 * time.Second},
		{"target timeout as a duration", minimal("", "    timeout: 1m30s\n"), nil, targetTimeout, 90 * time.Second},
		{"retry_backoff as bare seconds", minimal("", "    retry_backoff: 2\n"), nil, func(c *Config) time.Duration { return c.Targets["web"].Delivery.Backoff }, 2 * time.Second},
		{"check timeout as bare seconds", "targets:\n  web: {plugin: log}\nheartbeats:\n  - name: x\n    frequency: every 1 hour\n    targets: [web]\n    check: {command: [true], timeout: 30}\n", nil,
			func(c *Config) time.Duration { return c.Heartbeats[0].Check.Timeout }, 30 * time.Second},
		{"cpu_limit as bare seconds", minimal("plugins:\n  log: {cpu_limit: 90}\n", ""), nil, func(c *Config) time.Duration { return c.Plugins["log"].CPULimit }, 90 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("c.yaml", []byte(tt.src), env(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.check(cfg); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func targetTimeout(c *Config) time.Duration { return c.Targets["web"].Delivery.Timeout }

// Every numeric and duration key says its range when a value is outside it,
// and "not a number" only when it is not one.
func TestNumbersAndDurationsOutOfRange(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		wantPos string
		want    []string
	}{
		{"retries above the range", minimal("", "    retries: 11\n"), "c.yaml:4:14", []string{`target "web": retries must be between 0 and 10, got 11`, "whole number from 0 to 10"}},
		{"retries below the range", minimal("", "    retries: -1\n"), "c.yaml:4:14", []string{"retries must be between 0 and 10, got -1"}},
		{"retries huge", minimal("", "    retries: 99999999999999999999999\n"), "c.yaml:4:14", []string{"retries must be between 0 and 10, got 9999"}},
		{"retries not whole", minimal("", "    retries: 1.5\n"), "c.yaml:4:14", []string{`retries: "1.5" is not a whole number`}},
		{"retries not a number", minimal("", "    retries: many\n"), "c.yaml:4:14", []string{`retries: "many" is not a whole number`}},
		{"timeout zero", minimal("", "    timeout: 0\n"), "c.yaml:4:14", []string{"timeout must be between 100ms and 1h, got 0 (seconds)", "a bare number counts as seconds"}},
		{"timeout negative", minimal("", "    timeout: -5s\n"), "c.yaml:4:14", []string{"timeout must be between 100ms and 1h, got -5s"}},
		{"timeout too long", minimal("", "    timeout: 2h\n"), "c.yaml:4:14", []string{"timeout must be between 100ms and 1h, got 2h"}},
		{"timeout huge number", minimal("", "    timeout: 1e400\n"), "c.yaml:4:14", []string{`"1e400" is not a duration`}},
		{"timeout overflowing seconds", minimal("", "    timeout: 99999999999999999999\n"), "c.yaml:4:14", []string{"timeout must be between 100ms and 1h"}},
		{"timeout not a duration", minimal("", "    timeout: soon\n"), "c.yaml:4:14", []string{`timeout: "soon" is not a duration`, "number of seconds"}},
		{"retry_backoff too long", minimal("", "    retry_backoff: 5000\n"), "c.yaml:4:20", []string{"retry_backoff must be between 10ms and 1h, got 5000 (seconds)"}},
		{"check timeout too short", "targets:\n  web: {plugin: log}\nheartbeats:\n  - name: x\n    frequency: every 1 hour\n    targets: [web]\n    check: {command: [true], timeout: 1ms}\n", "c.yaml:7:39", []string{"check: timeout must be between 100ms and 24h, got 1ms"}},
		{"listen port out of range", minimal("listen: localhost:99999\n", ""), "c.yaml:1:19", []string{"listen: the port must be between 1 and 65535, got 99999", "fix: write host:port"}},
		{"listen port zero", minimal("listen: 127.0.0.1:0\n", ""), "c.yaml:1:19", []string{"between 1 and 65535, got 0"}},
		{"listen port a name", minimal("listen: localhost:http\n", ""), "c.yaml:1:19", []string{`the port "http" is not a number`}},
		{"listen port negative", minimal("listen: \"localhost:-1\"\n", ""), "c.yaml:1:20", []string{`the port "-1" is not a number`}},
		{"listen without port", minimal("listen: localhost\n", ""), "c.yaml:1:9", []string{"not a host:port address"}},
		{"listen bad host", minimal("listen: \"bad host:9464\"\n", ""), "c.yaml:1:9", []string{`"bad host" is not a host name or IP address`}},
		{"memory_limit too small", minimal("plugins:\n  log: {memory_limit: 1MiB}\n", ""), "c.yaml:2:23", []string{`plugin "log": memory_limit must be between 16MiB and 1TiB, got 1MiB`, "0 for no limit"}},
		{"memory_limit negative", minimal("plugins:\n  log: {memory_limit: -512MiB}\n", ""), "c.yaml:2:23", []string{"memory_limit must be between 16MiB and 1TiB, got -512MiB"}},
		{"memory_limit too large", minimal("plugins:\n  log: {memory_limit: 2TiB}\n", ""), "c.yaml:2:23", []string{"memory_limit must be between 16MiB and 1TiB, got 2TiB"}},
		{"memory_limit unknown unit", minimal("plugins:\n  log: {memory_limit: 512M}\n", ""), "c.yaml:2:23", []string{`unknown unit "M"`, "512MiB"}},
		{"memory_limit fractional bytes", minimal("plugins:\n  log: {memory_limit: 1.5}\n", ""), "c.yaml:2:23", []string{"must be whole"}},
		{"memory_limit overflow", minimal("plugins:\n  log: {memory_limit: 99999999999TiB}\n", ""), "c.yaml:2:23", []string{"too large"}},
		{"cpu_limit too short", minimal("plugins:\n  log: {cpu_limit: 500ms}\n", ""), "c.yaml:2:20", []string{"cpu_limit must be between 1s and 8760h, got 500ms"}},
		{"cpu_limit negative", minimal("plugins:\n  log: {cpu_limit: -1}\n", ""), "c.yaml:2:20", []string{"cpu_limit must be between 1s and 8760h, got -1 (seconds)"}},
		{"cpu_limit not a duration", minimal("plugins:\n  log: {cpu_limit: lots}\n", ""), "c.yaml:2:20", []string{`cpu_limit: "lots" is not a duration`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tt.src), env(nil))
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, tt.wantPos+":") {
				t.Errorf("error does not start with %q:\n%s", tt.wantPos, msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q:\n%s", w, msg)
				}
			}
			if strings.Contains(msg, "not a valid number") {
				t.Errorf("a range error reads as a syntax error:\n%s", msg)
			}
		})
	}
}

func TestListenAccepted(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:9464", "localhost:1", ":65535", "[::1]:9464", "metrics.example.internal:9464"} {
		t.Run(addr, func(t *testing.T) {
			cfg, err := Parse("c.yaml", []byte(minimal("listen: \""+addr+"\"\n", "")), env(nil))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Listen != addr {
				t.Errorf("Listen = %q", cfg.Listen)
			}
		})
	}
}

func TestPluginLimits(t *testing.T) {
	tests := []struct {
		limits  string
		wantMem int64
		wantCPU time.Duration
	}{
		{"{memory_limit: 512MiB, cpu_limit: 1h}", 512 << 20, time.Hour},
		{"{memory_limit: 1GB}", 1e9, 0},
		{"{memory_limit: 268435456}", 256 << 20, 0},
		{"{memory_limit: 1.5 GiB}", 3 << 29, 0},
		{"{memory_limit: 64mib}", 64 << 20, 0},
		{"{memory_limit: \"${MEM:-0}\", cpu_limit: 0}", 0, 0},
		{"{cpu_limit: 1.2s}", 0, 2 * time.Second},
		{"{cpu_limit: 90}", 0, 90 * time.Second},
		{"{sha256: 3b0c4f0e5d6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5e91, memory_limit: 16MiB}", 16 << 20, 0},
	}
	for _, tt := range tests {
		t.Run(tt.limits, func(t *testing.T) {
			cfg, err := Parse("c.yaml", []byte(minimal("plugins:\n  log: "+tt.limits+"\n", "")), env(nil))
			if err != nil {
				t.Fatal(err)
			}
			ps := cfg.Plugins["log"]
			if ps.MemoryLimit != tt.wantMem || ps.CPULimit != tt.wantCPU {
				t.Errorf("MemoryLimit %d, CPULimit %s; want %d, %s", ps.MemoryLimit, ps.CPULimit, tt.wantMem, tt.wantCPU)
			}
		})
	}
}

// Every bad setting of a plugin is reported in one run.
func TestPluginSettingsErrorsArriveTogether(t *testing.T) {
	src := minimal("plugins:\n  log: {sha256: abc, memory_limit: 1KiB, cpu_limit: soon}\n", "")
	_, err := Parse("c.yaml", []byte(src), env(nil))
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 3 {
		t.Fatalf("want 3 errors, got %v", err)
	}
}

func TestEnvRequiredForms(t *testing.T) {
	const url = "targets:\n  web:\n    plugin: http\n    config:\n      url: https://hc.example/ping/%s\nheartbeats:\n  - {name: x, frequency: every 1 hour, targets: [web]}\n"
	tests := []struct {
		name    string
		ref     string
		env     map[string]string
		wantURL string
		wantErr []string
	}{
		{":? set", "${NOPE_TOKEN:?set the Healthchecks token}", map[string]string{"NOPE_TOKEN": "abc123"}, "https://hc.example/ping/abc123", nil},
		{":? empty", "${NOPE_TOKEN:?set the Healthchecks token}", map[string]string{"NOPE_TOKEN": ""}, "", []string{"c.yaml:5:36:", "environment variable NOPE_TOKEN is empty: set the Healthchecks token"}},
		{":? unset", "${NOPE_TOKEN:?set the Healthchecks token}", nil, "", []string{"c.yaml:5:36:", "environment variable NOPE_TOKEN is not set: set the Healthchecks token"}},
		{":? without a message", "${NOPE_TOKEN:?}", map[string]string{"NOPE_TOKEN": ""}, "", []string{"NOPE_TOKEN is empty; it must be set to a non-empty value"}},
		{"? accepts empty", "${NOPE_TOKEN?needed}", map[string]string{"NOPE_TOKEN": ""}, "https://hc.example/ping/", nil},
		{"? unset", "${NOPE_TOKEN?needed}", nil, "", []string{"NOPE_TOKEN is not set: needed"}},
		{":- empty", "${NOPE_TOKEN:-dflt}", map[string]string{"NOPE_TOKEN": ""}, "https://hc.example/ping/dflt", nil},
		{"- empty keeps empty", "${NOPE_TOKEN-dflt}", map[string]string{"NOPE_TOKEN": ""}, "https://hc.example/ping/", nil},
		{"- unset", "${NOPE_TOKEN-dflt}", nil, "https://hc.example/ping/dflt", nil},
		{"plain set empty", "${NOPE_TOKEN}", map[string]string{"NOPE_TOKEN": ""}, "https://hc.example/ping/", nil},
		{"message bounded and escaped", "${NOPE_TOKEN:?" + strings.Repeat("x", 300) + "\\u0007}", nil, "", []string{"NOPE_TOKEN is not set: xxxx", "…"}},
		{"bad operator", "${NOPE_TOKEN:=x}", nil, "", []string{"not a valid variable reference", "${NAME:?message}"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(url, "%s", tt.ref, 1)
			cfg, err := Parse("c.yaml", []byte(src), env(tt.env))
			if tt.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if got := string(cfg.Targets["web"].Settings); got != `{"url":"`+tt.wantURL+`"}` {
					t.Errorf("settings %s, want url %s", got, tt.wantURL)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if len(err.Error()) > 400 {
				t.Errorf("error is %d bytes long:\n%v", len(err.Error()), err)
			}
		})
	}
}

// Quoted values locate a variable's error at the reference too.
func TestEnvErrorColumnInQuotedValue(t *testing.T) {
	for _, q := range []string{`"`, `'`} {
		src := "targets:\n  web: {plugin: http, config: {url: " + q + "https://hc.example/${NOPE:?needed}" + q + "}}\nheartbeats:\n  - {name: x, frequency: every 1 hour, targets: [web]}\n"
		_, err := Parse("c.yaml", []byte(src), env(nil))
		if err == nil || !strings.HasPrefix(err.Error(), "c.yaml:2:57:") {
			t.Errorf("quote %s: error %v, want it at 2:57", q, err)
		}
	}
	// A value folded over two lines: the start of the value.
	src := "targets:\n  web:\n    plugin: http\n    config:\n      url: https://hc.example/\n        ${NOPE:?needed}\nheartbeats:\n  - {name: x, frequency: every 1 hour, targets: [web]}\n"
	if _, err := Parse("c.yaml", []byte(src), env(nil)); err == nil || !strings.HasPrefix(err.Error(), "c.yaml:5:12:") {
		t.Errorf("folded value: error %v, want it at 5:12", err)
	}
}

// An error about a value written with a variable shows the reference, never
// the variable's value.
func TestErrorsNeverShowVariableValues(t *testing.T) {
	const secret = "5b1c7a4e-0d3f-4a5b-9c8d-7e6f5a4b3c2d"
	srcs := []string{
		minimal("", "    timeout: ${SECRET}\n"),
		minimal("", "    retries: ${SECRET}\n"),
		minimal("listen: ${SECRET}\n", ""),
		minimal("plugins:\n  log: {memory_limit: \"${SECRET}\", cpu_limit: \"${SECRET}\"}\n", ""),
		"targets:\n  web: {plugin: log}\nheartbeats:\n  - {name: x, frequency: every 1 hour, timezone: \"${SECRET}\", targets: [web]}\n",
		"targets:\n  web: {plugin: log}\nheartbeats:\n  - {name: x, frequency: every 1 hour, targets: [\"${SECRET}\"]}\n",
	}
	for _, src := range srcs {
		_, err := Parse("c.yaml", []byte(src), env(map[string]string{"SECRET": secret}))
		if err == nil {
			t.Errorf("no error for\n%s", src)
			continue
		}
		if strings.Contains(err.Error(), secret[:8]) {
			t.Errorf("error shows the variable's value:\n%v", err)
		}
	}
}

// A file that is not a heartbeat config (a mistyped path, a symlink to
// /etc/shadow) is never echoed back beyond short escaped excerpts.
func TestErrorsDoNotEchoForeignFiles(t *testing.T) {
	hash := "$6$rounds=5000$saltsaltsalt$" + strings.Repeat("Q", 86)
	tests := map[string]string{
		"shadow":        "root:" + hash + ":19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\nalice:" + hash + ":19000:0:99999:7:::\n",
		"key value":     "root_password_" + hash + ": x\napi_key: " + hash + "\n",
		"ini":           "[client]\npassword = " + hash + "\n",
		"list":          "- " + hash + "\n",
		"long keys":     strings.Repeat("k", 500) + "_" + hash + ": 1\n",
		"yaml error":    "a: b\n  c: " + hash + "\n",
		"bad quoted":    "\"" + hash + "\\q\"\n",
		"unknown alias": "a: *" + hash + "\n",
	}
	for name, src := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(src), env(nil))
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if strings.Contains(msg, hash[:42]) || strings.Contains(msg, strings.Repeat("Q", 41)) {
				t.Errorf("error echoes the file:\n%s", msg)
			}
			if len(msg) > 2000 {
				t.Errorf("error is %d bytes", len(msg))
			}
		})
	}
}

func TestLoadFollowsSymlinkToConfig(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.yaml")
	if err := os.WriteFile(real, []byte(minimal("", "")), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "heartbeat.yaml")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(link, env(nil)); err != nil {
		t.Fatal(err)
	}
}

// 20,000 heartbeats in block style load under the default cap; the cap
// (Options.MaxSize) still refuses a larger file, naming the flag.
func TestLoadSizeCap(t *testing.T) {
	var b strings.Builder
	b.WriteString("targets:\n  web:\n    plugin: log\n    timeout: 10s\nheartbeats:\n")
	for i := 0; i < 20000; i++ {
		b.WriteString("  - name: service-")
		b.WriteString(strings.Repeat("0", 5-len(itoa(i))) + itoa(i))
		b.WriteString("\n    frequency: every 1 hour\n    timezone: Europe/Stockholm\n    targets:\n      - web\n    check:\n      command: [/usr/bin/systemctl, is-active, --quiet, service]\n      timeout: 5s\n")
	}
	path := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path, env(nil))
	if err != nil {
		t.Fatalf("20,000 heartbeats (%d bytes): %v", b.Len(), err)
	}
	if len(cfg.Heartbeats) != 20000 {
		t.Errorf("%d heartbeats", len(cfg.Heartbeats))
	}
	opts := env(nil)
	opts.MaxSize = 1 << 20
	_, err = Load(path, opts)
	if err == nil || !strings.Contains(err.Error(), "larger than 1MiB") || !strings.Contains(err.Error(), "--max-config-size") {
		t.Errorf("err = %v", err)
	}
}

// A file that grows while it is read is cut at the cap.
func TestLoadCapsAGrowingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "grows.yaml")
	if err := os.WriteFile(path, []byte(strings.Repeat("# comment\n", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	data, err := readFile(path, 500)
	if err == nil || data != nil || !strings.Contains(err.Error(), "larger than 500 bytes") {
		t.Errorf("readFile = %d bytes, %v", len(data), err)
	}
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}

func TestButlerSOSAliasesOutsideHeartbeat(t *testing.T) {
	cfg, err := Load(filepath.Join("testdata", "good", "butler-sos-anchors.yaml"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.ButlerSOS || len(cfg.Heartbeats) != 1 || cfg.Heartbeats[0].Name != ButlerHeartbeatName {
		t.Errorf("ButlerSOS %v, heartbeats %+v", cfg.ButlerSOS, cfg.Heartbeats)
	}
}

func TestAliasBombsAreRefusedQuickly(t *testing.T) {
	// Ten levels of ten: 10^10 values when expanded.
	var b strings.Builder
	b.WriteString("Butler-SOS:\n  heartbeat: {enable: true, remoteURL: \"http://x/\", frequency: every 1 hour}\n  userEvents:\n    l0: &l0 [lol,lol,lol,lol,lol,lol,lol,lol,lol,lol]\n")
	for i := 1; i < 10; i++ {
		prev := "*l" + itoa(i-1)
		b.WriteString("    l" + itoa(i) + ": &l" + itoa(i) + " [" + strings.TrimSuffix(strings.Repeat(prev+",", 10), ",") + "]\n")
	}
	b.WriteString("    tags: *l9\n")
	tests := map[string]string{
		"butler bomb":    b.String(),
		"heartbeat bomb": strings.Replace(b.String(), "Butler-SOS:\n", "x:\n", 1),
		"self reference": "Butler-SOS:\n  heartbeat: {enable: true, remoteURL: \"http://x/\", frequency: every 1 hour}\n  a: &a [1, *a]\n",
	}
	for name, src := range tests {
		t.Run(name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				_, err := Parse("c.yaml", []byte(src), env(nil))
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), "alias") {
					t.Errorf("err = %v", err)
				}
			case <-time.After(60 * time.Second):
				t.Fatal("an alias bomb was expanded")
			}
		})
	}
}

func TestParseByteSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  string
	}{
		{"0", 0, ""},
		{"1024", 1024, ""},
		{"16MiB", 16 << 20, ""},
		{"16 MiB", 16 << 20, ""},
		{"1.5GiB", 3 << 29, ""},
		{"2gb", 2e9, ""},
		{"3KB", 3000, ""},
		{"1TiB", 1 << 40, ""},
		{"-1MiB", -1 << 20, ""},
		{"12B", 12, ""},
		{"", 0, "not a size"},
		{"MiB", 0, "not a size"},
		{"1.5", 0, "must be whole"},
		{"1e9", 0, "unknown unit"},
		{"1..5MiB", 0, "not a size"},
		{"9223372036854775807", 1<<63 - 1, ""},
		{"9223372036854775808", 0, "too large"},
		{"8388608TiB", 0, "too large"},
		{"99999999999999999999.5GiB", 0, "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseByteSize(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("ParseByteSize(%q) = %d, %v; want error %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseByteSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseMaxFileSize(t *testing.T) {
	if n, err := ParseMaxFileSize("32MiB"); err != nil || n != 32<<20 {
		t.Errorf("32MiB: %d, %v", n, err)
	}
	for _, in := range []string{"100", "1GiB", "-8MiB", "lots"} {
		if _, err := ParseMaxFileSize(in); err == nil {
			t.Errorf("%s: no error", in)
		}
	}
	if _, err := ParseMaxFileSize("1GiB"); err == nil || !strings.Contains(err.Error(), "between 1KiB and 256MiB") {
		t.Errorf("1GiB: %v", err)
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"15", 15 * time.Second, true},
		{" 1.5 ", 1500 * time.Millisecond, true},
		{"+2", 2 * time.Second, true},
		{"-3", -3 * time.Second, true},
		{"10s", 10 * time.Second, true},
		{"1m30s", 90 * time.Second, true},
		{"NaN", 0, false},
		{"Inf", 0, false},
		{"0x10", 0, false},
		{"1e3", 0, false},
		{"", 0, false},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseDuration(%q) = %s, %v", tt.in, got, err)
		}
	}
}

func FuzzExpandEnv(f *testing.F) {
	for _, s := range []string{"${A}", "${A:-d}", "${A-d}", "${A:?msg}", "${A?msg}", "${E:?m}", "$${A}", "${", "${A:=x}", "a$b${U:-${A}}", "${1A}"} {
		f.Add(s)
	}
	const value = "SECRETVALUE"
	lookup := func(name string) (string, bool) {
		switch name {
		case "A":
			return value, true
		case "E":
			return "", true
		}
		return "", false
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, col, err := expandEnv(s, lookup)
		if err != nil {
			if strings.Contains(err.Error(), value) && !strings.Contains(s, value) {
				t.Fatalf("error shows a value: %v", err)
			}
			if col < 0 || col > len(s) {
				t.Fatalf("col %d outside %q", col, s)
			}
			if len(err.Error()) > 1000 {
				t.Fatalf("error of %d bytes", len(err.Error()))
			}
			return
		}
		if !strings.Contains(s, "$") && out != s {
			t.Fatalf("%q changed to %q without a $", s, out)
		}
	})
}

func FuzzParseByteSize(f *testing.F) {
	for _, s := range []string{"0", "512MiB", "1.5 GiB", "-1KB", "9223372036854775807", "1e9", "99999999999999999999.5GiB", " 16 mib "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseByteSize(s)
		if err != nil {
			return
		}
		if n > 0 && n%(1<<10) == 0 {
			back, err := ParseByteSize(FormatBytes(n))
			if err != nil || back != n {
				t.Fatalf("%q = %d, FormatBytes %q reads back as %d, %v", s, n, FormatBytes(n), back, err)
			}
		}
	})
}
