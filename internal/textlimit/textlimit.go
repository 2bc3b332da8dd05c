// Package textlimit cuts text to the byte limits of columns, fields and
// messages without splitting a UTF-8 character.
package textlimit

import "unicode/utf8"

// Truncate cuts s to at most n bytes on a rune boundary.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
