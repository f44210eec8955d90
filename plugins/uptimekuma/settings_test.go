package main

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/uptimekuma/kumafake"
)

// secretToken appears in settings of the tests below; no message may show it.
const secretToken = "Zq8rSECRETpushTOKENabcdefgh1234"

func TestInfo(t *testing.T) {
	info, err := dial(t).c.Info(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "uptimekuma" || info.Version != sdk.Version() || info.Description == "" {
		t.Errorf("info = %+v", info)
	}
	if want := []sdk.Signal{sdk.SignalSuccess, sdk.SignalFail}; !slices.Equal(info.Signals, want) {
		t.Errorf("signals = %v, want %v", info.Signals, want)
	}
	secret := map[string]bool{}
	var names []string
	for _, s := range info.Settings {
		names = append(names, s.Name)
		secret[s.Name] = s.Secret
		if s.Type == "" || s.Description == "" {
			t.Errorf("setting %s is not documented: %+v", s.Name, s)
		}
	}
	slices.Sort(names)
	if want := []string{"base_url", "ca_file", "headers", "insecure_skip_verify", "push_url", "timeout", "token"}; !slices.Equal(names, want) {
		t.Errorf("settings = %v, want %v", names, want)
	}
	for name, want := range map[string]bool{"push_url": true, "token": true, "headers": true, "base_url": false, "timeout": false} {
		if secret[name] != want {
			t.Errorf("setting %s secret = %v, want %v", name, secret[name], want)
		}
	}
}

func TestConfigureErrors(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	const kuma = "https://kuma.example.com"
	push := kuma + "/api/push/" + secretToken

	tests := []struct {
		name     string
		settings conf
		// want maps each expected field to a part of its message.
		want map[string]string
	}{
		{"nothing", conf{}, map[string]string{"push_url": "is required"}},
		{"push_url and base_url", conf{"push_url": push, "base_url": kuma}, map[string]string{"push_url": "not both"}},
		{"push_url and token", conf{"push_url": push, "token": secretToken}, map[string]string{"push_url": "not both"}},
		{"base_url without token", conf{"base_url": kuma}, map[string]string{"token": "is required with base_url"}},
		{"token without base_url", conf{"token": secretToken}, map[string]string{"base_url": "is required with token"}},
		{"push_url bad scheme", conf{"push_url": "ftp://kuma.example.com/api/push/" + secretToken}, map[string]string{"push_url": "http:// or https://, not ftp://"}},
		{"push_url no scheme", conf{"push_url": "kuma.example.com/api/push/" + secretToken}, map[string]string{"push_url": "must start with http:// or https://"}},
		{"push_url no host", conf{"push_url": "https:///api/push/" + secretToken}, map[string]string{"push_url": "has no host"}},
		{"push_url not a push url", conf{"push_url": kuma + "/dashboard/12"}, map[string]string{"push_url": "/api/push/<token>"}},
		{"push_url empty token", conf{"push_url": kuma + "/api/push/?status=up&msg=OK&ping="}, map[string]string{"push_url": "no push token"}},
		{"push_url no token", conf{"push_url": kuma + "/api/push"}, map[string]string{"push_url": "no push token"}},
		{"push_url path after token", conf{"push_url": push + "/extra"}, map[string]string{"push_url": "must end with the push token"}},
		{"push_url token with space", conf{"push_url": kuma + "/api/push/" + secretToken + "%20x"}, map[string]string{"push_url": "spaces"}},
		{"push_url token with dot dot", conf{"push_url": kuma + "/api/push/.."}, map[string]string{"push_url": "not a push token"}},
		{"push_url bad escape", conf{"push_url": push + "%zz"}, map[string]string{"push_url": "not a valid URL"}},
		{"push_url bad query", conf{"push_url": push + "?status=up&%zz"}, map[string]string{"push_url": "invalid query"}},
		{"push_url not a string", conf{"push_url": 5}, map[string]string{"push_url": "must be a string"}},
		{"base_url is a push url", conf{"base_url": push, "token": secretToken}, map[string]string{"base_url": "is a push URL"}},
		{"base_url with query", conf{"base_url": kuma + "?x=1", "token": secretToken}, map[string]string{"base_url": "query"}},
		{"base_url bad scheme", conf{"base_url": "kuma.example.com", "token": secretToken}, map[string]string{"base_url": "http://"}},
		{"token with slash", conf{"base_url": kuma, "token": "api/push/" + secretToken}, map[string]string{"token": "must not contain /"}},
		{"token with ui tail", conf{"base_url": kuma, "token": secretToken + "?status=up&msg=OK&ping="}, map[string]string{"token": "?status=up"}},
		{"token with newline", conf{"base_url": kuma, "token": secretToken + "\n"}, map[string]string{"token": "spaces or control"}},
		{"token dot", conf{"base_url": kuma, "token": "."}, map[string]string{"token": "not a push token"}},
		{"timeout zero", conf{"push_url": push, "timeout": "0s"}, map[string]string{"timeout": "more than 0s"}},
		{"timeout negative", conf{"push_url": push, "timeout": -5}, map[string]string{"timeout": "more than 0s"}},
		{"timeout not a duration", conf{"push_url": push, "timeout": "soon"}, map[string]string{"timeout": "not a duration"}},
		{"ca_file missing", conf{"push_url": push, "ca_file": filepath.Join(dir, "missing.pem")}, map[string]string{"ca_file": "cannot read"}},
		{"ca_file not PEM", conf{"push_url": push, "ca_file": notPEM}, map[string]string{"ca_file": "no PEM certificate"}},
		{"insecure_skip_verify not bool", conf{"push_url": push, "insecure_skip_verify": "yes"}, map[string]string{"insecure_skip_verify": "true or false"}},
		{"unknown setting", conf{"push_url": push, "url": push}, map[string]string{"url": "unknown setting"}},
		{"every error at once", conf{"base_url": "ftp://x", "token": "a/b", "timeout": "0s", "ca_file": notPEM},
			map[string]string{"base_url": "http://", "token": "must not contain /", "timeout": "more than 0s", "ca_file": "no PEM"}},
	}
	p := dial(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.configure(tt.settings)
			if err == nil {
				t.Fatal("configure accepted invalid settings")
			}
			var fes sdk.FieldErrors
			if !errors.As(err, &fes) {
				t.Fatalf("error %T %v is not field errors", err, err)
			}
			got := map[string]string{}
			for _, fe := range fes {
				got[fe.Field] = fe.Message
			}
			if len(got) != len(tt.want) {
				t.Errorf("fields = %v, want %v", got, tt.want)
			}
			for field, part := range tt.want {
				msg, ok := got[field]
				if !ok {
					t.Errorf("no error for %s; got %v", field, got)
				} else if !strings.Contains(msg, part) {
					t.Errorf("%s: %q does not say %q", field, msg, part)
				}
			}
			if strings.Contains(err.Error(), secretToken) {
				t.Errorf("error shows the token: %v", err)
			}
		})
	}
}

