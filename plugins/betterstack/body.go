package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// maxBody caps a report's body. Better Stack documents no limit; a health
// check's output tail (10 KiB) with its message fits, longer output (such
// as what `heartbeat exec` keeps) is cut to its end, and the request stays
// small whatever the server accepts.
const maxBody = 16 << 10

// minCutBody is the smallest limit worth spending on a truncation marker.
const minCutBody = 32

// bodyText is what a report's body holds: the message on the first line,
// the run's duration on the next, then the output tail. Empty when the
// beat carries none of them.
func bodyText(message string, duration time.Duration, log []byte, limit int) []byte {
	var head strings.Builder
	if m := sdk.OneLine(message); m != "" {
		head.WriteString(m)
	}
	if duration > 0 {
		if head.Len() > 0 {
			head.WriteByte('\n')
		}
		fmt.Fprintf(&head, "duration: %s", duration.Round(time.Millisecond))
	}
	return fitBody(head.String(), log, limit)
}

// fitBody joins head and log with a line break into at most limit bytes.
// A body that does not fit keeps the beginning of head and the end of the
// log, where a failing job says what went wrong, with a marker in between
// saying how much was cut.
func fitBody(head string, log []byte, limit int) []byte {
	return sdk.FitText(head, log, limit, minCutBody, func(cut int) string {
		return fmt.Sprintf("\n[… %d bytes cut by heartbeat, which sends at most %d bytes …]\n", cut, limit)
	})
}
