package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// authConfig writes secret files into a temporary directory and returns a
// config around the listen_auth block, with the file paths substituted
// for {dir}.
func authConfig(t *testing.T, files map[string]string, block string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	src := minimal("listen: 127.0.0.1:9464\nlisten_auth:\n"+strings.ReplaceAll(block, "{dir}", dir), "")
	return filepath.Join(dir, "c.yaml"), src
}

func TestListenAuth(t *testing.T) {
	files := map[string]string{"pw": "s3cret pass\n", "tok": "tok-abc123\r\n"}
	tests := []struct {
		name  string
		block string
		want  ListenAuth
	}{
		{"basic", "  username: ops\n  password_file: {dir}/pw\n", ListenAuth{Username: "ops", Password: Secret("s3cret pass")}},
		{"bearer", "  bearer_token_file: {dir}/tok\n", ListenAuth{BearerToken: Secret("tok-abc123")}},
		{"relative to the config", "  bearer_token_file: tok\n  protect_metrics: true\n", ListenAuth{BearerToken: Secret("tok-abc123"), ProtectMetrics: true}},
		{"both, everything covered", "  username: ops\n  password_file: {dir}/pw\n  bearer_token_file: {dir}/tok\n  protect_metrics: true\n  protect_healthz: true\n",
			ListenAuth{Username: "ops", Password: Secret("s3cret pass"), BearerToken: Secret("tok-abc123"), ProtectMetrics: true, ProtectHealthz: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, src := authConfig(t, files, tt.block)
			cfg, err := Parse(path, []byte(src), env(nil))
			if err != nil {
				t.Fatal(err)
			}
			a := cfg.ListenAuth
			if a == nil || a.Username != tt.want.Username || string(a.Password) != string(tt.want.Password) || string(a.BearerToken) != string(tt.want.BearerToken) ||
				a.ProtectMetrics != tt.want.ProtectMetrics || a.ProtectHealthz != tt.want.ProtectHealthz {
				t.Fatalf("got %+v, want %+v", a, tt.want)
			}
			if cfg.ListenWarning() != nil {
				t.Error("a protected loopback address is warned about")
			}
			// A secret never prints, whatever the verb.
			for _, s := range []string{fmt.Sprint(a), fmt.Sprintf("%+v %#v %s %x %q", a, a, a.Password, a.BearerToken, a.Password)} {
				if strings.Contains(s, "s3cret") || strings.Contains(s, "tok-abc") || strings.Contains(s, "746f6b2d") {
					t.Errorf("a secret prints: %s", s)
				}
			}
		})
	}
}

func TestListenAuthErrors(t *testing.T) {
	files := map[string]string{"pw": "pw\n", "empty": "\n", "two-lines": "a\nb\n", "spaced-token": "tok en\n", "big": strings.Repeat("x", maxSecretFile+1)}
	// Line 2 is listen_auth:, its keys start on line 3, column 3.
	tests := []struct {
		name    string
		block   string
		wantPos string
		want    []string
	}{
		{"inline password", "  username: ops\n  password: hunter2\n", "c.yaml:4:3", []string{"password cannot be written in the config", "fix: write password_file: /path"}},
		{"inline token", "  bearer_token: abc\n", "c.yaml:3:3", []string{"bearer_token cannot be written in the config", "bearer_token_file"}},
		{"username without password", "  username: ops\n", "c.yaml:3:3", []string{"username is set without password_file"}},
		{"password without username", "  password_file: {dir}/pw\n", "c.yaml:3:3", []string{"password_file is set without username"}},
		{"no credentials", "  protect_metrics: true\n", "c.yaml:3:3", []string{"listen_auth has no credentials"}},
		{"missing file", "  bearer_token_file: {dir}/nope\n", "c.yaml:3:22", []string{"bearer_token_file", "no such file", "fix: check the path"}},
		{"empty file", "  bearer_token_file: {dir}/empty\n", "c.yaml:3:22", []string{"is empty"}},
		{"password on two lines", "  username: ops\n  password_file: {dir}/two-lines\n", "c.yaml:4:18", []string{"more than one line"}},
		{"token with a space", "  bearer_token_file: {dir}/spaced-token\n", "c.yaml:3:22", []string{"HTTP headers cannot carry"}},
		{"large file", "  bearer_token_file: {dir}/big\n", "c.yaml:3:22", []string{"larger than 4096 bytes"}},
		{"a directory", "  bearer_token_file: {dir}\n", "c.yaml:3:22", []string{"not a regular file"}},
		{"colon in user name", "  username: \"a:b\"\n  password_file: {dir}/pw\n", "c.yaml:3:13", []string{"cannot be used with basic auth"}},
		{"protect not a bool", "  bearer_token_file: {dir}/pw\n  protect_healthz: yes please\n", "c.yaml:4:20", []string{"protect_healthz must be true or false"}},
		{"unknown key", "  bearer_token_fil: {dir}/pw\n", "c.yaml:3:3", []string{`did you mean "bearer_token_file"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, src := authConfig(t, files, tt.block)
			_, err := Parse(path, []byte(src), env(nil))
			if err == nil {
				t.Fatal("no error")
			}
			msg := strings.ReplaceAll(err.Error(), filepath.Dir(path)+"/", "")
			if !strings.HasPrefix(msg, tt.wantPos+": ") {
				t.Errorf("error at the wrong place, want %s:\n%s", tt.wantPos, msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q:\n%s", w, msg)
				}
			}
			for _, secret := range []string{"hunter2", "tok en"} {
				if strings.Contains(msg, secret) {
					t.Errorf("error shows a secret: %s", msg)
				}
			}
		})
	}
}

func TestListenAuthWithoutListen(t *testing.T) {
	_, err := Parse("c.yaml", []byte(minimal("listen_auth:\n  bearer_token_file: /x\n", "")), env(nil))
	if err == nil || !strings.HasPrefix(err.Error(), "c.yaml:1:1: listen_auth is set but listen is not") {
		t.Fatalf("got %v", err)
	}
}

func TestListenWarning(t *testing.T) {
	tests := []struct {
		listen string
		warn   bool
	}{
		{"127.0.0.1:9464", false},
		{"127.0.0.2:9464", false},
		{"localhost:9464", false},
		{"[::1]:9464", false},
		{":9464", true},
		{"0.0.0.0:9464", true},
		{"192.0.2.10:9464", true},
		{"[::]:9464", true},
		{"status.example.com:9464", true},
	}
	for _, tt := range tests {
		t.Run(tt.listen, func(t *testing.T) {
			cfg, err := Parse("c.yaml", []byte(minimal(fmt.Sprintf("listen: %q\n", tt.listen), "")), env(nil))
			if err != nil {
				t.Fatal(err)
			}
			w := cfg.ListenWarning()
			if (w != nil) != tt.warn {
				t.Fatalf("warning %v, want one: %v", w, tt.warn)
			}
			if w != nil && (!strings.HasPrefix(w.Error(), "c.yaml:1:9: listen: ") || !strings.Contains(w.Error(), "listen_auth")) {
				t.Errorf("warning %q", w)
			}
		})
	}
}
