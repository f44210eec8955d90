package httpclient

import (
	"fmt"
	"net/http"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// PingAnswers reads the answer of a ping URL whose service documents no
// answer beyond success, the way its own clients read it: any 2xx is
// success; 404 is a token the service does not know (sdk.NotFound); 429
// asks to slow down (sdk.RateLimited, with the Retry-After wait when
// there is one); 408 and 5xx are temporary; a login asked for (401, 403,
// 407), a redirect the client did not follow (3xx) and anything else are
// permanent. Its messages name the service and the settings to fix, and
// quote nothing but the URL shown and the answer's summary passed in.
type PingAnswers struct {
	// Service is the tool's name: "Better Stack".
	Service string
	// Thing is what the token names: "heartbeat", "snitch".
	Thing string
	// Report is what a request is called: "report", "check-in".
	Report string
	// URLs is what the service calls its ping URLs: "heartbeat URLs".
	URLs string
	// SlowDown is the advice for a 429: "send beats less often".
	SlowDown string
}

// Classify turns resp into the beat's result. where is the URL shown (with
// the token redacted), said the answer's summary (see Summary), and fields
// the settings that name the token; now dates a Retry-After header.
func (a PingAnswers) Classify(resp Response, where, said, fields string, now time.Time) (sdk.Result, error) {
	status := resp.StatusCode
	switch {
	case status >= 200 && status < 300:
		return sdk.Result{Detail: said}, nil
	case status == http.StatusNotFound:
		return sdk.Result{}, sdk.NotFound(fmt.Errorf("%s has no %s with this token (%s answered %s): the %s was deleted or %s is wrong; copy the %s's URL again from %s",
			a.Service, a.Thing, where, said, a.Thing, fields, a.Thing, a.Service))
	case status == http.StatusTooManyRequests:
		wait := ""
		if d, ok := RetryAfter(resp.Header, now); ok {
			wait = fmt.Sprintf(", Retry-After %s", d)
		}
		return sdk.Result{}, sdk.RateLimited(fmt.Errorf("%s asks to slow down (%s answered %s%s) and may not have recorded the %s: %s",
			a.Service, where, said, wait, a.Report, a.SlowDown))
	case status == http.StatusRequestTimeout, status >= 500:
		return sdk.Result{}, sdk.Temporary(fmt.Errorf("%s could not take the %s now (%s answered %s)", a.Service, a.Report, where, said))
	case status == http.StatusUnauthorized, status == http.StatusForbidden, status == http.StatusProxyAuthRequired:
		return sdk.Result{}, sdk.Permanent(fmt.Errorf("%s refused the %s (%s): %s need no login, so a proxy in front of it, or a wrong %s, is the likely cause",
			where, a.Report, said, a.URLs, fields))
	case status >= 300 && status < 400:
		return sdk.Result{}, sdk.Permanent(fmt.Errorf("%s answered %s, a redirect heartbeat does not follow: check %s", where, said, fields))
	}
	return sdk.Result{}, sdk.Permanent(fmt.Errorf("%s refused the %s (%s answered %s): check %s", a.Service, a.Report, where, said, fields))
}
