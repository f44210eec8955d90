package pushurl

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const (
	uuid    = "0b6f4e52-3c1a-4d8e-9f27-5a9c1e7d3b40"
	pingKey = "hPz3lXbG0k4vVd9sW1qAbC"
	token   = "Qm9vT0tlbjEyMzQ1Ng"
)

func TestRecognize(t *testing.T) {
	cases := []struct {
		name     string
		url      string
		plugin   string
		settings map[string]any
		display  string
		warn     bool
	}{
		{"hosted uuid", "https://hc-ping.com/" + uuid, Healthchecks,
			map[string]any{"base_url": "https://hc-ping.com/", "uuid": uuid}, "https://hc-ping.com/…3b40", false},
		{"hosted uuid trailing slash", "https://hc-ping.com/" + uuid + "/", Healthchecks,
			map[string]any{"base_url": "https://hc-ping.com/", "uuid": uuid}, "", false},
		{"hosted uuid upper case", "https://hc-ping.com/" + strings.ToUpper(uuid), Healthchecks,
			map[string]any{"base_url": "https://hc-ping.com/", "uuid": strings.ToUpper(uuid)}, "", false},
		{"hosted slug", "https://hc-ping.com/" + pingKey + "/db-backup", Healthchecks,
			map[string]any{"base_url": "https://hc-ping.com/", "ping_key": pingKey, "slug": "db-backup"}, "https://hc-ping.com/…qAbC/db-backup", false},
		{"hosted slug create", "https://hc-ping.com/" + pingKey + "/db-backup?create=1", Healthchecks,
			map[string]any{"base_url": "https://hc-ping.com/", "ping_key": pingKey, "slug": "db-backup", "create": true}, "", false},
		{"hosted slug create=0", "https://hc-ping.com/" + pingKey + "/db-backup?create=0", Healthchecks,
			map[string]any{"base_url": "https://hc-ping.com/", "ping_key": pingKey, "slug": "db-backup"}, "", false},
		{"self-hosted uuid", "http://127.0.0.1:8000/ping/" + uuid, Healthchecks,
			map[string]any{"base_url": "http://127.0.0.1:8000/ping/", "uuid": uuid}, "http://127.0.0.1:8000/ping/…3b40", false},
		{"self-hosted under a prefix", "https://example.com/hc/ping/" + uuid + "/", Healthchecks,
			map[string]any{"base_url": "https://example.com/hc/ping/", "uuid": uuid}, "", false},
		{"self-hosted slug create", "https://example.com/ping/" + pingKey + "/nightly_ETL/?create=1", Healthchecks,
			map[string]any{"base_url": "https://example.com/ping/", "ping_key": pingKey, "slug": "nightly_ETL", "create": true}, "", false},
		{"unknown query parameter dropped with a warning", "https://hc-ping.com/" + uuid + "?foo=bar", Healthchecks,
			map[string]any{"base_url": "https://hc-ping.com/", "uuid": uuid}, "", true},
		{"kuma push URL as the UI shows it", "https://kuma.example.com/api/push/" + token + "?status=up&msg=OK&ping=", UptimeKuma,
			map[string]any{"push_url": "https://kuma.example.com/api/push/" + token + "?status=up&msg=OK&ping="}, "https://kuma.example.com/api/push/…Q1Ng", false},
		{"kuma under a prefix with trailing slash", "http://127.0.0.1:3001/kuma/api/push/" + token + "/", UptimeKuma,
			map[string]any{"push_url": "http://127.0.0.1:3001/kuma/api/push/" + token + "/"}, "", false},
		{"plain URL", "https://example.com/hooks/ping?key=abc", HTTP,
			map[string]any{"url": "https://example.com/hooks/ping?key=abc"}, "https://example.com/…?…", false},
		{"short segments after /ping/ are not a ping key", "https://example.com/ping/a/b", HTTP,
			map[string]any{"url": "https://example.com/ping/a/b"}, "", false},
		{"path /ping alone", "https://example.com/ping", HTTP,
			map[string]any{"url": "https://example.com/ping"}, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Recognize(c.url)
			if err != nil {
				t.Fatalf("Recognize: %v", err)
			}
			if got.Plugin != c.plugin {
				t.Errorf("plugin %q, want %q", got.Plugin, c.plugin)
			}
			if !reflect.DeepEqual(got.Settings, c.settings) {
				t.Errorf("settings %v, want %v", got.Settings, c.settings)
			}
			if c.display != "" && got.Display != c.display {
				t.Errorf("display %q, want %q", got.Display, c.display)
			}
			if (len(got.Warnings) > 0) != c.warn {
				t.Errorf("warnings %q, want some: %v", got.Warnings, c.warn)
			}
			for _, secret := range []string{uuid, strings.ToUpper(uuid), pingKey, token} {
				if strings.Contains(got.Display, secret) || strings.Contains(strings.Join(got.Warnings, " "), secret) {
					t.Errorf("display or warnings hold the secret: %q %q", got.Display, got.Warnings)
				}
			}
		})
	}
}

