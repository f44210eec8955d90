// Package pushurl recognises a monitoring tool's ping URL by its shape and
// turns it into the settings of the bundled target plugin that speaks that
// tool's API: a Healthchecks ping URL (hosted or self-hosted, by UUID or by
// ping key and slug), an Uptime Kuma push URL, or any other URL for the
// generic http plugin. The URLs hold secrets (a check's UUID, a ping key, a
// push token): errors never quote them, and Display is redacted.
package pushurl

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// Plugin names of the bundled targets a URL can map to.
const (
	Healthchecks = "healthchecks"
	UptimeKuma   = "uptimekuma"
	HTTP         = "http"
)

// HostedHealthchecks is hc-ping.com's ping endpoint, runitor's default API
// URL.
const HostedHealthchecks = "https://hc-ping.com"

const hostedHost = "hc-ping.com"

// Target is a URL recognised as a target.
type Target struct {
	// Plugin is the bundled plugin that delivers to it.
	Plugin string
	// Settings are the plugin's settings, built from the URL.
	Settings map[string]any
	// Kind says what the URL was recognised as, for messages.
	Kind string
	// Display is the URL with its secret parts redacted.
	Display string
	// Warnings are things worth telling the user (query parameters the
	// tool ignores, say); they hold no secret.
	Warnings []string
}

// maxURL bounds a URL: a ping URL is short, and anything longer is a
// mistake whose text must not be echoed.
const maxURL = 8 << 10

// Recognize maps raw to the plugin that speaks its tool's API:
//
//   - Healthchecks: a host of hc-ping.com with the path /<uuid> or
//     /<ping-key>/<slug>, or any host whose path ends with /ping/<uuid> or
//     /ping/<ping-key>/<slug> (a self-hosted server, under any path
//     prefix); a trailing slash is fine, and ?create=1 asks Healthchecks to
//     create a missing slug check, as in the URL itself;
//   - Uptime Kuma: a path with /api/push/<token> (the query the UI adds,
//     ?status=up&msg=OK&ping=, is replaced on every push; other parameters
//     are kept);
//   - anything else: the http plugin, which requests the URL as written on
//     success (a failure is told by the missing ping).
func Recognize(raw string) (Target, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return Target{}, errors.New("is empty")
	}
	if len(raw) > maxURL {
		return Target{}, fmt.Errorf("is longer than %d bytes: give the ping URL only", maxURL)
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			// url.Error quotes the whole URL, secret included.
			return Target{}, fmt.Errorf("is not a valid URL: %v", ue.Err)
		}
		return Target{}, errors.New("is not a valid URL")
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	case "":
		return Target{}, errors.New("must start with https:// (or http://)")
	default:
		return Target{}, fmt.Errorf("must be an http or https URL, not %s://", u.Scheme)
	}
	if u.Hostname() == "" {
		return Target{}, errors.New("has no host name")
	}
	if u.Fragment != "" {
		return Target{}, errors.New("must not have a fragment (the part after #)")
	}
	segs := segments(u)
	if t, ok, err := healthchecksURL(u, segs); ok || err != nil {
		return t, err
	}
	if t, ok, err := kumaURL(raw, u); ok || err != nil {
		return t, err
	}
	return Target{
		Plugin:   HTTP,
		Settings: map[string]any{"url": raw},
		Kind:     "URL (requested on success)",
		Display:  sdk.RedactURL(raw),
	}, nil
}

