package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/httpclient"
)

const (
	// maxMsgRunes caps msg. Uptime Kuma stores any length, but the message
	// travels in the URL: 400 characters stay under 5 KB even fully
	// percent-encoded, within the 8 KB request line common reverse proxies
	// allow. Longer messages are cut and end with "…".
	maxMsgRunes = 400
	// maxPingMS is the largest ping Uptime Kuma 2.x accepts.
	maxPingMS = 100000000000
	// maxServerMsgRunes caps how much of Uptime Kuma's own error text is
	// quoted in an error.
	maxServerMsgRunes = 200
	// kumaNotFound is Uptime Kuma's answer to an unknown token and to a
	// paused monitor alike.
	kumaNotFound = "Monitor not found or not active."
	// defaultFailMsg is sent for a fail without a message, since Uptime
	// Kuma would show "OK" for an empty one.
	defaultFailMsg = "check failed"
)

// instance is one configured Uptime Kuma push monitor. It is not changed
// after Configure, so concurrent beats are safe.
type instance struct {
	// Limit bounds the beats sent at once to Uptime Kuma's host (every
	// push goes there) through this client's transport.
	httpclient.Limit
	ep     endpoint
	client *http.Client
	logger hclog.Logger
	// where is Uptime Kuma's address without the token, for messages.
	where    string
	describe string
	// headers are extra request headers (values may be secrets).
	headers map[string]string
}

var _ sdk.Limited = (*instance)(nil)

func (in *instance) Describe() string { return in.describe }

func (in *instance) Beat(ctx context.Context, b sdk.Beat) (sdk.Result, error) {
	var status, msg string
	switch b.Signal {
	case sdk.SignalSuccess:
		status, msg = "up", message(b.Message, "OK")
	case sdk.SignalFail:
		fallback := defaultFailMsg
		if b.ExitCode != nil {
			fallback = fmt.Sprintf("%s (exit code %d)", defaultFailMsg, *b.ExitCode)
		}
		status, msg = "down", message(b.Message, fallback)
	default:
		// The core sends only the signals Info lists; never turn another
		// one into a beat that would show the monitor up.
		return sdk.Result{}, sdk.Errorf(sdk.KindPermanent,
			"uptimekuma cannot deliver the %s signal: Uptime Kuma push monitors only know up and down", b.Signal)
	}
	q := url.Values{}
	for k, v := range in.ep.base.Query() {
		q[k] = v
	}
	q.Set("status", status)
	q.Set("msg", msg)
	ping, hasPing := pingMillis(b.CheckLatency)
	if hasPing {
		q.Set("ping", ping)
	} else if b.CheckLatency > 0 {
		in.logger.Debug("check latency left out of the push: Uptime Kuma takes 0.001 to 100000000000 ms",
			"latency", b.CheckLatency.String())
	}

	// JoinPath takes escaped elements and keeps any path prefix.
	u := in.ep.base.JoinPath("api", "push", url.PathEscape(in.ep.token))
	// Encode spaces as %20: "+" means a space only in some query parsers.
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		// The error would quote the URL, token included.
		return sdk.Result{}, sdk.Errorf(sdk.KindPermanent, "cannot build the push request for %s", in.describe)
	}
	for name, value := range in.headers {
		req.Header.Set(name, value)
	}
	req.Header.Set("Accept", "application/json")
	in.logger.Debug("pushing", "status", status, "ping", ping, "attempt", b.Attempt)
	resp, err := httpclient.Do(ctx, in.client, req)
	if err != nil {
		return sdk.Result{}, fmt.Errorf("pushing %s to Uptime Kuma: %w", status, err)
	}
	return in.interpret(resp)
}

// kumaAnswer is the JSON Uptime Kuma's push route answers with.
type kumaAnswer struct {
	OK  *bool  `json:"ok"`
	Msg string `json:"msg"`
}

