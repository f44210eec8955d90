package httpclient

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// maxSummaryText is the longest body Summary quotes: monitoring tools
// answer with a word or a short sentence.
const maxSummaryText = 80

// maxRetryAfter is the longest wait RetryAfter believes; more is a
// misbehaving server, not advice.
const maxRetryAfter = 7 * 24 * time.Hour

// Summary summarises an answer on one bounded line for Result.Detail and
// messages: the status code and the body when the body is a short line of
// text ("202 Got it, thanks!"), else the status text ("404 Not Found"). A
// body that looks like a page or a document (it holds < or {), is longer
// than 80 bytes, is not valid UTF-8 or holds control characters gives way
// to the status text. Each secret, as given and path-escaped, is masked in
// case the server or a proxy echoes the request's URL.
func Summary(resp Response, secrets ...string) string {
	text := strings.TrimSpace(string(resp.Body))
	if text == "" || len(text) > maxSummaryText || strings.ContainsAny(text, "<{") ||
		!utf8.ValidString(text) || strings.ContainsFunc(text, unicode.IsControl) {
		text = http.StatusText(resp.StatusCode)
	}
	if text == "" {
		return strconv.Itoa(resp.StatusCode)
	}
	return strconv.Itoa(resp.StatusCode) + " " + MaskSecrets(text, secrets...)
}

// StatusText is a status code with its text, "404 Not Found", or the
// code alone when net/http knows no text for it ("599").
func StatusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return strconv.Itoa(code) + " " + t
	}
	return strconv.Itoa(code)
}

// MaskSecrets replaces each secret in s, as given and path-escaped (as it
// stands in a URL), with sdk.RedactSecret of it. Empty secrets are
// skipped.
func MaskSecrets(s string, secrets ...string) string {
	for _, secret := range secrets {
		if secret == "" {
			continue
		}
		redacted := sdk.RedactSecret(secret)
		s = strings.ReplaceAll(s, secret, redacted)
		if escaped := url.PathEscape(secret); escaped != secret {
			s = strings.ReplaceAll(s, escaped, redacted)
		}
	}
	return s
}

// RetryAfter reads the Retry-After header of an answer (a 429 or a 503)
// as the wait it asks for from now: a number of seconds or an HTTP date.
// ok is false when the header is missing, unreadable, in the past or more
// than a week away.
func RetryAfter(h http.Header, now time.Time) (wait time.Duration, ok bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 || secs > int64(maxRetryAfter/time.Second) {
			return 0, false
		}
		return time.Duration(secs) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		if d := at.Sub(now).Round(time.Second); d > 0 && d <= maxRetryAfter {
			return d, true
		}
	}
	return 0, false
}
