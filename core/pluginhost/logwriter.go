package pluginhost

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
)

// A plugin's log reaches the core's log through go-plugin (its stderr,
// hclog JSON) and through lineLogger (its stdout and its os.Stderr after
// Serve). Both paths are bounded: lines are cut at maxLogLine bytes, a
// plugin gets logLinesPerSecond lines a second with a burst of
// logLineBurst, and what is dropped is counted and reported at most once
// per dropReportInterval.
const (
	maxLogLine          = 2 << 10
	maxLogPairs         = 32
	logLinesPerSecond   = 50
	logLineBurst        = 500
	dropReportInterval  = 10 * time.Second
	maxLogKey           = 64
	cutLineNote         = " ... (line cut)"
	droppedReportFormat = "dropped %d lines from plugin %s: it logs more than %d lines a second"
)

// lineLimiter is a token bucket of log lines for one plugin. Dropped lines
// are counted; a timer reports them once it has run for the report
// interval, and exists only while lines are being dropped.
type lineLimiter struct {
	plugin   string
	report   hclog.Logger
	rate     float64
	burst    float64
	interval time.Duration
	now      func() time.Time

	mu      sync.Mutex
	tokens  float64
	last    time.Time
	dropped int
	timer   *time.Timer
}

func newLineLimiter(plugin string, report hclog.Logger) *lineLimiter {
	return &lineLimiter{plugin: plugin, report: report, rate: logLinesPerSecond, burst: logLineBurst,
		interval: dropReportInterval, now: time.Now, tokens: logLineBurst}
}

// allow takes a token for one line; false means drop the line.
func (l *lineLimiter) allow() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if !l.last.IsZero() {
		l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	}
	l.last = now
	if l.tokens >= 1 {
		l.tokens--
		return true
	}
	l.dropped++
	if l.timer == nil {
		l.timer = time.AfterFunc(l.interval, l.flush)
	}
	return false
}

// flush reports the lines dropped since the last report.
func (l *lineLimiter) flush() {
	l.mu.Lock()
	n := l.dropped
	l.dropped = 0
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	l.mu.Unlock()
	if n > 0 {
		l.report.Warn(fmt.Sprintf(droppedReportFormat, n, l.plugin, int(l.rate)), "plugin", l.plugin, "dropped", n)
	}
}

// limitedLogger is the logger go-plugin gets for one plugin: every line,
// whatever its level, takes a token of the plugin's limiter, and its
// message and fields are bounded.
type limitedLogger struct {
	hclog.Logger
	limit *lineLimiter
	// outOfMemory is set when a line says the plugin ran out of memory,
	// as the Go runtime does when it hits the memory limit.
	outOfMemory *atomic.Bool
}

func (l *limitedLogger) Log(level hclog.Level, msg string, args ...any) {
	if l.outOfMemory != nil && saysOutOfMemory(msg) {
		l.outOfMemory.Store(true)
	}
	if level < l.Logger.GetLevel() || !l.limit.allow() {
		return
	}
	l.Logger.Log(level, clip(msg, maxLogLine), boundArgs(args)...)
}

func (l *limitedLogger) Trace(msg string, args ...any) { l.Log(hclog.Trace, msg, args...) }
func (l *limitedLogger) Debug(msg string, args ...any) { l.Log(hclog.Debug, msg, args...) }
func (l *limitedLogger) Info(msg string, args ...any)  { l.Log(hclog.Info, msg, args...) }
func (l *limitedLogger) Warn(msg string, args ...any)  { l.Log(hclog.Warn, msg, args...) }
func (l *limitedLogger) Error(msg string, args ...any) { l.Log(hclog.Error, msg, args...) }

func (l *limitedLogger) With(args ...any) hclog.Logger {
	return &limitedLogger{Logger: l.Logger.With(boundArgs(args)...), limit: l.limit, outOfMemory: l.outOfMemory}
}

func (l *limitedLogger) Named(name string) hclog.Logger {
	return &limitedLogger{Logger: l.Logger.Named(clip(name, maxLogKey)), limit: l.limit, outOfMemory: l.outOfMemory}
}

func (l *limitedLogger) ResetNamed(name string) hclog.Logger {
	return &limitedLogger{Logger: l.Logger.ResetNamed(clip(name, maxLogKey)), limit: l.limit, outOfMemory: l.outOfMemory}
}

// saysOutOfMemory reports whether msg is what the Go runtime (or the C
// library under cgo) prints when the memory limit refuses an allocation:
// for the heap, or for the stack of a new thread.
func saysOutOfMemory(msg string) bool {
	for _, s := range [...]string{"out of memory", "cannot allocate memory", "pthread_create failed", "failed to create new OS thread"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// boundArgs bounds the key/value pairs of a plugin's log line: their
// number, and each key and value as text.
func boundArgs(args []any) []any {
	if len(args) > 2*maxLogPairs {
		args = append(args[:2*maxLogPairs:2*maxLogPairs], "fields_cut", (len(args)-2*maxLogPairs)/2)
	}
	out := make([]any, len(args))
	for i, a := range args {
		limit := maxLogLine
		if i%2 == 0 {
			limit = maxLogKey
		}
		switch v := a.(type) {
		case string:
			out[i] = clip(v, limit)
		case int, int64, uint64, float64, bool, time.Duration, time.Time, hclog.Format:
			out[i] = v
		default:
			out[i] = clip(fmt.Sprint(v), limit)
		}
	}
	return out
}

// lineLogger turns a plugin's raw stdout/stderr into log lines. Writes come
// from go-plugin's copy goroutines.
type lineLogger struct {
	logger hclog.Logger
	level  hclog.Level
	mu     sync.Mutex
	buf    []byte
	// skip drops the rest of a line that was cut.
	skip bool
}

func (w *lineLogger) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		chunk := p
		if i >= 0 {
			chunk = p[:i]
		}
		if !w.skip {
			take := min(len(chunk), maxLogLine-len(cutLineNote)-len(w.buf))
			w.buf = append(w.buf, chunk[:take]...)
			if take < len(chunk) {
				w.emit(string(w.buf) + cutLineNote)
				w.skip = true
			}
		}
		if i < 0 {
			break
		}
		if !w.skip {
			w.emit(string(bytes.TrimRight(w.buf, "\r")))
		}
		w.buf, w.skip = w.buf[:0], false
		p = p[i+1:]
	}
	return n, nil
}

func (w *lineLogger) emit(line string) {
	if line != "" {
		w.logger.Log(w.level, line)
	}
}