func TestRecognizeErrors(t *testing.T) {
	cases := []struct{ name, url, want string }{
		{"empty", " ", "is empty"},
		{"no scheme", "hc-ping.com/" + uuid, "must start with https://"},
		{"ftp", "ftp://example.com/x", "not ftp://"},
		{"no host", "https:///ping/" + uuid, "no host"},
		{"fragment", "https://hc-ping.com/" + uuid + "#x", "fragment"},
		{"start suffix", "https://hc-ping.com/" + uuid + "/start", "remove it"},
		{"exit code suffix", "https://example.com/ping/" + uuid + "/3", "remove it"},
		{"slug fail suffix", "https://example.com/ping/" + pingKey + "/backup/fail", "remove it"},
		{"junk after uuid", "https://example.com/ping/" + uuid + "/junk", "after the check's UUID"},
		{"create on uuid", "https://hc-ping.com/" + uuid + "?create=1", "by slug only"},
		{"create=true", "https://hc-ping.com/" + pingKey + "/x?create=true", "write create=1"},
		{"rid", "https://hc-ping.com/" + uuid + "?rid=" + uuid, "rid"},
		{"hosted other path", "https://hc-ping.com/nope", "not a check's ping URL"},
		{"kuma without token", "https://kuma.example.com/api/push/", "push token"},
		{"kuma extra path", "https://kuma.example.com/api/push/" + token + "/more", "push token"},
		{"too long", "https://example.com/" + strings.Repeat("a", maxURL), "longer than"},
		{"invalid", "https://exa mple.com/" + uuid, "not a valid URL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Recognize(c.url)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
			for _, secret := range []string{uuid, pingKey, token} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error quotes a secret: %v", err)
				}
			}
		})
	}
}

func TestHealthchecksCheck(t *testing.T) {
	cases := []struct {
		name                 string
		api, uuid, key, slug string
		create               bool
		settings             map[string]any
		wantErr              string
	}{
		{name: "uuid on hc-ping.com by default", uuid: uuid,
			settings: map[string]any{"base_url": "https://hc-ping.com/", "uuid": uuid}},
		{name: "uuid wins over slug, as in runitor", uuid: uuid, key: pingKey, slug: "x",
			settings: map[string]any{"base_url": "https://hc-ping.com/", "uuid": uuid}},
		{name: "self-hosted api url", api: "http://127.0.0.1:8000/ping", key: pingKey, slug: "backup", create: true,
			settings: map[string]any{"base_url": "http://127.0.0.1:8000/ping/", "ping_key": pingKey, "slug": "backup", "create": true}},
		{name: "slug without key", slug: "backup", wantErr: "--ping-key"},
		{name: "key without slug", key: pingKey, wantErr: "--slug"},
		{name: "nothing", wantErr: "pass a check UUID"},
		{name: "bad uuid", uuid: "nope", wantErr: "not a UUID"},
		{name: "create with uuid", uuid: uuid, create: true, wantErr: "by slug"},
		{name: "bad api url", api: "hc-ping.com", uuid: uuid, wantErr: "API URL"},
		{name: "bad slug", key: pingKey, slug: "a b", wantErr: "letters, digits"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := HealthchecksCheck(c.api, c.uuid, c.key, c.slug, c.create)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Plugin != Healthchecks || !reflect.DeepEqual(got.Settings, c.settings) {
				t.Errorf("got %s %v, want %v", got.Plugin, got.Settings, c.settings)
			}
			if strings.Contains(got.Display, uuid) || strings.Contains(got.Display, pingKey) {
				t.Errorf("display holds a secret: %s", got.Display)
			}
		})
	}
}

func TestIndirect(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	secret := write("key", "  "+pingKey+"\n")
	empty := write("empty", " \n")
	big := write("big", strings.Repeat("x", maxIndirect+1))
	cases := []struct{ in, want, wantErr string }{
		{in: pingKey, want: pingKey},
		{in: "file:" + secret, want: pingKey},
		{in: "file:" + empty, wantErr: "is empty"},
		{in: "file:" + big, wantErr: "larger than"},
		{in: "file:" + filepath.Join(dir, "missing"), wantErr: "no such file"},
		{in: "file:", wantErr: "needs a path"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := Indirect(c.in)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("got %q, %v; want %q", got, err, c.want)
			}
		})
	}
}
