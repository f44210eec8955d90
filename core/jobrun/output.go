package jobrun

import (
	"bytes"
	"io"
	"os"
	"sync"
	"unicode/utf8"
)

// lineChunk is the longest piece written to Spec.Stdout or Spec.Stderr at
// once for a line without a newline: memory stays bounded whatever the job
// writes.
const lineChunk = 64 << 10

// readSize is the buffer each output pipe is read with.
const readSize = 32 << 10

// pump reads one of the job's output pipes until it ends or is closed,
// feeding the tail and the live copy.
func pump(wg *sync.WaitGroup, r *os.File, tail *tailBuffer, dst io.Writer) {
	defer wg.Done()
	lw := &lineWriter{dst: dst}
	buf := make([]byte, readSize)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			tail.write(buf[:n])
			lw.write(buf[:n])
		}
		if err != nil {
			break
		}
	}
	lw.flush()
}

// lineWriter passes whole lines to dst: a line is written once it is
// complete, so the job's stdout and stderr lines do not break each other
// up on a terminal.
type lineWriter struct {
	dst     io.Writer
	pending []byte // the start of a line, less than lineChunk bytes
}

func (l *lineWriter) write(p []byte) {
	if l.dst == nil {
		return
	}
	for len(p) > 0 {
		nl := bytes.IndexByte(p, '\n')
		switch {
		case nl < 0:
			// No end of line yet: keep it, in pieces of lineChunk.
			take := min(len(p), lineChunk-len(l.pending))
			l.pending = append(l.pending, p[:take]...)
			p = p[take:]
			if len(l.pending) == lineChunk {
				l.flush()
			}
		case len(l.pending) > 0:
			// Finish the pending line first.
			take := min(nl+1, lineChunk-len(l.pending))
			l.pending = append(l.pending, p[:take]...)
			p = p[take:]
			l.flush()
		default:
			// Every complete line at once.
			last := bytes.LastIndexByte(p, '\n')
			l.emit(p[:last+1])
			p = p[last+1:]
		}
	}
}

// flush writes the pending part of a line.
func (l *lineWriter) flush() {
	if len(l.pending) > 0 {
		l.emit(l.pending)
		l.pending = l.pending[:0]
	}
}

func (l *lineWriter) emit(p []byte) {
	if l.dst == nil {
		return
	}
	if _, err := l.dst.Write(p); err != nil {
		// A live copy that cannot be written (a closed terminal) must not
		// stop the capture; it is dropped from then on.
		l.dst = nil
	}
}

// tailBuffer keeps the last limit bytes written to it, in a ring, and
// counts all of them.
type tailBuffer struct {
	mu    sync.Mutex
	limit int
	buf   []byte // grows to limit, then is written around from w
	w     int
	total int64
}

func (t *tailBuffer) write(p []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.total += int64(len(p))
	if t.limit <= 0 {
		return
	}
	if len(p) >= t.limit {
		t.buf = append(t.buf[:0], p[len(p)-t.limit:]...)
		t.w = 0
		return
	}
	if room := t.limit - len(t.buf); room > 0 {
		take := min(room, len(p))
		t.buf = append(t.buf, p[:take]...)
		p = p[take:]
	}
	for len(p) > 0 {
		n := copy(t.buf[t.w:], p)
		p = p[n:]
		t.w = (t.w + n) % t.limit
	}
}

// bytes returns the kept tail, starting at a character boundary when
// earlier output was dropped, and the total written.
func (t *tailBuffer) bytes() ([]byte, int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.buf) == 0 {
		return nil, t.total
	}
	out := make([]byte, 0, len(t.buf))
	out = append(out, t.buf[t.w:]...)
	out = append(out, t.buf[:t.w]...)
	if t.total > int64(len(out)) {
		for i := 0; i < utf8.UTFMax-1 && len(out) > 0 && !utf8.RuneStart(out[0]); i++ {
			out = out[1:]
		}
	}
	return out, t.total
}
