// Package suggest finds the word a user probably meant, for "did you mean"
// hints in config and frequency errors.
package suggest

// maxRunes bounds the work on hostile input: nobody mistypes a word that long.
const maxRunes = 64

// Distance is the Levenshtein edit distance between a and b, counted in
// runes; words longer than 64 runes are infinitely far apart.
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > maxRunes || len(rb) > maxRunes {
		return 1 << 30
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