func TestConfigureAccepts(t *testing.T) {
	const token = "aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gH"
	tests := []struct {
		name     string
		prefix   string
		settings func(s *kumafake.Server) conf
		wantPath string
		wantDesc string
	}{
		{"push_url as the UI shows it", "", func(s *kumafake.Server) conf { return conf{"push_url": s.PushURL(token)} },
			"/api/push/" + token, "GET URL/api/push/…E1gH"},
		{"push_url without the UI tail", "", func(s *kumafake.Server) conf { return conf{"push_url": s.URL + "/api/push/" + token} },
			"/api/push/" + token, ""},
		{"push_url with trailing slash and space", "", func(s *kumafake.Server) conf { return conf{"push_url": " " + s.URL + "/api/push/" + token + "/ "} },
			"/api/push/" + token, ""},
		{"push_url upper-case scheme", "", func(s *kumafake.Server) conf {
			return conf{"push_url": "HTTP://" + strings.TrimPrefix(s.URL, "http://") + "/api/push/" + token}
		}, "/api/push/" + token, ""},
		{"push_url behind a path prefix", "/kuma", func(s *kumafake.Server) conf { return conf{"push_url": s.PushURL(token)} },
			"/kuma/api/push/" + token, "GET URL/kuma/api/push/…E1gH"},
		{"base_url and token", "", func(s *kumafake.Server) conf { return conf{"base_url": s.URL, "token": token} },
			"/api/push/" + token, "GET URL/api/push/…E1gH"},
		{"base_url with trailing slash", "", func(s *kumafake.Server) conf { return conf{"base_url": s.URL + "/", "token": token} },
			"/api/push/" + token, ""},
		{"base_url with path prefix", "/kuma", func(s *kumafake.Server) conf { return conf{"base_url": s.URL + "/kuma/", "token": token} },
			"/kuma/api/push/" + token, "GET URL/kuma/api/push/…E1gH"},
		{"base_url with nested prefix", "/tools/kuma", func(s *kumafake.Server) conf {
			return conf{"base_url": s.URL + "/tools/kuma", "token": token, "timeout": 5}
		}, "/tools/kuma/api/push/" + token, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := kumafake.New(t, kumafake.Options{Prefix: tt.prefix})
			s.AddMonitorWithToken(token)
			p := dial(t)
			desc := p.mustConfigure(tt.settings(s))
			if want := strings.ReplaceAll(tt.wantDesc, "URL", s.URL); want != "" && desc != want {
				t.Errorf("description = %q, want %q", desc, want)
			}
			if strings.Contains(desc, token) {
				t.Errorf("description shows the token: %q", desc)
			}
			res, err := p.beat(success())
			if err != nil {
				t.Fatalf("beat: %v", err)
			}
			if res.Detail != "200 ok" {
				t.Errorf("detail = %q, want 200 ok", res.Detail)
			}
			push := lastPush(t, s)
			if push.Path != tt.wantPath || push.Token != token || push.Method != "GET" {
				t.Errorf("push = %s %s (token %q), want GET %s", push.Method, push.Path, push.Token, tt.wantPath)
			}
			if b := s.Beats(token); len(b) != 1 || b[0].Status != kumafake.Up {
				t.Errorf("stored %+v, want one UP", b)
			}
		})
	}
}

