package pluginhost

import (
	"bytes"
	"sync"

	"github.com/hashicorp/go-hclog"
)

// lineLogger turns a plugin's raw stdout/stderr into log lines. Writes come
// from go-plugin's copy goroutines.
type lineLogger struct {
	logger hclog.Logger
	level  hclog.Level
	mu     sync.Mutex
	buf    []byte
}

// maxLine bounds a single line so a plugin printing without newlines cannot
// grow the buffer forever.
const maxLine = 16 << 10

func (w *lineLogger) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			if len(w.buf) > maxLine {
				w.logger.Log(w.level, string(w.buf[:maxLine]))
				w.buf = w.buf[:0]
			}
			return len(p), nil
		}
		if line := bytes.TrimRight(w.buf[:i], "\r"); len(line) > 0 {
			w.logger.Log(w.level, string(line))
		}
		w.buf = w.buf[i+1:]
	}
}
