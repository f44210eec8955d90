package metrics

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

const (
	testUser     = "ops"
	testPassword = "correct horse battery staple"
	testToken    = "tok-3f9a0c7d5e1b"
)

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// TestGuardMatrix runs every path under each protection against each kind
// of credentials, right and wrong.
func TestGuardMatrix(t *testing.T) {
	configs := []struct {
		name  string
		creds *Credentials
	}{
		{"none", nil},
		{"basic", &Credentials{Username: testUser, Password: []byte(testPassword)}},
		{"bearer", &Credentials{Token: []byte(testToken)}},
		{"both", &Credentials{Username: testUser, Password: []byte(testPassword), Token: []byte(testToken)}},
		{"basic+metrics+healthz", &Credentials{Username: testUser, Password: []byte(testPassword), ProtectMetrics: true, ProtectHealthz: true}},
		{"bearer+metrics", &Credentials{Token: []byte(testToken), ProtectMetrics: true}},
	}
	sent := []struct {
		name, header string
		scheme       string // the scheme whose right credentials these are; "" for none
	}{
		{"no credentials", "", ""},
		{"right basic", basic(testUser, testPassword), "basic"},
		{"wrong password", basic(testUser, testPassword+"x"), ""},
		{"wrong user", basic("root", testPassword), ""},
		{"password as token", "Bearer " + testPassword, ""},
		{"right bearer", "Bearer " + testToken, "bearer"},
		{"right bearer, lower-case scheme", "bearer " + testToken, "bearer"},
		{"wrong bearer", "Bearer " + testToken + "0", ""},
		{"token prefix", "Bearer " + testToken[:len(testToken)-1], ""},
		{"token as password", basic(testUser, testToken), ""},
	}
	paths := []string{"/status", "/api/v1/status", "/metrics", "/healthz", "/", "/metrics/", "/status/x"}
	for _, c := range configs {
		g := NewGuard(c.creds)
		h := g.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "content of "+r.URL.Path) }))
		for _, path := range paths {
			for _, s := range sent {
				t.Run(c.name+path+"/"+s.name, func(t *testing.T) {
					covered := c.creds != nil
					if path == "/metrics" && (c.creds == nil || !c.creds.ProtectMetrics) || path == "/healthz" && (c.creds == nil || !c.creds.ProtectHealthz) {
						covered = false
					}
					accepted := s.scheme == "basic" && c.creds != nil && len(c.creds.Password) > 0 ||
						s.scheme == "bearer" && c.creds != nil && len(c.creds.Token) > 0
					req := httptest.NewRequest(http.MethodGet, path, nil)
					if s.header != "" {
						req.Header.Set("Authorization", s.header)
					}
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					body, _ := io.ReadAll(rec.Body)
					if !covered || accepted {
						if rec.Code != 200 || string(body) != "content of "+path {
							t.Fatalf("got %d %q, want the content", rec.Code, body)
						}
						return
					}
					if rec.Code != http.StatusUnauthorized || strings.Contains(string(body), "content") {
						t.Fatalf("got %d %q, want 401 without the content", rec.Code, body)
					}
					challenges := rec.Header().Values("WWW-Authenticate")
					if len(c.creds.Password) > 0 && !slices.Contains(challenges, `Basic realm="heartbeat", charset="UTF-8"`) ||
						len(c.creds.Token) > 0 && !slices.Contains(challenges, `Bearer realm="heartbeat"`) {
						t.Errorf("WWW-Authenticate %q", challenges)
					}
					for _, secret := range []string{testPassword, testToken} {
						if strings.Contains(string(body), secret) || strings.Contains(fmt.Sprint(rec.Header()), secret) {
							t.Errorf("the answer shows a secret: %q %v", body, rec.Header())
						}
					}
				})
			}
		}
	}
}

func TestGuardSetOnReload(t *testing.T) {
	g := NewGuard(&Credentials{Token: []byte("old-token")})
	h := g.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	code := func(tok string) int {
		req := httptest.NewRequest(http.MethodGet, "/status", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	if code("old-token") != 200 || code("new-token") != 401 {
		t.Fatal("the first token is not in force")
	}
	g.Set(&Credentials{Token: []byte("new-token")})
	if code("old-token") != 401 || code("new-token") != 200 {
		t.Fatal("a rotated token is not in force at once")
	}
	g.Set(nil)
	if code("") != 200 {
		t.Fatal("removing the protection does not open the address")
	}
}
