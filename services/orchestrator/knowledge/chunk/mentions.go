package chunk

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Matcher finds CI names in texts. Build it once with NewMatcher for many
// chunks; it is safe for concurrent use.
type Matcher struct {
	ids map[string]string
	// maxRunes is the longest name's length in runes.
	maxRunes int
}

// NewMatcher returns a matcher of names (a CI's name or alias) to CI IDs.
// Names are matched case-insensitively with runs of spaces as one space;
// empty names are ignored, and of names equal once normalised the
// lexically least ID wins, so the result does not depend on map order.
func NewMatcher(names map[string]string) *Matcher {
	m := &Matcher{ids: make(map[string]string, len(names))}
	for name, id := range names {
		n := normalise(name)
		if n == "" || id == "" {
			continue
		}
		if old, ok := m.ids[n]; ok && old <= id {
			continue
		}
		m.ids[n] = id
		m.maxRunes = max(m.maxRunes, utf8.RuneCountInString(n))
	}
	return m
}

// Mentions returns the IDs of the CIs text names, each once, in order of
// first mention. ciNames maps lower-case names or aliases to CI IDs. A name
// matches only as whole words (a name's edge is not next to a letter,
// digit, '_', '-' or a '.' within a word), case-insensitively, and
// leftmost-longest: "payments-db replica" is that CI, not "payments-db".
func Mentions(text string, ciNames map[string]string) []string {
	return NewMatcher(ciNames).Find(text)
}

// Find is Mentions with the matcher's names.
func (m *Matcher) Find(text string) []string {
	if len(m.ids) == 0 {
		return nil
	}
	rs := []rune(normalise(text))
	var out []string
	seen := map[string]bool{}
	for i := 0; i < len(rs); {
		if !startsWord(rs, i) {
			i++
			continue
		}
		matched := 0
		for j := min(len(rs), i+m.maxRunes); j > i; j-- {
			if !endsWord(rs, j) {
				continue
			}
			if id, ok := m.ids[string(rs[i:j])]; ok {
				if !seen[id] {
					seen[id] = true
					out = append(out, id)
				}
				matched = j - i
				break
			}
		}
		i += max(matched, 1)
	}
	return out
}

// wordRune is a rune that continues a name: letters, digits, '_' and '-'.
func wordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-'
}

// joins reports whether rs[i] is inside a word: a word rune, or a '.'
// between two word runes (a host name such as db01.prod).
func joins(rs []rune, i int) bool {
	if i < 0 || i >= len(rs) {
		return false
	}
	if wordRune(rs[i]) {
		return true
	}
	return rs[i] == '.' && i > 0 && i+1 < len(rs) && wordRune(rs[i-1]) && wordRune(rs[i+1])
}

// startsWord reports whether a name may start at i: the rune before it does
// not join it.
func startsWord(rs []rune, i int) bool {
	return !(joins(rs, i-1) && joins(rs, i))
}

// endsWord reports whether a name may end before j.
func endsWord(rs []rune, j int) bool {
	return !(joins(rs, j-1) && joins(rs, j))
}

// normalise lower-cases s and turns every run of white space into one
// space, trimmed.
func normalise(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}
