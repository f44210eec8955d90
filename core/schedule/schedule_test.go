package schedule

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestParseErrorMessage(t *testing.T) {
	tests := []struct {
		expr string
		want string
	}{
		{"every 5 minz", "invalid frequency at position 8: expected a time period such as 'minutes'\n  every 5 minz\n          ^\ndid you mean 'mins'?"},
		{"at 25:00", "invalid frequency at position 3: expected a time such as '9:00', '9:00 am' or '17:30'\n  at 25:00\n     ^"},
		{"every1hour", "invalid frequency at position 0: expected 'every', 'at', 'on', 'on the', 'after', 'before', 'of', 'in', 'except', 'also' or 'and'\n  every1hour\n  ^\nseparate the words with spaces, e.g. 'every 1 hour'"},
		{"every 1 hour  ", "invalid frequency at position 14: unexpected space at the end; expected 'every', 'at', 'on', 'on the', 'after', 'before', 'of', 'in', 'except', 'also' or 'and'\n  every 1 hour  \n                ^\nremove the trailing whitespace"},
		{"every 1 hour\tagain", "invalid frequency at position 13: expected 'every', 'at', 'on', 'on the', 'after', 'before', 'of', 'in', 'except', 'also' or 'and'\n  every 1 hour\\tagain\n                ^"},
		{"every five minutes", "invalid frequency at position 6: expected a number such as '5' or '5th'\n  every five minutes\n        ^\nwrite numbers with digits, e.g. 'every 5 minutes'"},
		{"1 hour", "invalid frequency at position 0: expected 'every', 'at', 'on', 'on the', 'after', 'before', 'of', 'in', 'except', 'also' or 'and'\n  1 hour\n  ^\nstart with 'every', e.g. 'every 1 hour'"},
		{"*/5 * * * *", "invalid frequency at position 0: expected 'every', 'at', 'on', 'on the', 'after', 'before', 'of', 'in', 'except', 'also' or 'and'\n  */5 * * * *\n  ^\nthis looks like a cron expression; use a cron schedule instead"},
		{"on Funday", "invalid frequency at position 3: expected a day name such as 'mon' or 'monday'\n  on Funday\n     ^\ndid you mean 'sunday'?"},
		{"every 2 hours starting at 3", "invalid frequency at position 27: unexpected end of frequency; expected 'hour' again to finish 'starting on the N hour'\n  every 2 hours starting at 3\n                             ^"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			_, err := Parse(tt.expr)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) = %v, want a *ParseError", tt.expr, err)
			}
			if pe.Expr != tt.expr {
				t.Errorf("Expr = %q", pe.Expr)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("Error() =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestParseErrorEscapes: characters that could garble a terminal or hide
// text are shown escaped, the caret stays under the same character and
// the position remains later's (UTF-16 units).
func TestParseErrorEscapes(t *testing.T) {
	tests := []struct {
		expr  string
		pos   int
		line  string // the echoed expression
		caret int    // columns before the caret
	}{
		{"every 1 hour\u202e", 12, `every 1 hour\u202e`, 12},
		{"\u202eevery 1 hour", 0, `\u202eevery 1 hour`, 0},
		{"every 1 hour\u2066x\u2069", 12, `every 1 hour\u2066x\u2069`, 12},
		{"every 1 hour\x00x", 12, `every 1 hour\x00x`, 12},
		{"every 5 minz\x1b[31m", 8, `every 5 minz\x1b[31m`, 8},
		{"every 1 hour\ufeffx", 13, `every 1 hour\ufeffx`, 18},
		{"every\u2028\u20281 hour x", 14, `every\u2028\u20281 hour x`, 24},
		{"every 1 hour\u3000x", 13, "every 1 hour\u3000x", 14},
		{"every 1 hour\U0001F600 x", 12, "every 1 hour\U0001F600 x", 12},
		{"every 1 hour \U0001F600x", 13, "every 1 hour \U0001F600x", 13},
		{"\xffevery", 0, `\xffevery`, 0},
		{"every 1 \u0085hour", 8, `every 1 \u0085hour`, 8},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			_, err := Parse(tt.expr)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) = %v, want a *ParseError", tt.expr, err)
			}
			if pe.Pos != tt.pos || pe.Expr != tt.expr {
				t.Errorf("Pos = %d, Expr = %q; want %d, %q", pe.Pos, pe.Expr, tt.pos, tt.expr)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) < 3 || lines[1] != "  "+tt.line || lines[2] != "  "+strings.Repeat(" ", tt.caret)+"^" {
				t.Errorf("Error() =\n%s\nwant the line %q with the caret after %d columns", err, tt.line, tt.caret)
			}
			for _, r := range err.Error() {
				if needsEscape(r) && r != '\n' {
					t.Errorf("Error() holds %U", r)
				}
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		expr    string
		contain string
	}{
		{"also", "incomplete"},
		{"every 1 hour except at 12:00 except on sun", "incomplete"},
		{"except", "never fires"},
		{"", "never fires"},
		{"every 1 minute starting on the 61st minute", "never fires"},
		{"on the 32nd day of the month", "never fires"},
		{"in 2025", "never fires"},
		{"on the 9007199254740993rd minute", "too large"},
		{"on the 1 through 200000 minute", "too large"},
		{"every 1 minute between the 0 and 9007199254740992", "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			start := time.Now()
			s, err := Parse(tt.expr)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want an error", tt.expr, s)
			}
			if !strings.Contains(err.Error(), tt.contain) || !strings.Contains(err.Error(), tt.expr) {
				t.Errorf("error %q should mention %q and the expression", err, tt.contain)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestNextAndFire(t *testing.T) {
	tests := []struct {
		expr  string
		from  string
		next  []string
		fires []string
	}{
		{"every 1 hour", "2026-03-15T13:00:30Z",
			[]string{"2026-03-15T13:00:30Z", "2026-03-15T14:00:00Z"},
			[]string{"2026-03-15T14:00:00Z", "2026-03-15T15:00:00Z"}},
		{"every 5 mins", "2026-03-15T13:47:29.250Z",
			[]string{"2026-03-15T13:50:00Z", "2026-03-15T13:55:00Z"},
			[]string{"2026-03-15T13:50:00Z", "2026-03-15T13:55:00Z"}},
		{"every 7 minutes", "2026-03-15T13:50:00Z",
			[]string{"2026-03-15T13:56:00Z", "2026-03-15T14:00:00Z", "2026-03-15T14:07:00Z"},
			[]string{"2026-03-15T13:56:00Z", "2026-03-15T14:00:00Z", "2026-03-15T14:07:00Z"}},
		{"every 90 minutes", "2026-03-15T13:47:29Z",
			[]string{"2026-03-15T14:00:00Z", "2026-03-15T15:00:00Z"},
			[]string{"2026-03-15T14:00:00Z", "2026-03-15T15:00:00Z"}},
		{"after 10:00am", "2026-03-15T09:59:59Z",
			[]string{"2026-03-15T10:00:00Z", "2026-03-15T10:00:01Z"},
			[]string{"2026-03-15T10:00:00Z", "2026-03-15T10:00:01Z", "2026-03-15T10:00:02Z"}},
		{"at 17:00 and 9:00", "2026-03-15T13:47:29Z",
			[]string{"2026-03-15T17:00:00Z", "2026-03-16T17:00:00Z"},
			[]string{"2026-03-15T17:00:00Z", "2026-03-16T17:00:00Z"}},
		// later sleeps 2^31-1 ms at a time and searches again each time.
		{"at 12:00 on the 1st day of jan in 2030", "2026-03-15T13:47:29Z",
			[]string{"2030-01-01T12:00:00Z"},
			[]string{"2030-01-01T12:00:00Z", "2030-01-01T12:00:01Z"}},
		{"every 1 hour except at 12:00", "2026-03-15T10:30:00Z",
			[]string{"2026-03-15T10:30:00Z", "2026-03-15T11:00:00Z"},
			[]string{"2026-03-15T11:00:00Z", "2026-03-15T11:00:01Z", "2026-03-15T11:00:02Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			s, err := parseText(tt.expr, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			from := mustTime(t, tt.from)
			got := fmtTimes(s.Next(len(tt.next), from))
			if strings.Join(got, " ") != strings.Join(norm(ptrs(tt.next)), " ") {
				t.Errorf("Next = %v, want %v", got, tt.next)
			}
			fires := fmtTimes(fireChain(s, from, len(tt.fires)))
			if strings.Join(fires, " ") != strings.Join(norm(ptrs(tt.fires)), " ") {
				t.Errorf("fires = %v, want %v", fires, tt.fires)
			}
			for _, f := range fireChain(s, from, 3) {
				if !f.After(from) {
					t.Errorf("fire %v not after %v", f, from)
				}
			}
		})
	}
}

func ptrs(ss []string) []*string {
	out := make([]*string, len(ss))
	for i := range ss {
		out[i] = &ss[i]
	}
	return out
}

func TestNextFireStopsAt2100(t *testing.T) {
	s, err := parseText("every 1 year of dec", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	from := mustTime(t, "2099-12-31T00:00:00Z")
	if got := fmtTimes(s.Next(3, from)); strings.Join(got, " ") != "2099-12-31T00:00:00.000Z 2100-12-01T00:00:00.000Z 2101-12-01T00:00:00.000Z" {
		t.Errorf("Next = %v, want later's 2099-12-31, 2100-12-01 and 2101-12-01", got)
	}
	if f, ok := s.NextFire(from); ok {
		t.Errorf("NextFire = %v, want none (2100 or later)", f)
	}
}

func TestOddFromTimes(t *testing.T) {
	exprs := []string{"every 1 hour", "every 2 weeks", "on the last day of the month", "every 1 hour except at 12:00", "at 9:00 in 2027", "on the 60th second"}
	froms := []time.Time{{}, time.Unix(0, 0), time.Unix(0, 1), time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(50, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(2099, 12, 31, 23, 59, 59, 999e6, time.UTC),
		time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(275760, 9, 13, 0, 0, 0, 0, time.UTC),
		time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-300000, 1, 1, 0, 0, 0, 0, time.UTC)}
	for _, e := range exprs {
		s, err := parseText(e, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range froms {
			t.Run(e+"@"+f.String(), func(t *testing.T) {
				start := time.Now()
				_ = s.Next(10, f)
				if fire, ok := s.NextFire(f); ok && (!fire.After(f) || fire.Year() >= 2100) {
					t.Errorf("NextFire(%v) = %v", f, fire)
				}
				if d := time.Since(start); d > 10*time.Second {
					t.Errorf("took %v", d)
				}
			})
		}
	}
	// later refuses the epoch itself as a start date.
	s, _ := parseText("every 1 hour", time.Now())
	if got := s.Next(1, time.Unix(0, 0)); got != nil {
		t.Errorf("Next(epoch) = %v, want nil", got)
	}
}

func TestIn(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	s, err := Parse("at 9:00")
	if err != nil {
		t.Fatal(err)
	}
	from := mustTime(t, "2026-03-07T12:00:00Z")
	got := fmtTimes(s.In(ny).Next(3, from))
	want := []string{"2026-03-07T14:00:00.000Z", "2026-03-08T13:00:00.000Z", "2026-03-09T13:00:00.000Z"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("In(New York).Next = %v, want %v", got, want)
	}
	if f, ok := s.In(ny).NextFire(from); !ok || jsISO(f) != want[0] || f.Location() != ny {
		t.Errorf("NextFire = %v %v", f, ok)
	}
	if got := fmtTimes(s.In(nil).Next(1, from)); got[0] != "2026-03-07T09:00:00.000Z" && got[0] != "2026-03-08T09:00:00.000Z" {
		t.Errorf("In(nil) = %v", got)
	}
	if s.String() != "at 9:00" || s.In(ny).String() != "at 9:00" {
		t.Errorf("String() = %q", s.String())
	}
}

func TestWarnings(t *testing.T) {
	tests := []struct {
		expr    string
		contain string // "" means no warning
	}{
		{"every 5 minutes", ""},
		{"every 1 hour", ""},
		{"at 9:00 and 17:00", ""},
		{"on the 1st and 15th day of the month", ""},
		{"every 7 minutes", "gap of 4 minutes"},
		{"every 90 minutes", "only once per hour"},
		{"every 5 hours", "gap of 4 hours"},
		{"after 10:00am", "every second"},
		{"at 17:00 and 9:00", "not in increasing order"},
		{"on fri and mon", "not in increasing order"},
		{"every 1 hour except at 12:00", "stall"},
		{"in 2027", "every second"},
		{"on mon through sun", "ends before it starts"},
		{"on the 60th second", "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			s, err := parseText(tt.expr, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			w := strings.Join(s.Warnings(), "\n")
			if tt.contain == "" && w != "" {
				t.Errorf("unexpected warnings: %s", w)
			}
			if !strings.Contains(w, tt.contain) {
				t.Errorf("warnings %q should contain %q", w, tt.contain)
			}
		})
	}
}

func TestParseCron(t *testing.T) {
	from := mustTime(t, "2026-03-15T13:47:29Z")
	tests := []struct {
		expr string
		next []string
	}{
		{"*/15 * * * *", []string{"2026-03-15T14:00:00.000Z", "2026-03-15T14:15:00.000Z", "2026-03-15T14:30:00.000Z"}},
		{"*/20 * * * * *", []string{"2026-03-15T13:47:40.000Z", "2026-03-15T13:48:00.000Z", "2026-03-15T13:48:20.000Z"}},
		{"0 9 * * mon-fri", []string{"2026-03-16T09:00:00.000Z", "2026-03-17T09:00:00.000Z", "2026-03-18T09:00:00.000Z"}},
		{"@hourly", []string{"2026-03-15T14:00:00.000Z", "2026-03-15T15:00:00.000Z", "2026-03-15T16:00:00.000Z"}},
		{"@every 90m", []string{"2026-03-15T15:17:29.000Z", "2026-03-15T16:47:29.000Z", "2026-03-15T18:17:29.000Z"}},
		{"29 47 13 15 3 *", []string{"2026-03-15T13:47:29.000Z", "2027-03-15T13:47:29.000Z", "2028-03-15T13:47:29.000Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			s, err := ParseCron(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			if got := fmtTimes(s.Next(3, from)); strings.Join(got, " ") != strings.Join(tt.next, " ") {
				t.Errorf("Next = %v, want %v", got, tt.next)
			}
			f, ok := s.NextFire(from)
			if !ok || !f.After(from) {
				t.Errorf("NextFire = %v %v", f, ok)
			}
			if s.String() != tt.expr {
				t.Errorf("String() = %q", s.String())
			}
		})
	}
	for _, bad := range []string{"", "* * *", "61 * * * *", "* * * * * * * *", "0 0 30 2 *", "TZ=UTC * * * * *", "every 5 minutes"} {
		t.Run("bad "+bad, func(t *testing.T) {
			if _, err := ParseCron(bad); err == nil || !strings.Contains(err.Error(), "cron") || !strings.Contains(err.Error(), bad) {
				t.Errorf("ParseCron(%q) error = %v", bad, err)
			}
		})
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	s, _ := ParseCron("0 9 * * *")
	if got := fmtTimes(s.In(ny).Next(1, from)); got[0] != "2026-03-16T13:00:00.000Z" {
		t.Errorf("cron In(New York) = %v", got)
	}
}
