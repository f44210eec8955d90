package sdk

import (
	"net/url"
	"strings"
)

// hintLen is how many trailing characters of a secret stay visible, enough
// to tell two checks apart in a log, too few to use.
const hintLen = 4

// RedactURL keeps a URL's scheme and host and hides its path, query and
// user info, which carry the credentials of ping URLs (check UUIDs, ping
// keys, push tokens). The last few characters of the path stay as a hint:
//
//	https://hc-ping.com/5b1c...-c0ffee  ->  https://hc-ping.com/…ffee
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return RedactSecret(raw)
	}
	out := u.Scheme + "://" + u.Host
	// The hint comes from the last segment alone, and only when that segment
	// is long: a short token must not lose a third of its characters.
	path := strings.TrimRight(u.EscapedPath(), "/")
	if path != "" {
		out += "/" + RedactSecret(path[strings.LastIndexByte(path, '/')+1:])
	}
	if u.RawQuery != "" {
		out += "?…"
	}
	return out
}

// RedactSecret hides a secret, keeping a short hint of its end when the
// secret is long enough that the hint gives nothing away.
func RedactSecret(s string) string {
	r := []rune(s)
	if len(r) < 4*hintLen {
		return "…"
	}
	return "…" + string(r[len(r)-hintLen:])
}
