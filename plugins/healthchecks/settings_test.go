package main

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/seed-e9b80cf6/heartbeat/plugins/healthchecks/hcfake"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/sdktest"
)

const (
	testUUID    = "5b1c6e4a-8f0d-4c3e-9a1b-2d7f6e5c4b3a"
	testPingKey = "Xq3vN7pL2mR9sT4wY6zA1b"
)

func TestInfo(t *testing.T) {
	info, err := sdktest.Dial(t, target{}).Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "healthchecks" || info.Version != sdk.Version() || info.Description == "" {
		t.Errorf("info %+v", info)
	}
	for _, s := range []sdk.Signal{sdk.SignalSuccess, sdk.SignalStart, sdk.SignalFail, sdk.SignalLog} {
		if !info.Supports(s) {
			t.Errorf("does not support %s", s)
		}
	}
	// Every setting the decoder accepts is documented, and only those.
	var documented []string
	secrets := map[string]bool{}
	for _, s := range info.Settings {
		documented = append(documented, s.Name)
		secrets[s.Name] = s.Secret
		if s.Type == "" || s.Description == "" {
			t.Errorf("setting %s lacks a type or description", s.Name)
		}
	}
	var accepted []string
	rt := reflect.TypeOf(rawSettings{})
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		accepted = append(accepted, name)
	}
	slices.Sort(documented)
	slices.Sort(accepted)
	if !slices.Equal(documented, accepted) {
		t.Errorf("documented settings %v, accepted %v", documented, accepted)
	}
	for name, want := range map[string]bool{"ping_url": true, "uuid": true, "ping_key": true, "base_url": false, "slug": false} {
		if secrets[name] != want {
			t.Errorf("setting %s: secret %v, want %v", name, secrets[name], want)
		}
	}
}

func TestConfigureRejects(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	ping := "https://hc-ping.com/" + testUUID
	tests := []struct {
		name     string
		settings settingsMap
		fields   []string // every field reported, in order
		wording  string   // in the first error's message
	}{
		{"nothing", settingsMap{}, []string{"ping_url"}, "set ping_url"},
		{"only base_url", settingsMap{"base_url": "https://hc.example.com/ping/"}, []string{"ping_url"}, "missing"},
		{"ping_url and uuid", settingsMap{"ping_url": ping, "uuid": testUUID}, []string{"uuid"}, "not both"},
		{"ping_url and base_url", settingsMap{"ping_url": ping, "base_url": "https://hc-ping.com/"}, []string{"base_url"}, "remove base_url"},
		{"ping_url and slug", settingsMap{"ping_url": ping, "ping_key": testPingKey, "slug": "backup"}, []string{"ping_key"}, "not both"},
		{"uuid and slug", settingsMap{"uuid": testUUID, "ping_key": testPingKey, "slug": "backup"}, []string{"uuid"}, "not both"},
		{"bad uuid", settingsMap{"uuid": "5b1c6e4a-8f0d-4c3e-9a1b"}, []string{"uuid"}, "is not a UUID"},
		{"uuid with stray dashes", settingsMap{"uuid": "5b1c6e4a8-f0d-4c3e-9a1b-2d7f6e5c4b3a"}, []string{"uuid"}, "is not a UUID"},
		{"ping_url without uuid", settingsMap{"ping_url": "https://hc-ping.com/"}, []string{"ping_url"}, "has no check UUID"},
		{"ping_url not a uuid", settingsMap{"ping_url": "https://hc-ping.com/not-a-uuid"}, []string{"ping_url"}, "does not end with a check UUID"},
		{"ping_url is a slug URL", settingsMap{"ping_url": "https://hc-ping.com/" + testPingKey + "/backup"}, []string{"ping_url"}, "ping_key and slug"},
		{"ping_url with /fail", settingsMap{"ping_url": ping + "/fail"}, []string{"ping_url"}, "ends with /fail"},
		{"ping_url ftp", settingsMap{"ping_url": "ftp://hc-ping.com/" + testUUID}, []string{"ping_url"}, "http or https"},
		{"ping_url without scheme", settingsMap{"ping_url": "hc-ping.com/" + testUUID}, []string{"ping_url"}, "https://"},
		{"ping_url with query", settingsMap{"ping_url": ping + "?rid=x"}, []string{"ping_url"}, "query"},
		{"ping_url not a URL", settingsMap{"ping_url": "https://hc ping.com/%zz"}, []string{"ping_url"}, "not a URL"},
		{"base_url ftp", settingsMap{"base_url": "ftp://hc.example.com/", "uuid": testUUID}, []string{"base_url"}, "http or https"},
		{"base_url empty", settingsMap{"base_url": "", "uuid": testUUID}, []string{"base_url"}, "is empty"},
		{"base_url with check uuid", settingsMap{"base_url": ping, "uuid": testUUID}, []string{"base_url"}, "ping_url"},
		{"base_url without host", settingsMap{"base_url": "https:///ping/", "uuid": testUUID}, []string{"base_url"}, "no server name"},
		{"slug bad chars", settingsMap{"ping_key": testPingKey, "slug": "db backup"}, []string{"slug"}, "letters, digits"},
		{"slug with dot", settingsMap{"ping_key": testPingKey, "slug": "db.backup"}, []string{"slug"}, "letters, digits"},
		{"slug without ping_key", settingsMap{"slug": "backup"}, []string{"ping_key"}, "ping key"},
		{"ping_key without slug", settingsMap{"ping_key": testPingKey}, []string{"slug"}, "missing"},
		{"ping_key bad chars", settingsMap{"ping_key": "abc/def", "slug": "backup"}, []string{"ping_key"}, "letters, digits"},
		{"create with uuid", settingsMap{"uuid": testUUID, "create": true}, []string{"create"}, "only with ping_key and slug"},
		{"create with ping_url", settingsMap{"ping_url": ping, "create": true}, []string{"create"}, "only with ping_key and slug"},
		{"timeout zero", settingsMap{"ping_url": ping, "timeout": "0s"}, []string{"timeout"}, "more than 0"},
		{"timeout negative", settingsMap{"ping_url": ping, "timeout": -3}, []string{"timeout"}, "more than 0"},
		{"timeout not a duration", settingsMap{"ping_url": ping, "timeout": "soon"}, []string{"timeout"}, "not a duration"},
		{"method PUT", settingsMap{"ping_url": ping, "method": "PUT"}, []string{"method"}, "HEAD, GET or POST"},
		{"unknown setting", settingsMap{"ping_url": ping, "url": "x"}, []string{"url"}, "unknown setting"},
		{"wrong type", settingsMap{"ping_key": testPingKey, "slug": "backup", "create": "yes"}, []string{"create"}, "true or false"},
		{"ca_file missing", settingsMap{"ping_url": ping, "ca_file": filepath.Join(dir, "nope.pem")}, []string{"ca_file"}, "cannot read"},
		{"ca_file not PEM", settingsMap{"ping_url": ping, "ca_file": notPEM}, []string{"ca_file"}, "no PEM certificate"},
		{"all errors at once", settingsMap{"ping_url": "https://hc-ping.com/nope", "method": "PUT", "timeout": "0s", "create": true}, []string{"ping_url", "create", "timeout", "method"}, ""},
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
				for _, secret := range []string{testUUID, testPingKey} {
					if strings.Contains(fe.Message, secret) {
						t.Errorf("error %q shows a secret", fe.Message)
					}
				}
			}
			if !slices.Equal(fields, tt.fields) {
				t.Fatalf("fields %v, want %v (%v)", fields, tt.fields, err)
			}
			if !strings.Contains(errs[0].Message, tt.wording) {
				t.Errorf("message %q lacks %q", errs[0].Message, tt.wording)
			}
		})
	}
}

