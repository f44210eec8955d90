package metrics

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
	"sync/atomic"
)

// Credentials protect the listen address. Every path is covered but
// /metrics and /healthz, which are covered when asked.
type Credentials struct {
	// Username and Password are the basic auth credentials; basic auth is
	// off when Password is empty.
	Username string
	Password []byte
	// Token is the bearer token; off when empty.
	Token                          []byte
	ProtectMetrics, ProtectHealthz bool
}

// Realm names the protected space in WWW-Authenticate.
const Realm = "heartbeat"

// Guard checks requests against the credentials in force. Set replaces
// them (a reload) while requests are served.
type Guard struct {
	state atomic.Pointer[guardState]
}

// guardState keeps hashes, not the secrets: comparing hashes of equal
// length in constant time says nothing of the secret's length.
type guardState struct {
	basic, bearer    bool
	user, pass, tok  [sha256.Size]byte
	metrics, healthz bool
}

// NewGuard returns a Guard with c in force; nil c lets every request in.
func NewGuard(c *Credentials) *Guard {
	g := &Guard{}
	g.Set(c)
	return g
}

// Set puts c in force; nil lets every request in.
func (g *Guard) Set(c *Credentials) {
	if c == nil || (len(c.Password) == 0 && len(c.Token) == 0) {
		g.state.Store(nil)
		return
	}
	s := &guardState{metrics: c.ProtectMetrics, healthz: c.ProtectHealthz}
	if len(c.Password) > 0 {
		s.basic, s.user, s.pass = true, sha256.Sum256([]byte(c.Username)), sha256.Sum256(c.Password)
	}
	if len(c.Token) > 0 {
		s.bearer, s.tok = true, sha256.Sum256(c.Token)
	}
	g.state.Store(s)
}

// Wrap answers 401 with a WWW-Authenticate challenge to a request for a
// covered path without valid credentials, and passes the others to h.
// Credentials are never logged nor echoed.
func (g *Guard) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := g.state.Load()
		if s == nil || !s.covers(r.URL.Path) || s.allows(r) {
			h.ServeHTTP(w, r)
			return
		}
		hd := w.Header()
		if s.basic {
			hd.Add("WWW-Authenticate", `Basic realm="`+Realm+`", charset="UTF-8"`)
		}
		if s.bearer {
			hd.Add("WWW-Authenticate", `Bearer realm="`+Realm+`"`)
		}
		hd.Set("Cache-Control", "no-store")
		http.Error(w, "401 unauthorized: this address needs credentials (listen_auth in the config)", http.StatusUnauthorized)
	})
}

// covers reports whether path needs credentials. Only the exact paths of
// /metrics and /healthz can be open: anything else, however spelt, is
// covered.
func (s *guardState) covers(path string) bool {
	switch path {
	case "/metrics":
		return s.metrics
	case "/healthz":
		return s.healthz
	}
	return true
}

func (s *guardState) allows(r *http.Request) bool {
	auth := r.Header.Get("Authorization")
	if s.bearer {
		if scheme, tok, ok := strings.Cut(auth, " "); ok && strings.EqualFold(scheme, "Bearer") {
			sum := sha256.Sum256([]byte(strings.TrimSpace(tok)))
			if subtle.ConstantTimeCompare(sum[:], s.tok[:]) == 1 {
				return true
			}
		}
	}
	if s.basic {
		if user, pass, ok := r.BasicAuth(); ok {
			u, p := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(pass))
			// Both compared, always: no early exit on a wrong user name.
			uOK := subtle.ConstantTimeCompare(u[:], s.user[:])
			pOK := subtle.ConstantTimeCompare(p[:], s.pass[:])
			if uOK&pOK == 1 {
				return true
			}
		}
	}
	return false
}
