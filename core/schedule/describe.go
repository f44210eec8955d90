package schedule

import (
	"fmt"
	"math/bits"
	"strings"

	"github.com/seed-e9b80cf6/heartbeat/core/suggest"
)

// describe words a parse failure at pos for users: what was expected
// there and, when the text is close to a keyword, a suggestion.
func describe(in []uint16, pos int, want tokSet) (msg, hint string) {
	word := wordAt(in, pos)
	var what string
	var cands []string
	one := tNone // the token, when only one was expected
	if want != 0 && want&(want-1) == 0 {
		one = tok(bits.TrailingZeros64(uint64(want)))
	}
	switch {
	case one == tRank:
		what = "expected a number such as '5' or '5th'"
		if len(word) > 0 && (word[0] == '-' || strings.ContainsAny(word, ".")) {
			hint = "numbers must be whole and positive, e.g. 'every 5 minutes'"
		} else if isNumberWord(word) {
			hint = "write numbers with digits, e.g. 'every 5 minutes'"
		}
	case one == tTime:
		what = "expected a time such as '9:00', '9:00 am' or '17:30'"
		if strings.HasPrefix(word, "noon") {
			hint = "write noon as '12:00'"
		}
	case one == tDayName:
		what = "expected a day name such as 'mon' or 'monday'"
		cands = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat", "sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}
	case one == tMonthName:
		what = "expected a month name such as 'jan' or 'january'"
		cands = []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sept", "oct", "nov", "dec",
			"january", "february", "march", "april", "june", "july", "august", "september", "october", "november", "december"}
		if word == "jun" || word == "jul" || word == "sep" {
			hint = fmt.Sprintf("'%s' is not recognised here; write the full month name", word)
		}
	case one == tYearIndex:
		what = "expected a four-digit year such as '2027'"
	case one != tNone:
		w := words[one][len(words[one])-1]
		what = fmt.Sprintf("expected '%s' again to finish 'starting on the N %s'", w, w)
	case want == periodSet:
		what = "expected a time period such as 'minutes'"
		cands = []string{"seconds", "second", "secs", "sec", "minutes", "minute", "mins", "min",
			"hours", "hour", "days", "day", "weeks", "week", "months", "month", "years", "year",
			"day of the week", "day of the year", "week of the month", "week of the year", "day instance"}
	default:
		what = "expected 'every', 'at', 'on', 'on the', 'after', 'before', 'of', 'in', 'except', 'also' or 'and'"
		cands = []string{"every", "after", "before", "on", "of", "in", "at", "and", "except", "also"}
	}
	switch {
	case pos >= len(in) && pos > 0 && isSpace(in[pos-1]):
		msg = "unexpected space at the end; " + what
		hint = "remove the trailing whitespace"
		return msg, hint
	case pos >= len(in):
		msg = "unexpected end of frequency; " + what
		return msg, hint
	}
	msg = what
	if hint != "" {
		return msg, hint
	}
	if want == topSet && pos == 0 {
		switch {
		case strings.HasPrefix(word, "every") && len(word) > 5:
			return msg, "separate the words with spaces, e.g. 'every 1 hour'"
		case strings.ContainsAny(word, "*") || isCronLike(in):
			return msg, "this looks like a cron expression; use a cron schedule instead"
		case word == "hourly" || word == "daily" || word == "weekly" || word == "monthly":
			return msg, fmt.Sprintf("write it as 'every 1 %s'", map[string]string{"hourly": "hour", "daily": "day", "weekly": "week", "monthly": "month"}[word])
		case len(word) > 0 && word[0] >= '0' && word[0] <= '9':
			return msg, "start with 'every', e.g. 'every " + spaced(restAt(in, pos)) + "'"
		}
	}
	if len(word) > 0 && word[0] >= '0' && word[0] <= '9' && (want == periodSet || one == tSecond) {
		return msg, "put a space between the number and the period"
	}
	if w := closest(word, cands); w != "" {
		hint = fmt.Sprintf("did you mean '%s'?", w)
	}
	return msg, hint
}

func spaced(w string) string {
	i := 0
	for i < len(w) && w[i] >= '0' && w[i] <= '9' {
		i++
	}
	if i < len(w) && w[i] != ' ' {
		return w[:i] + " " + w[i:]
	}
	return w
}

func isNumberWord(w string) bool {
	switch w {
	case "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "fifteen", "twenty", "thirty":
		return true
	}
	return false
}

func isCronLike(in []uint16) bool {
	fields := 0
	inField := false
	for _, c := range in {
		if isSpace(c) {
			inField = false
			continue
		}
		if !(isDigit(c) || c == '*' || c == '/' || c == ',' || c == '-' || c == '?') {
			return false
		}
		if !inField {
			fields++
			inField = true
		}
	}
	return fields == 5 || fields == 6
}

// restAt returns the rest of the input from pos (shortened), for hints.
func restAt(in []uint16, pos int) string {
	end := min(len(in), pos+30)
	var b strings.Builder
	for _, c := range in[pos:end] {
		if isSpace(c) {
			c = ' '
		}
		b.WriteRune(rune(c))
	}
	return strings.TrimSpace(b.String())
}

// wordAt returns the ASCII-ish word starting at pos, for messages.
func wordAt(in []uint16, pos int) string {
	var b strings.Builder
	for i := pos; i < len(in) && !isSpace(in[i]) && i-pos < 40; i++ {
		if in[i] < 0x80 {
			b.WriteByte(byte(in[i]))
		} else {
			b.WriteRune(rune(in[i]))
		}
	}
	return b.String()
}

// closest returns the candidate within edit distance 2 of w, if any.
func closest(w string, cands []string) string {
	if w == "" {
		return ""
	}
	w = strings.TrimRight(w, ".,;:!")
	best, bestD := "", 3
	for _, c := range cands {
		if d := suggest.Distance(w, c); d < bestD && d < len(c) {
			best, bestD = c, d
		}
	}
	return best
}
