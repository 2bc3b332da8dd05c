package reasoning

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// pattern is a compiled rule pattern with a literal prefilter. Most rules
// do not match most signals, and Go's regexp tries every start position of
// a long alternation before it says so; the heuristic classifier spent a
// quarter of the orchestrator's CPU there. A pattern first looks for the
// literals any match must contain (one of "outage", "loss of data", ... for
// the critical words) with strings.Contains, and runs the regexp only when
// one is there.
//
// The prefilter only ever answers "cannot match"; a match still comes from
// the regexp, so a pattern finds exactly what its regexp finds.
type pattern struct {
	*regexp.Regexp
	// needles are lower-case literals, one of which is in the lower-cased
	// text of every match; nil when the pattern has no such set.
	needles []string
}

// mustPattern compiles expr as regexp.MustCompile does, and works out its
// prefilter.
func mustPattern(expr string) *pattern {
	re := regexp.MustCompile(expr)
	p := &pattern{Regexp: re}
	tree, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return p // regexp accepted it; keep the plain regexp.
	}
	if lits, ok := requiredLiterals(tree.Simplify()); ok {
		p.needles = minimalNeedles(lits)
	}
	patterns = append(patterns, p)
	return p
}

// patterns is every pattern the package compiled, so that a test can hold
// each prefilter to its regexp.
var patterns []*pattern

// mayMatch reports whether s contains one of the pattern's needles, in
// lower case. Two letters outside ASCII fold to ASCII ones, the Kelvin sign
// (K) to k and the long s (ſ) to s, so (?i)k matches K: text holding either
// always may match. Lower-casing maps every other letter to one that no
// ASCII literal matches, and keeps an ASCII run a run.
func (p *pattern) mayMatch(s string) bool {
	if p.needles == nil {
		return true
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			if strings.ContainsRune(s, '\u212a') || strings.ContainsRune(s, '\u017f') {
				return true
			}
			break
		}
	}
	s = strings.ToLower(s) // no copy when s is ASCII without upper case
	for _, n := range p.needles {
		if strings.Contains(s, n) {
			return true
		}
	}
	return false
}

// MatchString is regexp's, after the prefilter.
func (p *pattern) MatchString(s string) bool {
	return p.mayMatch(s) && p.Regexp.MatchString(s)
}

// FindString is regexp's, after the prefilter.
func (p *pattern) FindString(s string) string {
	if !p.mayMatch(s) {
		return ""
	}
	return p.Regexp.FindString(s)
}

// FindStringSubmatch is regexp's, after the prefilter.
func (p *pattern) FindStringSubmatch(s string) []string {
	if !p.mayMatch(s) {
		return nil
	}
	return p.Regexp.FindStringSubmatch(s)
}

// FindAllStringIndex is regexp's, after the prefilter.
func (p *pattern) FindAllStringIndex(s string, n int) [][]int {
	if !p.mayMatch(s) {
		return nil
	}
	return p.Regexp.FindAllStringIndex(s, n)
}

// FindAllStringSubmatch is regexp's, after the prefilter.
func (p *pattern) FindAllStringSubmatch(s string, n int) [][]string {
	if !p.mayMatch(s) {
		return nil
	}
	return p.Regexp.FindAllStringSubmatch(s, n)
}

// requiredLiterals returns literals, lower-cased, one of which every match
// of re contains; ok is false when re has no such set (it can match
// without any literal, as `\d+` or `(?:foo)?` can).
func requiredLiterals(re *syntax.Regexp) (lits []string, ok bool) {
	switch re.Op {
	case syntax.OpLiteral:
		s := string(re.Rune)
		for _, r := range re.Rune {
			if r >= utf8.RuneSelf {
				return nil, false
			}
		}
		return []string{strings.ToLower(s)}, true
	case syntax.OpCapture:
		return requiredLiterals(re.Sub[0])
	case syntax.OpPlus:
		return requiredLiterals(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return requiredLiterals(re.Sub[0])
		}
		return nil, false
	case syntax.OpAlternate:
		// Every branch must bring its own literals.
		for _, sub := range re.Sub {
			l, ok := requiredLiterals(sub)
			if !ok {
				return nil, false
			}
			lits = append(lits, l...)
		}
		return lits, true
	case syntax.OpConcat:
		// Any one part will do; take the one whose shortest literal is
		// longest, the most selective.
		best := -1
		for _, sub := range re.Sub {
			l, ok := requiredLiterals(sub)
			if !ok {
				continue
			}
			if shortest := shortestLen(l); shortest > best {
				best, lits = shortest, l
			}
		}
		return lits, best >= 0
	default:
		return nil, false
	}
}

func shortestLen(lits []string) int {
	n := -1
	for _, l := range lits {
		if n < 0 || len(l) < n {
			n = len(l)
		}
	}
	return n
}

// minimalNeedles drops literals that contain another (text holding "went
// down" holds "down") and gives up on a set with a literal under two
// letters, which nearly every text contains.
func minimalNeedles(lits []string) []string {
	if shortestLen(lits) < 2 {
		return nil
	}
	var out []string
	for i, l := range lits {
		redundant := false
		for j, o := range lits {
			if i != j && strings.Contains(l, o) && (len(o) < len(l) || j < i) {
				redundant = true
				break
			}
		}
		if !redundant {
			out = append(out, l)
		}
	}
	return out
}