// segments splits u's path, ignoring a trailing slash.
func segments(u *url.URL) []string {
	p := strings.Trim(u.Path, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// healthchecksURL recognises a Healthchecks ping URL; ok is false for any
// other shape.
func healthchecksURL(u *url.URL, segs []string) (Target, bool, error) {
	hosted := strings.EqualFold(u.Hostname(), hostedHost)
	// The check's part of the path starts after the ping endpoint: the
	// host's root on hc-ping.com, the last /ping/ elsewhere.
	start := -1
	if hosted {
		start = 0
	} else {
		for i := len(segs) - 1; i >= 0; i-- {
			if segs[i] == "ping" {
				start = i + 1
				break
			}
		}
	}
	if start < 0 || start >= len(segs) {
		return Target{}, false, nil
	}
	check := segs[start:]
	// A pasted URL of one signal (/start, /fail, /log, /<code>): the
	// signals are heartbeat's to choose.
	if n := len(check); n >= 2 && signalSuffix(check[n-1]) && (isUUID(check[n-2]) || n == 3) {
		return Target{}, true, fmt.Errorf("is a Healthchecks ping URL ending with /%s: remove it, heartbeat adds /start, /fail, /log and the exit code itself", check[n-1])
	}
	base := *u
	base.User = u.User
	base.RawQuery, base.ForceQuery, base.Fragment, base.RawPath = "", false, "", ""
	base.Path = "/" + strings.Join(segs[:start], "/")
	if start > 0 {
		base.Path += "/"
	}
	query := u.Query()
	var create bool
	var warnings []string
	for _, k := range sortedKeys(query) {
		v := query.Get(k)
		switch k {
		case "create":
			// Healthchecks creates only on exactly "1" (spec: "?create=true
			// is not a create").
			switch v {
			case "1":
				create = true
			case "0", "":
			default:
				return Target{}, true, fmt.Errorf("has create=%s, which Healthchecks does not take as a create: write create=1 (or leave it out)", boundedValue(v))
			}
		case "rid":
			return Target{}, true, errors.New("has a rid parameter: leave it out, heartbeat sends a fresh run id with each run (or none with --no-run-id)")
		default:
			warnings = append(warnings, fmt.Sprintf("the query parameter %s is not one Healthchecks takes; it is left out", boundedValue(k)))
		}
	}
	switch {
	case len(check) == 1 && isUUID(check[0]):
		if create {
			return Target{}, true, errors.New("has create=1 but names the check by UUID: Healthchecks creates missing checks by slug only (…/ping/<ping-key>/<slug>?create=1)")
		}
		return Target{
			Plugin:   Healthchecks,
			Settings: map[string]any{"base_url": base.String(), "uuid": check[0]},
			Kind:     "Healthchecks check (UUID)",
			Display:  strings.TrimSuffix(redacted(&base), "/") + "/" + sdk.RedactSecret(check[0]),
			Warnings: warnings,
		}, true, nil
	case len(check) == 2 && isUUID(check[0]):
		return Target{}, true, fmt.Errorf("is a Healthchecks ping URL with /%s after the check's UUID: remove it", boundedValue(check[1]))
	case len(check) == 2 && isPingKey(check[0]) && isSlug(check[1]):
		settings := map[string]any{"base_url": base.String(), "ping_key": check[0], "slug": check[1]}
		if create {
			settings["create"] = true
		}
		return Target{
			Plugin:   Healthchecks,
			Settings: settings,
			Kind:     "Healthchecks check (ping key and slug)",
			Display:  strings.TrimSuffix(redacted(&base), "/") + "/" + sdk.RedactSecret(check[0]) + "/" + check[1],
			Warnings: warnings,
		}, true, nil
	case hosted:
		return Target{}, true, errors.New("is an hc-ping.com URL but not a check's ping URL: use https://hc-ping.com/<uuid> or https://hc-ping.com/<ping-key>/<slug>")
	}
	// A /ping/ path of another shape is some other service's URL.
	return Target{}, false, nil
}

// kumaURL recognises an Uptime Kuma push URL.
func kumaURL(raw string, u *url.URL) (Target, bool, error) {
	const route = "/api/push/"
	i := strings.LastIndex(u.Path, route)
	if i < 0 {
		return Target{}, false, nil
	}
	token := strings.TrimSuffix(u.Path[i+len(route):], "/")
	if token == "" || strings.Contains(token, "/") {
		return Target{}, true, errors.New("looks like an Uptime Kuma push URL but does not end with the push token (…/api/push/<token>)")
	}
	base := *u
	base.Path, base.RawPath, base.RawQuery = u.Path[:i], "", ""
	return Target{
		Plugin:   UptimeKuma,
		Settings: map[string]any{"push_url": raw},
		Kind:     "Uptime Kuma push monitor",
		Display:  redacted(&base) + route + sdk.RedactSecret(token),
	}, true, nil
}

// HealthchecksCheck is the target of runitor's way of naming a check: the
// API URL (runitor's -api-url, hc-ping.com when empty) with a UUID, or
// with a ping key and a slug.
func HealthchecksCheck(apiURL, uuid, pingKey, slug string, create bool) (Target, error) {
	if apiURL == "" {
		apiURL = HostedHealthchecks
	}
	u, err := url.Parse(strings.TrimSpace(apiURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Target{}, errors.New("the Healthchecks API URL must be an http or https URL such as https://hc-ping.com or https://hc.example.com/ping")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return Target{}, errors.New("the Healthchecks API URL must not have a query or fragment")
	}
	base := *u
	base.Path = strings.TrimRight(u.Path, "/") + "/"
	base.RawPath = ""
	settings := map[string]any{"base_url": base.String()}
	var display string
	switch {
	case uuid != "":
		if !isUUID(uuid) {
			return Target{}, errors.New("the check UUID is not a UUID; copy it from the check's page in Healthchecks (36 characters such as 01234567-89ab-cdef-0123-456789abcdef)")
		}
		if create {
			return Target{}, errors.New("--create works only with a ping key and a slug: Healthchecks creates missing checks by slug, never by UUID")
		}
		settings["uuid"] = uuid
		display = redacted(&base) + sdk.RedactSecret(uuid)
	case slug != "" && pingKey != "":
		if !isSlug(pingKey) {
			return Target{}, errors.New("the ping key may only hold letters, digits, - and _; copy it from the project's Settings page in Healthchecks")
		}
		if !isSlug(slug) {
			return Target{}, fmt.Errorf("the slug %s may only hold letters, digits, - and _", strconv.Quote(boundedValue(slug)))
		}
		settings["ping_key"], settings["slug"] = pingKey, slug
		if create {
			settings["create"] = true
		}
		display = redacted(&base) + sdk.RedactSecret(pingKey) + "/" + slug
	case slug != "":
		return Target{}, errors.New("a slug needs the project's ping key: pass --ping-key KEY or set PING_KEY")
	case pingKey != "":
		return Target{}, errors.New("a ping key needs the check's slug: pass --slug SLUG or set CHECK_SLUG")
	default:
		return Target{}, errors.New("pass a check UUID (--uuid or CHECK_UUID), or a slug with the project's ping key (--slug and --ping-key, or CHECK_SLUG and PING_KEY)")
	}
	kind := "Healthchecks check (UUID)"
	if uuid == "" {
		kind = "Healthchecks check (ping key and slug)"
	}
	return Target{Plugin: Healthchecks, Settings: settings, Kind: kind, Display: display}, nil
}

// maxIndirect bounds a file read through the file: prefix: it holds one
// secret.
const maxIndirect = 64 << 10

// FilePrefix marks a value read from a file, as runitor's flags and
// environment variables take it: file:/run/secrets/ping-key.
const FilePrefix = "file:"

// Indirect returns v, or the content of the file it names when it starts
// with file:, with white space around it removed (runitor's rule). An empty
// file is an error: a secret is missing.
func Indirect(v string) (string, error) {
	path, ok := strings.CutPrefix(v, FilePrefix)
	if !ok {
		return v, nil
	}
	if path == "" {
		return "", errors.New("file: needs a path after it, e.g. file:/run/secrets/hc-ping-key")
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %w", path, unwrapPath(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxIndirect+1))
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %w", path, unwrapPath(err))
	}
	if len(data) > maxIndirect {
		return "", fmt.Errorf("%s is larger than %d bytes; it should hold one value", path, maxIndirect)
	}
	s := strings.TrimSpace(string(data))
	if s == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return s, nil
}

// unwrapPath drops the path an *os.PathError repeats.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// redacted is u without user info, query and fragment (which may hold
// secrets), its path kept: a base URL holds no secret.
func redacted(u *url.URL) string {
	shown := *u
	shown.User = nil
	shown.RawQuery, shown.ForceQuery, shown.Fragment = "", false, ""
	return shown.String()
}

// isUUID reports whether s is a UUID, with or without dashes, in any case
// (the healthchecks plugin sends it as Healthchecks expects).
func isUUID(s string) bool {
	digits := s
	switch len(s) {
	case 36:
		if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return false
		}
		digits = s[:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	case 32:
	default:
		return false
	}
	_, err := hex.DecodeString(digits)
	return err == nil
}

// isSlug is Healthchecks' slug and ping key alphabet: [-a-zA-Z0-9_]+.
func isSlug(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c == '-' || c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// minPingKey is the shortest ping key recognised in a URL. Healthchecks
// makes 22-character keys; a shorter first segment after /ping/ is more
// likely another service's path than a ping key.
const minPingKey = 16

func isPingKey(s string) bool { return len(s) >= minPingKey && isSlug(s) }

// signalSuffix reports whether s is a path element Healthchecks reads as a
// signal: start, fail, log or an exit status.
func signalSuffix(s string) bool {
	switch s {
	case "start", "fail", "log":
		return true
	}
	n, err := strconv.Atoi(s)
	return err == nil && n >= 0 && n <= 255 && len(s) <= 3
}

// boundedValue keeps a value from the command line short and printable in
// a message.
func boundedValue(s string) string {
	const max = 40
	r := []rune(s)
	if len(r) > max {
		r = append(r[:max], '…')
	}
	return strings.Map(func(c rune) rune {
		if c < ' ' || c == 0x7f {
			return '?'
		}
		return c
	}, string(r))
}

func sortedKeys(q url.Values) []string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
