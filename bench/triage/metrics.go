package main

import "sort"

// Fields compared, in report order.
var fields = []string{"intent", "severity", "decision"}

func (e Expected) field(name string) string {
	switch name {
	case "intent":
		return e.Intent
	case "severity":
		return e.Severity
	}
	return e.Decision
}

func (g Got) field(name string) string {
	switch name {
	case "intent":
		return g.Intent
	case "severity":
		return g.Severity
	}
	return g.Decision
}

// Tally counts matches of one field.
type Tally struct {
	Hits, Total int
}

// Accuracy is Hits/Total, 0 for no cases.
func (t Tally) Accuracy() float64 {
	if t.Total == 0 {
		return 0
	}
	return float64(t.Hits) / float64(t.Total)
}

// Scores are the tallies of a run: per field overall, and per source and
// field.
type Scores struct {
	Overall   map[string]Tally
	BySource  map[string]map[string]Tally
	Sources   []string
	Confusion map[string]map[[2]string]int // field → (expected, got) → count
	Misses    []Miss
}

// Miss is one field of one case that did not match.
type Miss struct {
	ID, Source, Field, Expected, Got string
}

// score tallies results.
func score(results []Result) Scores {
	s := Scores{
		Overall:   map[string]Tally{},
		BySource:  map[string]map[string]Tally{},
		Confusion: map[string]map[[2]string]int{},
	}
	for _, f := range fields {
		s.Confusion[f] = map[[2]string]int{}
	}
	for _, r := range results {
		src := r.Case.Source
		if s.BySource[src] == nil {
			s.BySource[src] = map[string]Tally{}
			s.Sources = append(s.Sources, src)
		}
		for _, f := range fields {
			want, got := r.Case.Expected.field(f), r.Got.field(f)
			hit := want == got
			o, b := s.Overall[f], s.BySource[src][f]
			o.Total++
			b.Total++
			if hit {
				o.Hits++
				b.Hits++
			} else {
				s.Misses = append(s.Misses, Miss{ID: r.Case.ID, Source: src, Field: f, Expected: want, Got: got})
			}
			s.Overall[f], s.BySource[src][f] = o, b
			s.Confusion[f][[2]string{want, got}]++
		}
	}
	sort.Strings(s.Sources)
	return s
}