// TestConfigureAccepts checks the forms users write, and where each sends
// its pings.
func TestConfigureAccepts(t *testing.T) {
	srv := hcfake.New(t, hcfake.Config{PathPrefix: "/hc/ping/"})
	id := srv.AddCheck(hcfake.NewUUID())
	srv.AddSlugCheck(testPingKey, "backup")
	srv.AddSlugCheck(testPingKey, "Db_Backup")
	base := srv.BaseURL() // http://127.0.0.1:port/hc/ping/
	tests := []struct {
		name     string
		settings settingsMap
		path     string // of the success ping
		desc     string // in Describe
	}{
		{"ping_url", settingsMap{"ping_url": srv.PingURL(id)}, "/hc/ping/" + id, "POST/GET " + strings.TrimSuffix(base, "/") + "/…" + id[32:] + " (timeout 10s)"},
		{"ping_url upper case", settingsMap{"ping_url": base + strings.ToUpper(id)}, "/hc/ping/" + id, "/hc/ping/…"},
		{"ping_url without dashes", settingsMap{"ping_url": base + strings.ReplaceAll(id, "-", "")}, "/hc/ping/" + id, "/hc/ping/…"},
		{"ping_url trailing slash and spaces", settingsMap{"ping_url": " " + srv.PingURL(id) + "/ "}, "/hc/ping/" + id, "/hc/ping/…"},
		{"base_url and uuid", settingsMap{"base_url": base, "uuid": id}, "/hc/ping/" + id, "/hc/ping/…"},
		{"base_url without trailing slash", settingsMap{"base_url": strings.TrimSuffix(base, "/"), "uuid": strings.ToUpper(id)}, "/hc/ping/" + id, "/hc/ping/…"},
		{"slug", settingsMap{"base_url": base, "ping_key": testPingKey, "slug": "backup"}, "/hc/ping/" + testPingKey + "/backup", "/hc/ping/…" + testPingKey[18:] + "/backup"},
		{"slug with upper case (warned, not refused)", settingsMap{"base_url": base, "ping_key": testPingKey, "slug": "Db_Backup"}, "/hc/ping/" + testPingKey + "/Db_Backup", "/Db_Backup"},
		{"method and timeout", settingsMap{"ping_url": srv.PingURL(id), "method": "head", "timeout": 2.5}, "/hc/ping/" + id, "HEAD http://"},
		{"timeout string", settingsMap{"ping_url": srv.PingURL(id), "timeout": "1m30s"}, "/hc/ping/" + id, "(timeout 1m30s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, desc := mustConfigure(t, tt.settings)
			if !strings.Contains(desc, tt.desc) {
				t.Errorf("Describe() = %q, want it to contain %q", desc, tt.desc)
			}
			if _, err := beat(t, c, sdk.Beat{Signal: sdk.SignalSuccess}); err != nil {
				t.Fatal(err)
			}
			r, _ := srv.LastRequest()
			if r.Path != tt.path {
				t.Errorf("pinged %s, want %s", r.Path, tt.path)
			}
		})
	}
}

func TestConfigureDefaultsToHostedServer(t *testing.T) {
	_, desc := mustConfigure(t, settingsMap{"uuid": testUUID})
	if want := "https://hc-ping.com/…" + testUUID[32:]; !strings.Contains(desc, want) {
		t.Errorf("Describe() = %q, want it to contain %q", desc, want)
	}
	_, desc = mustConfigure(t, settingsMap{"ping_key": testPingKey, "slug": "backup", "create": true})
	if !strings.Contains(desc, "https://hc-ping.com/…") || !strings.Contains(desc, "creates the check") {
		t.Errorf("Describe() = %q", desc)
	}
}
