package limit

import "bytes"

// ExceedsDepth reports whether the JSON text b nests arrays and objects more
// than maxDepth levels deep: `{}` and `[]` are one level, `{"a":[1]}` two. It
// makes one pass over b without parsing it, counting '{' and '[' and
// uncounting '}' and ']' outside strings, and stops as soon as the count
// passes maxDepth. Inside a string, a quote ends it unless an odd run of
// backslashes precedes it, so brackets in strings and escaped quotes never
// count.
//
// It does not check that b is valid JSON; a normaliser does that later, on
// input now known to be shallow. Unbalanced or unterminated input cannot
// make it over-count: a closer never takes the count below zero, and an
// unterminated string ends the scan.
func ExceedsDepth(b []byte, maxDepth int) bool {
	depth := 0
	for i := 0; i < len(b); i++ {
		switch structural[b[i]] {
		case open:
			depth++
			if depth > maxDepth {
				return true
			}
		case closer:
			if depth > 0 {
				depth--
			}
		case quote:
			end := stringEnd(b, i)
			if end < 0 {
				return false
			}
			i = end
		}
	}
	return false
}

// stringEnd returns the index of the quote that closes the string opened at
// b[start], or -1 when the string is not closed. IndexByte finds candidate
// quotes quickly; a candidate preceded by an odd number of backslashes is
// escaped and skipped.
func stringEnd(b []byte, start int) int {
	j := start + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return -1
		}
		j += k
		backslashes := 0
		for p := j - 1; p > start && b[p] == '\\'; p-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			return j
		}
		j++
	}
}

// Byte classes for ExceedsDepth; a table lookup beats a switch on the byte
// in the loop that walks everything outside strings.
const (
	other = iota
	open
	closer
	quote
)

var structural = [256]uint8{'{': open, '[': open, '}': closer, ']': closer, '"': quote}