// A token with characters that need escaping reaches Uptime Kuma intact.
func TestTokenEscaping(t *testing.T) {
	const token = "a%b+c~é;x@y"
	for _, settings := range []func(s *kumafake.Server) conf{
		func(s *kumafake.Server) conf { return conf{"base_url": s.URL, "token": token} },
		func(s *kumafake.Server) conf { return conf{"push_url": s.PushURL(token)} },
	} {
		s := kumafake.New(t, kumafake.Options{})
		s.AddMonitorWithToken(token)
		p := dial(t)
		p.mustConfigure(settings(s))
		if _, err := p.beat(success()); err != nil {
			t.Fatalf("beat: %v", err)
		}
		if got := lastPush(t, s).Token; got != token {
			t.Errorf("token = %q, want %q", got, token)
		}
	}
}

// Other query parameters of push_url are kept; the UI's are replaced.
func TestPushURLKeepsOtherParameters(t *testing.T) {
	s := kumafake.New(t, kumafake.Options{})
	token := s.AddMonitor()
	p := dial(t)
	p.mustConfigure(conf{"push_url": s.PushURL(token) + "&proxy_key=k1#frag"})
	if _, err := p.beat(fail()); err != nil {
		t.Fatal(err)
	}
	q := lastPush(t, s).Query
	if q.Get("proxy_key") != "k1" || len(q["status"]) != 1 || q.Get("status") != "down" || len(q["msg"]) != 1 || q.Has("ping") {
		t.Errorf("query = %v", q)
	}
}