// interpret turns Uptime Kuma's answer into a result or an error of the
// right kind. Uptime Kuma answers 200 {"ok":true} on success and 404
// {"ok":false,"msg":…} on every error; anything else comes from something
// that is not Uptime Kuma's push route (a reverse proxy, a wrong path).
func (in *instance) interpret(resp httpclient.Response) (sdk.Result, error) {
	code := resp.StatusCode
	var ans kumaAnswer
	isKuma := isJSON(resp.Header.Get("Content-Type"), resp.Body) &&
		json.Unmarshal(resp.Body, &ans) == nil && ans.OK != nil

	switch {
	case isKuma && *ans.OK && code == http.StatusOK:
		return sdk.Result{Detail: fmt.Sprintf("%d ok", code)}, nil

	case isKuma && !*ans.OK:
		serverMsg := in.quote(ans.Msg)
		switch {
		case ans.Msg == kumaNotFound:
			return sdk.Result{}, sdk.Errorf(sdk.KindNotFound,
				"Uptime Kuma at %s has no active push monitor with the token %s: the monitor does not exist or is paused "+
					"(Uptime Kuma answers both alike). Check %s against the monitor's push URL and resume the monitor if it is paused (%d %s)",
				in.where, sdk.RedactSecret(in.ep.token), in.ep.fields, code, serverMsg)
		case strings.HasPrefix(ans.Msg, "Invalid ping value"):
			return sdk.Result{}, sdk.Errorf(sdk.KindPermanent,
				"Uptime Kuma at %s refused the check latency as ping (%d %s)", in.where, code, serverMsg)
		default:
			// Uptime Kuma answers its own failures (a busy database, say)
			// the same way: the next attempt may well succeed.
			return sdk.Result{}, sdk.Errorf(sdk.KindTemporary,
				"Uptime Kuma at %s could not record the beat (%d %s)", in.where, code, serverMsg)
		}

	case code == http.StatusTooManyRequests:
		return sdk.Result{}, sdk.Errorf(sdk.KindRateLimited,
			"%s asks to slow down (429 Too Many Requests); Uptime Kuma itself has no rate limit, so a proxy in front of it does", in.where)

	case code >= 500 || code == http.StatusRequestTimeout:
		return sdk.Result{}, sdk.Errorf(sdk.KindTemporary,
			"%s answered %s: the server or a proxy in front of it is failing or restarting", in.where, statusText(code))

	case code == http.StatusUnauthorized || code == http.StatusForbidden || code == http.StatusProxyAuthRequired:
		return sdk.Result{}, sdk.Errorf(sdk.KindPermanent,
			"%s answered %s: Uptime Kuma's push route needs no login, so a proxy in front of it refuses the request; "+
				"allow %s/api/push/ through it", in.where, statusText(code), in.where)

	case code == http.StatusOK:
		// Uptime Kuma answers any GET outside its API with its web page.
		return sdk.Result{}, sdk.Errorf(sdk.KindPermanent,
			"%s answered 200 but not with Uptime Kuma's push answer {\"ok\":true} (got %s): "+
				"check that %s point%s at Uptime Kuma, including any path prefix",
			in.where, describeBody(resp), in.ep.fields, verbS(in.ep.fields))

	case code == http.StatusNotFound:
		return sdk.Result{}, sdk.Errorf(sdk.KindPermanent,
			"%s has no Uptime Kuma push route (404 with %s): check that %s point%s at Uptime Kuma, including any path prefix",
			in.where, describeBody(resp), in.ep.fields, verbS(in.ep.fields))

	default:
		return sdk.Result{}, sdk.Errorf(sdk.KindPermanent,
			"%s answered %s with %s, not Uptime Kuma's push answer: check %s",
			in.where, statusText(code), describeBody(resp), in.ep.fields)
	}
}

// quote returns Uptime Kuma's message, shortened and with the token
// redacted in case the server echoes it.
func (in *instance) quote(msg string) string {
	msg = strings.ReplaceAll(oneLine(msg), in.ep.token, sdk.RedactSecret(in.ep.token))
	return strconv.Quote(truncate(msg, maxServerMsgRunes))
}

// message makes msg one line of at most maxMsgRunes characters, or
// fallback when it is empty: Uptime Kuma would store an empty msg as "OK".
func message(msg, fallback string) string {
	msg = strings.TrimSpace(oneLine(msg))
	if msg == "" {
		msg = fallback
	}
	return truncate(msg, maxMsgRunes)
}

func oneLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimRightFunc(string(r[:n-1]), unicode.IsSpace) + "…"
}

// pingMillis formats a check latency as Uptime Kuma's ping: milliseconds
// to the microsecond, e.g. "1234.5". ok is false when ping is to be left
// out: Uptime Kuma stores 0 as "no ping", and 2.x refuses more than
// maxPingMS.
func pingMillis(d time.Duration) (ping string, ok bool) {
	us := d.Round(time.Microsecond).Microseconds()
	if us <= 0 || us > maxPingMS*1000 {
		return "", false
	}
	ms := strconv.FormatInt(us/1000, 10)
	if frac := us % 1000; frac != 0 {
		ms += strings.TrimRight(fmt.Sprintf(".%03d", frac), "0")
	}
	return ms, true
}

func isJSON(contentType string, body []byte) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json")) {
		return true
	}
	// Some proxies rewrite the content type; trust a JSON object body.
	return bytes.HasPrefix(bytes.TrimSpace(body), []byte("{"))
}

// describeBody names what came back without quoting it: an error page may
// echo the request path, token included.
func describeBody(resp httpclient.Response) string {
	if len(bytes.TrimSpace(resp.Body)) == 0 {
		return "an empty body"
	}
	ct := resp.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err == nil {
		return "a body of type " + mt
	}
	return "a body of unknown type"
}

func statusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return fmt.Sprintf("%d %s", code, t)
	}
	return strconv.Itoa(code)
}

// verbS agrees "point" with "push_url" or "base_url and token".
func verbS(fields string) string {
	if strings.Contains(fields, " and ") {
		return ""
	}
	return "s"
}
