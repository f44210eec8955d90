package config

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// ListenAuth protects the listen address with basic auth, a bearer token
// or both (a request passes with either). /status and /api are always
// covered; /metrics and /healthz when asked.
type ListenAuth struct {
	// Username and Password are the basic auth credentials; empty when
	// basic auth is off.
	Username string
	Password Secret
	// BearerToken is the token of "Authorization: Bearer"; empty when off.
	BearerToken Secret
	// ProtectMetrics and ProtectHealthz extend the protection to /metrics
	// and /healthz, which are open otherwise.
	ProtectMetrics bool
	ProtectHealthz bool
	Pos            Pos
}

// Secret is a credential read from a file. It prints as [redacted], so it
// cannot reach a log or an error by mistake.
type Secret []byte

func (Secret) String() string   { return "[redacted]" }
func (Secret) GoString() string { return "[redacted]" }

// maxSecretFile bounds a credential file: a password or a token is a
// line, and a wrong path must not read a large file into memory.
const maxSecretFile = 4 << 10

// listenAuthKeys are the keys of listen_auth.
var listenAuthKeys = []string{"username", "password_file", "bearer_token_file", "protect_metrics", "protect_healthz"}

// listenAuth reads listen_auth. Credentials are read from files, here, so
// a reload picks up a rotated one and validate reports an unreadable one.
func (p *parser) listenAuth(n *yaml.Node) *ListenAuth {
	const what = "listen_auth"
	inline := false
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			switch k := n.Content[i]; k.Value {
			case "password", "bearer_token", "token":
				p.errs.add(p.pos(k), fmt.Sprintf("write %s_file: /path/to/a/file holding it (e.g. /run/secrets/heartbeat-%s), readable by heartbeat only", secretKey(k.Value), strings.ReplaceAll(secretKey(k.Value), "_", "-")),
					"listen_auth: %s cannot be written in the config; it is read from a file so it stays out of the config and its backups", k.Value)
				n = withoutKey(n, k.Value)
				inline = true
				i -= 2 // n lost this key: look at the one now at i
			}
		}
	}
	f := p.fields(n, what, listenAuthKeys)
	a := &ListenAuth{Pos: p.pos(n)}
	user, hasUser := f["username"]
	pass, hasPass := f["password_file"]
	if hasUser {
		if s, ok := p.str(user[1], "listen_auth: username"); ok {
			switch {
			case s == "":
				p.errs.add(p.pos(user[1]), "write the user name browsers and scripts log in with", "listen_auth: username is empty")
			case strings.ContainsRune(s, ':') || strings.IndexFunc(s, unicode.IsControl) >= 0:
				p.errs.add(p.pos(user[1]), "use a name without ':' and control characters (basic auth cannot carry them)", "listen_auth: username %s cannot be used with basic auth", excerpt(s))
			default:
				a.Username = s
			}
		}
	}
	if hasPass {
		a.Password = p.secretFile(pass[1], "listen_auth: password_file", false)
	}
	switch {
	case hasUser && !hasPass:
		p.errs.add(p.pos(user[0]), "add password_file: /path/to/a/file holding the password", "listen_auth: username is set without password_file")
	case hasPass && !hasUser:
		p.errs.add(p.pos(pass[0]), "add username: NAME next to it", "listen_auth: password_file is set without username")
	}
	tok, hasTok := f["bearer_token_file"]
	if hasTok {
		a.BearerToken = p.secretFile(tok[1], "listen_auth: bearer_token_file", true)
	}
	if !hasUser && !hasPass && !hasTok && !inline {
		p.errs.add(p.pos(n), "add username and password_file (basic auth), or bearer_token_file, or both", "listen_auth has no credentials")
	}
	for _, b := range []struct {
		key string
		dst *bool
	}{{"protect_metrics", &a.ProtectMetrics}, {"protect_healthz", &a.ProtectHealthz}} {
		key, dst := b.key, b.dst
		if kv, ok := f[key]; ok {
			if kv[1].Tag != "!!bool" || kv[1].Decode(dst) != nil {
				p.errs.add(p.pos(kv[1]), "write true or false", "listen_auth: %s must be true or false", key)
			}
		}
	}
	return a
}

func secretKey(key string) string {
	if key == "password" {
		return "password"
	}
	return "bearer_token"
}

// withoutKey returns a copy of the mapping m without key.
func withoutKey(m *yaml.Node, key string) *yaml.Node {
	out := *m
	out.Content = nil
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value != key {
			out.Content = append(out.Content, m.Content[i], m.Content[i+1])
		}
	}
	return &out
}

// secretFile reads a credential from the file named by n: a regular file
// of at most maxSecretFile bytes, its final newline dropped, not empty. A
// token (isToken) must be one word of visible characters, as HTTP carries
// it. The content never appears in an error.
func (p *parser) secretFile(n *yaml.Node, what string, isToken bool) Secret {
	path, ok := p.str(n, what)
	if !ok {
		return nil
	}
	if path == "" {
		p.errs.add(p.pos(n), "write the path of the file that holds it", "%s is empty", what)
		return nil
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(p.file), path)
	}
	data, err := readSecret(path)
	if err != nil {
		p.errs.add(p.pos(n), "check the path and that heartbeat's user may read the file", "%s: %v", what, err)
		return nil
	}
	data = bytes.TrimSuffix(data, []byte("\n"))
	data = bytes.TrimSuffix(data, []byte("\r"))
	switch {
	case len(data) == 0:
		p.errs.add(p.pos(n), "write the secret into the file", "%s: %s is empty", what, path)
		return nil
	case isToken && bytes.IndexFunc(data, func(r rune) bool { return r <= ' ' || r >= 0x7f }) >= 0:
		p.errs.add(p.pos(n), "use a token of visible ASCII characters, without spaces, on one line", "%s: the token in %s has spaces, line breaks or other characters HTTP headers cannot carry", what, path)
		return nil
	case !isToken && bytes.ContainsAny(data, "\r\n"):
		p.errs.add(p.pos(n), "write the password on one line", "%s: %s holds more than one line", what, path)
		return nil
	}
	return Secret(data)
}

// readSecret reads a small regular file; anything else (a FIFO, a device,
// a directory) is refused before it is read.
func readSecret(path string) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if info, err = f.Stat(); err != nil || !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxSecretFile {
		return nil, fmt.Errorf("%s is larger than %d bytes; a password or token is one line", path, maxSecretFile)
	}
	return data, nil
}

// ListenWarning warns about a listen address that other machines can
// reach while /status and /api are open: the status shows what runs and
// where it reports. nil when listen is off, on loopback, or protected.
func (c *Config) ListenWarning() *Error {
	if c.Listen == "" || c.ListenAuth != nil || isLoopback(c.Listen) {
		return nil
	}
	return &Error{
		Pos: c.ListenPos,
		Msg: fmt.Sprintf("listen: %s can be reached from other machines, and /status and /api/v1/status are not protected", c.Listen),
		Fix: "bind to loopback (listen: 127.0.0.1:9464), or protect them with listen_auth (docs/operations.md)",
	}
}

// isLoopback reports whether addr (host:port) listens on loopback only.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
