// Package enumpair maps a protobuf enum to the words a plane stores for it,
// both ways, from one table, so that the two directions cannot drift apart
// the way a pair of hand-written switches can.
package enumpair

// Map pairs enum values P with stored words W. The zero P (a proto enum's
// UNSPECIFIED) pairs with no word.
type Map[P ~int32, W comparable] struct {
	words map[P]W
	enums map[W]P
}

// New returns the Map of pairs; a word paired with two values panics, as
// it could not be mapped back.
func New[P ~int32, W comparable](pairs map[P]W) Map[P, W] {
	m := Map[P, W]{words: make(map[P]W, len(pairs)), enums: make(map[W]P, len(pairs))}
	for p, w := range pairs {
		if _, dup := m.enums[w]; dup {
			panic("enumpair: a word paired twice")
		}
		m.words[p], m.enums[w] = w, p
	}
	return m
}

// Word returns the word of p, and whether it has one.
func (m Map[P, W]) Word(p P) (W, bool) {
	w, ok := m.words[p]
	return w, ok
}

// Enum returns the value paired with w, or the zero value (UNSPECIFIED)
// for a word it does not know.
func (m Map[P, W]) Enum(w W) P { return m.enums[w] }
