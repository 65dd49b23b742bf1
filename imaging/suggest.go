package imaging

import "strings"

// Suggest returns the candidate a mistyped name most likely meant, or "" when
// none is close. Aliases map common mistakes (lower case) straight to the
// intended name; otherwise the nearest candidate within an edit distance of
// two wins, ties going to the earlier candidate.
func Suggest(name string, candidates []string, aliases map[string]string) string {
	n := strings.ToLower(strings.TrimSpace(name))
	if a, ok := aliases[n]; ok {
		return a
	}
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := editDistance(n, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	// A one-letter name is at distance <= 2 from too many candidates to mean anything.
	if len(n) < 3 && bestDist > 0 {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		// Names that long are not typos of ours; avoid quadratic work on hostile input.
		return 1 << 10
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
