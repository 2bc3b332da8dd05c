package sources

import (
	"slices"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

// maxExamples bounds the examples of each kind in a Preview, and the
// fingerprints listed in each example.
const maxExamples = 10

// Change is one example of a merge or a split.
type Change struct {
	// Fingerprint is, for a merge, the one new fingerprint; for a split, the
	// one current fingerprint.
	Fingerprint string
	// Into is, for a merge, the current fingerprints that would become one;
	// for a split, the new fingerprints the current one would become.
	Into []string
	// Title is one concerned signal's title.
	Title string
}

// Preview is what an override would do to a set of stored signals.
type Preview struct {
	// Examined counts the signals looked at.
	Examined int
	// Current and New count distinct fingerprints today and under the
	// override.
	Current, New int
	// Merges counts new fingerprints that join two or more current ones;
	// MergedFingerprints counts those current ones.
	Merges, MergedFingerprints int
	// Splits counts current fingerprints that would become two or more.
	Splits int
	// MergeExamples and SplitExamples show a few of each, in a stable
	// order (by fingerprint).
	MergeExamples, SplitExamples []Change
}

// Previewer accumulates signals for a Preview.
type Previewer struct {
	o Override
	// byNew and byCurrent map each fingerprint to the set of the other
	// kind it meets.
	byNew, byCurrent map[string]map[string]struct{}
	titles           map[string]string
	examined         int
}

// NewPreviewer starts a preview of o.
func NewPreviewer(o Override) *Previewer {
	return &Previewer{o: o, byNew: map[string]map[string]struct{}{}, byCurrent: map[string]map[string]struct{}{}, titles: map[string]string{}}
}

// Add takes one stored signal into account.
func (p *Previewer) Add(sig *signalv1.Signal) {
	p.examined++
	cur, next := sig.GetFingerprint(), p.o.Fingerprint(sig)
	add(p.byNew, next, cur)
	add(p.byCurrent, cur, next)
	if _, ok := p.titles[cur]; !ok {
		p.titles[cur] = sig.GetTitle()
	}
}

func add(m map[string]map[string]struct{}, k, v string) {
	set, ok := m[k]
	if !ok {
		set = map[string]struct{}{}
		m[k] = set
	}
	set[v] = struct{}{}
}

// Result summarises the signals added so far.
func (p *Previewer) Result() Preview {
	out := Preview{Examined: p.examined, Current: len(p.byCurrent), New: len(p.byNew)}
	for _, next := range sortedKeys(p.byNew) {
		curs := p.byNew[next]
		if len(curs) < 2 {
			continue
		}
		out.Merges++
		out.MergedFingerprints += len(curs)
		if len(out.MergeExamples) < maxExamples {
			into := sortedKeys(curs)
			out.MergeExamples = append(out.MergeExamples, Change{Fingerprint: next, Into: into[:min(len(into), maxExamples)], Title: p.titles[into[0]]})
		}
	}
	for _, cur := range sortedKeys(p.byCurrent) {
		nexts := p.byCurrent[cur]
		if len(nexts) < 2 {
			continue
		}
		out.Splits++
		if len(out.SplitExamples) < maxExamples {
			into := sortedKeys(nexts)
			out.SplitExamples = append(out.SplitExamples, Change{Fingerprint: cur, Into: into[:min(len(into), maxExamples)], Title: p.titles[cur]})
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
