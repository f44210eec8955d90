package schedule

import (
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"
)

// canStart reports whether token t may match at p, from the first
// character alone.
func canStart[T unit](t tok, in []T, p int) bool {
	return p < len(in) && in[p] < 128 && startToks[in[p]]&t.set() != 0
}

// match is what peek does for a single expected token: the length of
// t's match at p, or -1.
func match[T unit](t tok, in []T, p int) int {
	if !canStart(t, in, p) {
		return -1
	}
	return matchAt(t, in, p, prefixKey(in, p))
}

// matchRef is match without the first-character filter: every word of
// the token is tried, as later's regular expressions do.
func matchRef(t tok, in []uint16, p int) int {
	switch t {
	case tRank, tYearIndex, tTime:
		return match(t, in, p)
	}
	for _, w := range words[t] {
		if hasPrefix(in, p, w) && (w == "," || w == "-" || boundary(in, p+len(w))) {
			return len(w)
		}
	}
	return -1
}

// lexInputs are the expressions of the vector files plus random
// mutations of them: ASCII and non-ASCII letters, JS whitespace, case
// changes, digits and punctuation inserted, deleted or replaced.
func lexInputs(t *testing.T) []string {
	var out []string
	for _, file := range []string{"testdata/later-vectors.jsonl", "testdata/later-extra.jsonl", "testdata/later-random.jsonl"} {
		for _, v := range loadVectors(t, file) {
			out = append(out, v.Expr)
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	pieces := []string{"a", "Z", "M", "9", "0", ":", ",", "-", "@", " ", "\t", "\u00a0", "\u2028", "\ufeff",
		"İ", "K", "ſ", "É", "ß", "ǅ", "Σ", "𝐀", "\U0001F600", "\xff", "_", "st", "PM", "Day", "Of The"}
	r := rand.New(rand.NewPCG(3, 4))
	n := len(out)
	for i := 0; i < 4*n; i++ {
		s := []byte(out[r.IntN(n)])
		for range 1 + r.IntN(3) {
			at := 0
			if len(s) > 0 {
				at = r.IntN(len(s) + 1)
			}
			switch r.IntN(3) {
			case 0: // insert
				s = slices.Insert(s, at, []byte(pieces[r.IntN(len(pieces))])...)
			case 1: // delete
				if at < len(s) {
					s = slices.Delete(s, at, at+1)
				}
			default: // upper-case
				if at < len(s) && s[at] >= 'a' && s[at] <= 'z' {
					s[at] -= 'a' - 'A'
				}
			}
		}
		out = append(out, string(s))
	}
	t.Logf("%d inputs", len(out))
	return out
}

func TestLowerASCIIAgreesWithLowerJS(t *testing.T) {
	for _, s := range lexInputs(t) {
		want, origin := lowerJS(s)
		got, ok := lowerASCII(s, nil)
		ascii := true
		for i := 0; i < len(s); i++ {
			ascii = ascii && s[i] < 0x80
		}
		if ok != ascii {
			t.Fatalf("%q: ok = %v, want %v", s, ok, ascii)
		}
		if !ok {
			continue
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%q: units %v, want %v", s, got, want)
		}
		for i, o := range origin {
			if o != i {
				t.Fatalf("%q: unit %d comes from rune %d", s, i, o)
			}
		}
	}
}

func TestMatchAgreesWithReference(t *testing.T) {
	for _, s := range lexInputs(t) {
		in, _ := lowerJS(s)
		for p := 0; p <= len(in); p++ {
			for tk := tEvery; tk <= tYearIndex; tk++ {
				if got, want := match(tk, in, p), matchRef(tk, in, p); got != want {
					t.Fatalf("%q at %d, token %d: match = %d, want %d", s, p, tk, got, want)
				}
			}
		}
	}
}

func TestCivilRoundTrip(t *testing.T) {
	for z := int64(-800000); z <= 800000; z++ {
		y, m, d := civil(z)
		if m < 1 || m > 12 || d < 1 || d > 31 || daysFromCivil(y, m, d) != z {
			t.Fatalf("civil(%d) = %d-%d-%d", z, y, m, d)
		}
	}
}

// TestMatchHeadAgreesWithWords checks the head lookup against trying
// every word of the tokens, for single tokens, the parser's sets and
// random sets.
func TestMatchHeadAgreesWithWords(t *testing.T) {
	sets := []tokSet{topSet, periodSet, 1<<tThrough | 1<<tAnd, 1<<tStart | 1<<tBetween, 1<<tWeekend | 1<<tWeekday | 1<<tRank}
	for tk := tEvery; tk <= tMonthName; tk++ {
		sets = append(sets, tk.set())
	}
	r := rand.New(rand.NewPCG(5, 6))
	for range 40 {
		sets = append(sets, tokSet(r.Uint64())&(1<<(tMonthName+1)-2))
	}
	for _, s := range lexInputs(t) {
		var p parser
		p.init(s, false)
		in := p.input()
		for at := 0; at < len(in); at++ {
			if in[at] < 'a' || in[at] > 'z' {
				continue
			}
			key := prefixKey(in, at)
			for _, set := range sets {
				gt, gn := matchHead(set, in, at, key)
				wt, wn := matchWordsIn(set, in, at, key)
				if gt != wt || gn != wn {
					t.Fatalf("%q at %d, set %x: matchHead = %d, %d; matchWordsIn = %d, %d", s, at, set, gt, gn, wt, wn)
				}
			}
		}
	}
}

// TestMatchNumberAgreesWithMatchAt checks the parser's number tokens
// against matchAt, for each set of them.
func TestMatchNumberAgreesWithMatchAt(t *testing.T) {
	for _, s := range lexInputs(t) {
		var p parser
		p.init(s, false)
		in := p.input()
		for at := 0; at < len(in); at++ {
			if !isDigit(in[at]) {
				continue
			}
			for set := tokSet(0); set <= numberToks; set = (set - numberToks) & numberToks {
				if set == 0 {
					continue
				}
				wt, wn := tNone, -1
				for tk := tRank; tk <= tYearIndex; tk++ {
					if set&tk.set() != 0 {
						if n := matchAt(tk, in, at, 0); n > wn {
							wt, wn = tk, n
						}
					}
				}
				if gt, gn := matchNumber(set, in, at); gt != wt || gn != wn {
					t.Fatalf("%q at %d, set %x: matchNumber = %d, %d; want %d, %d", s, at, set, gt, gn, wt, wn)
				}
				if set == numberToks {
					break
				}
			}
		}
	}
}

// TestWordsBelongToOneToken backs matchHead's longest-match rule: no
// word is shared by two tokens.
func TestWordsBelongToOneToken(t *testing.T) {
	owner := map[string]tok{}
	for tk, ws := range words {
		for _, w := range ws {
			if o, ok := owner[w]; ok && o != tok(tk) {
				t.Errorf("%q belongs to tokens %d and %d", w, o, tk)
			}
			owner[w] = tok(tk)
		}
	}
}

func TestWordBytes(t *testing.T) {
	for c := 0; c <= 0x80; c++ {
		if c >= 'A' && c <= 'Z' {
			continue // the input is lowered
		}
		for pos := range 8 {
			var b [8]byte
			for i := range b {
				b[i] = 'a'
			}
			b[pos] = byte(c)
			want := 8
			if !isWord(byte(c)) {
				want = pos
			}
			if got := wordBytes(binary.LittleEndian.Uint64(b[:])); got != want {
				t.Fatalf("%q: wordBytes = %d, want %d", b, got, want)
			}
		}
	}
}
