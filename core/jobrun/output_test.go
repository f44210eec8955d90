package jobrun

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// writeLog records every Write a lineWriter makes.
type writeLog struct{ writes []string }

func (w *writeLog) Write(p []byte) (int, error) {
	w.writes = append(w.writes, string(p))
	return len(p), nil
}

func TestLineWriter(t *testing.T) {
	long := strings.Repeat("x", lineChunk)
	cases := []struct {
		name   string
		inputs []string // the reads, in order
		want   []string // the writes, in order
	}{
		{"whole lines at once", []string{"a\nb\n"}, []string{"a\nb\n"}},
		{"line split across reads", []string{"ab", "c\nd"}, []string{"abc\n", "d"}},
		{"complete lines and a rest", []string{"a\nb\nc"}, []string{"a\nb\n", "c"}},
		{"pending then several lines", []string{"a", "b\nc\nd\n"}, []string{"ab\n", "c\nd\n"}},
		{"long line in chunks", []string{long + long + "z"}, []string{long, long, "z"}},
		{"long line across reads", []string{long[:10], long[10:] + "tail\n"}, []string{long, "tail\n"}},
		{"empty lines", []string{"\n\n", "\n"}, []string{"\n\n", "\n"}},
		{"no newline at all", []string{"abc"}, []string{"abc"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			log := &writeLog{}
			lw := &lineWriter{dst: log}
			for _, in := range tc.inputs {
				lw.write([]byte(in))
			}
			lw.flush()
			if len(log.writes) != len(tc.want) {
				t.Fatalf("got %d writes %q, want %d", len(log.writes), short(log.writes), len(tc.want))
			}
			for i := range tc.want {
				if log.writes[i] != tc.want[i] {
					t.Errorf("write %d = %q, want %q", i, shortOne(log.writes[i]), shortOne(tc.want[i]))
				}
			}
			for i, w := range log.writes {
				if len(w) > lineChunk && strings.Count(w, "\n") == 0 {
					t.Errorf("write %d is %d bytes without a newline, more than %d", i, len(w), lineChunk)
				}
			}
		})
	}
}

// failingWriter fails every write.
type failingWriter struct{ calls int }

func (f *failingWriter) Write([]byte) (int, error) {
	f.calls++
	return 0, bytes.ErrTooLarge
}

func TestLineWriterDropsBrokenDestination(t *testing.T) {
	f := &failingWriter{}
	lw := &lineWriter{dst: f}
	for range 10 {
		lw.write([]byte("line\n"))
	}
	if f.calls != 1 {
		t.Fatalf("a failing destination was written %d times, want 1", f.calls)
	}
}

func TestTailBuffer(t *testing.T) {
	cases := []struct {
		name   string
		limit  int
		writes []string
	}{
		{"nothing kept", 0, []string{"abc", "def"}},
		{"fits", 10, []string{"abc", "def"}},
		{"exactly full", 6, []string{"abc", "def"}},
		{"wraps once", 5, []string{"abc", "def"}},
		{"wraps many times", 4, []string{"a", "bc", "def", "ghij", "k", "lmnopq", "r"}},
		{"one write larger than the limit", 3, []string{"ab", "cdefgh"}},
		{"writes of the limit", 3, []string{"abc", "def", "g"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tb := &tailBuffer{limit: tc.limit}
			all := ""
			for _, w := range tc.writes {
				tb.write([]byte(w))
				all += w
			}
			got, total := tb.bytes()
			want := all[max(0, len(all)-tc.limit):]
			if string(got) != want {
				t.Errorf("tail = %q, want %q", got, want)
			}
			if total != int64(len(all)) {
				t.Errorf("total = %d, want %d", total, len(all))
			}
			if len(tb.buf) > tc.limit {
				t.Errorf("buffer holds %d bytes, more than the limit %d", len(tb.buf), tc.limit)
			}
		})
	}
}

func TestTailBufferCutsAtCharacterBoundary(t *testing.T) {
	cases := []struct {
		name  string
		text  string
		limit int
		want  string
	}{
		{"two-byte characters, odd limit", strings.Repeat("é", 10), 5, "éé"},
		{"three-byte characters", "a" + strings.Repeat("€", 4), 7, "€€"},
		{"four-byte characters", strings.Repeat("😀", 3), 6, "😀"},
		{"not cut: kept whole", "é€", 5, "é€"},
		{"ascii", "abcdef", 3, "def"},
		// Not UTF-8 at all: at most three bytes are dropped.
		{"binary", strings.Repeat("\x80", 10), 5, "\x80\x80"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tb := &tailBuffer{limit: tc.limit}
			for _, b := range []byte(tc.text) {
				tb.write([]byte{b})
			}
			got, _ := tb.bytes()
			if string(got) != tc.want {
				t.Errorf("tail = %q, want %q", got, tc.want)
			}
			if utf8.ValidString(tc.text) && !utf8.Valid(got) {
				t.Errorf("tail %q is not valid UTF-8", got)
			}
		})
	}
}

func TestQuoteName(t *testing.T) {
	long := strings.Repeat("é", maxName)
	got := quoteName(long)
	if !utf8.ValidString(got) || len(got) > maxName+len("…") {
		t.Errorf("quoteName of a long name = %d bytes, valid UTF-8 %v", len(got), utf8.ValidString(got))
	}
	if got := quoteName("a\nb\x1b[31m"); strings.ContainsAny(got, "\n\x1b") {
		t.Errorf("quoteName kept control characters: %q", got)
	}
}

func short(ws []string) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = shortOne(w)
	}
	return out
}

func shortOne(s string) string {
	if len(s) > 40 {
		return fmt.Sprintf("%s…%s (%d bytes)", s[:20], s[len(s)-10:], len(s))
	}
	return s
}
