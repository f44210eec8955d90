package httpclient_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/httpclient"
)

func TestPingAnswers(t *testing.T) {
	a := httpclient.PingAnswers{Service: "Example", Thing: "check", Report: "ping", URLs: "ping URLs", SlowDown: "ping less often"}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	const success = sdk.Kind(-1)
	tests := []struct {
		status     int
		retryAfter string
		kind       sdk.Kind
		wording    string
	}{
		{200, "", success, ""},
		{204, "", success, ""},
		{404, "", sdk.KindNotFound, "Example has no check with this token (https://h/…abcd answered S): the check was deleted or ping_url is wrong; copy the check's URL again from Example"},
		{429, "30", sdk.KindRateLimited, "Example asks to slow down (https://h/…abcd answered S, Retry-After 30s) and may not have recorded the ping: ping less often"},
		{429, "soon", sdk.KindRateLimited, "(https://h/…abcd answered S) and may not"},
		{408, "", sdk.KindTemporary, "Example could not take the ping now (https://h/…abcd answered S)"},
		{503, "", sdk.KindTemporary, "could not take the ping now"},
		{401, "", sdk.KindPermanent, "https://h/…abcd refused the ping (S): ping URLs need no login, so a proxy in front of it, or a wrong ping_url, is the likely cause"},
		{407, "", sdk.KindPermanent, "need no login"},
		{301, "", sdk.KindPermanent, "https://h/…abcd answered S, a redirect heartbeat does not follow: check ping_url"},
		{400, "", sdk.KindPermanent, "Example refused the ping (https://h/…abcd answered S): check ping_url"},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.retryAfter != "" {
			h.Set("Retry-After", tt.retryAfter)
		}
		res, err := a.Classify(httpclient.Response{StatusCode: tt.status, Header: h}, "https://h/…abcd", "S", "ping_url", now)
		if tt.kind == success {
			if err != nil || res.Detail != "S" {
				t.Errorf("%d: got %q, %v", tt.status, res.Detail, err)
			}
			continue
		}
		if err == nil || sdk.KindOf(err) != tt.kind || !strings.Contains(err.Error(), tt.wording) {
			t.Errorf("%d: got %s %v; want %s with %q", tt.status, sdk.KindOf(err), err, tt.kind, tt.wording)
		}
	}
}
