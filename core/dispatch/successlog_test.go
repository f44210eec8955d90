package dispatch

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// Only the first delivery to a target is logged at info level; the routine
// ones after it go to debug level, so a heartbeat beating every second
// does not fill the log. A recovery is always logged.
func TestRoutineDeliveriesAreLoggedAtDebugLevel(t *testing.T) {
	for _, tc := range []struct {
		level     hclog.Level
		delivered int // "beat delivered" lines (not "again after failures")
	}{
		{hclog.Info, 2}, // the first to each target
		{hclog.Debug, 6},
	} {
		t.Run(tc.level.String(), func(t *testing.T) {
			var fail error
			f := &fakeDeliverer{beat: func(context.Context, string, sdk.Beat) (sdk.Result, error) {
				if fail != nil {
					return sdk.Result{}, fail
				}
				return sdk.Result{Detail: "200 OK"}, nil
			}}
			log := newLineLog()
			d := New(f, hclog.New(&hclog.LoggerOptions{Output: log, Level: tc.level}))
			targets := []Target{{Name: "a", Policy: Policy{Timeout: time.Second}}, {Name: "b", Policy: Policy{Timeout: time.Second}}}
			for range 3 {
				d.Deliver(context.Background(), success(sdk.Beat{}), targets, time.Time{})
			}
			fail = sdk.Permanent(errors.New("401 Unauthorized"))
			d.Deliver(context.Background(), success(sdk.Beat{}), targets[:1], time.Time{})
			fail = nil
			d.Deliver(context.Background(), success(sdk.Beat{}), targets[:1], time.Time{})
			out := log.String()
			if got := strings.Count(out, "beat delivered:"); got != tc.delivered {
				t.Errorf("%d \"beat delivered\" lines, want %d:\n%s", got, tc.delivered, out)
			}
			if got := strings.Count(out, "beat delivered again after failures"); got != 1 {
				t.Errorf("%d recovery lines, want 1:\n%s", got, out)
			}
			for _, target := range []string{"target=a", "target=b"} {
				if !strings.Contains(out, "[INFO]  beat delivered: heartbeat=hb "+target) {
					t.Errorf("no info line for the first delivery to %s:\n%s", target, out)
				}
			}
		})
	}
}
