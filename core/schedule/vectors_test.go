package schedule

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"
)

// vector is one line of testdata/later-vectors.jsonl, produced by later.js.
type vector struct {
	Expr   string    `json:"expr"`
	From   string    `json:"from"`
	Error  int       `json:"error"`
	Next   []*string `json:"next"`
	Fires  []*string `json:"fires"`
	Throws string    `json:"throws"`
}

func loadVectors(t testing.TB, path string) []vector {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []vector
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var v vector
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func fmtTimes(ts []time.Time) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = jsISO(t)
	}
	return out
}

// jsISO formats t as JavaScript's toISOString does.
func jsISO(t time.Time) string {
	t = t.UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		sign := "+"
		if y < 0 {
			sign, y = "-", -y
		}
		return fmt.Sprintf("%s%06d%s", sign, y, t.Format("-01-02T15:04:05.000Z"))
	}
	return t.Format("2006-01-02T15:04:05.000Z")
}

// fireChain is later.setInterval started at from with every timer firing
// on time: up to n fire instants.
func fireChain(s *Schedule, from time.Time, n int) []time.Time {
	var out []time.Time
	now := from
	for len(out) < n {
		t, ok := s.NextFire(now)
		if !ok {
			break
		}
		out = append(out, t)
		now = t
	}
	return out
}

// checkVector compares our behaviour with later's for one vector and
// reports which aspects disagree.
func checkVector(v vector) (errOK, nextOK, firesOK bool, detail string) {
	from, err := time.Parse(time.RFC3339Nano, v.From)
	if err != nil {
		return false, false, false, "bad from: " + err.Error()
	}
	s, perr := parseText(v.Expr, from)
	var pe *ParseError
	switch {
	case v.Error >= 0:
		errOK = errors.As(perr, &pe) && pe.Pos == v.Error
		nextOK, firesOK = errOK, errOK
		if !errOK {
			detail = fmt.Sprintf("want parse error at %d, got %v", v.Error, perr)
		}
		return
	case v.Throws != "" && perr == nil:
		// later threw while searching: we produce nothing from there.
		_, ok := s.prog.next(10, float64(toMS(from)), nil)
		errOK, nextOK, firesOK = true, !ok, !ok
		if ok {
			detail = fmt.Sprintf("later throws %q while searching; we do not", v.Throws)
		}
		return
	case v.Throws != "":
		errOK = !errors.As(perr, &pe)
		nextOK, firesOK = errOK, errOK
		if !errOK {
			detail = fmt.Sprintf("later throws %q; got %v", v.Throws, perr)
		}
		return
	case perr != nil:
		return false, false, false, "unexpected error: " + perr.Error()
	}
	errOK = true
	got := fmtTimes(s.Next(10, from))
	nextOK = fmt.Sprint(got) == fmt.Sprint(norm(v.Next))
	if !nextOK {
		detail += fmt.Sprintf("next:\n  got  %v\n  want %v\n", got, norm(v.Next))
	}
	fires := fmtTimes(fireChain(s, from, 5))
	firesOK = fmt.Sprint(fires) == fmt.Sprint(norm(v.Fires))
	if !firesOK {
		detail += fmt.Sprintf("fires:\n  got  %v\n  want %v\n", fires, norm(v.Fires))
	}
	return
}

// norm brings later's ISO strings to jsISO's form. later yields invalid
// Dates (null here) where its search breaks down; Next stops there.
func norm(ts []*string) []string {
	out := []string{}
	for _, s := range ts {
		if s == nil {
			break
		}
		if t, err := time.Parse(time.RFC3339Nano, *s); err == nil {
			out = append(out, jsISO(t))
		} else {
			out = append(out, *s)
		}
	}
	return out
}

func TestLaterVectors(t *testing.T) {
	for _, file := range []string{"testdata/later-vectors.jsonl", "testdata/later-extra.jsonl", "testdata/later-random.jsonl"} {
		if file != "testdata/later-vectors.jsonl" && (testing.Short() || raceEnabled) {
			// These hold schedules that make later search until 2100 (about
			// a minute of CPU in all); the reference vectors always run.
			t.Logf("%s: skipped in -short and -race runs", file)
			continue
		}
		vs := loadVectors(t, file)
		var nErr, nNext, nFires atomic.Int32
		t.Run(file, func(t *testing.T) {
			for i, v := range vs {
				t.Run(fmt.Sprintf("%d/%s@%s", i+1, v.Expr, v.From), func(t *testing.T) {
					t.Parallel()
					e, n, f, detail := checkVector(v)
					if e {
						nErr.Add(1)
					}
					if n {
						nNext.Add(1)
					}
					if f {
						nFires.Add(1)
					}
					if !(e && n && f) {
						t.Errorf("%q from %s disagrees with later.js:\n%s", v.Expr, v.From, detail)
					}
				})
			}
		})
		t.Logf("%s: error %d/%d, next %d/%d, fires %d/%d", file, nErr.Load(), len(vs), nNext.Load(), len(vs), nFires.Load(), len(vs))
	}
}
