package main

import (
	"math"
	"slices"
	"time"
)

// ndcg is the normalised discounted cumulative gain of the first k of
// ranked: each document gains its grade (0 when unjudged) discounted by
// log2(rank+1), and the sum is divided by that of the ideal ranking, the
// judged documents by grade, best first. A query with no positive grade
// scores 0.
func ndcg(ranked []string, judgments map[string]int, k int) float64 {
	var dcg float64
	for i, id := range ranked[:min(k, len(ranked))] {
		dcg += float64(judgments[id]) / math.Log2(float64(i+2))
	}
	grades := make([]int, 0, len(judgments))
	for _, g := range judgments {
		if g > 0 {
			grades = append(grades, g)
		}
	}
	slices.Sort(grades)
	slices.Reverse(grades)
	var ideal float64
	for i, g := range grades[:min(k, len(grades))] {
		ideal += float64(g) / math.Log2(float64(i+2))
	}
	if ideal == 0 {
		return 0
	}
	return dcg / ideal
}

// recall is the share of the documents graded at least minGrade that are
// in the first k of ranked, out of at most k of them (capped recall), so a
// query with more relevant documents than k can still score 1. A query
// with none scores 0.
func recall(ranked []string, judgments map[string]int, k, minGrade int) float64 {
	relevant := 0
	for _, g := range judgments {
		if g >= minGrade {
			relevant++
		}
	}
	if relevant == 0 {
		return 0
	}
	found := 0
	for _, id := range ranked[:min(k, len(ranked))] {
		if judgments[id] >= minGrade {
			found++
		}
	}
	return float64(found) / float64(min(k, relevant))
}

// percentile is the nearest-rank percentile p (0-100) of ds, which it sorts.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(math.Ceil(p/100*float64(len(ds)))) - 1
	return ds[max(0, min(i, len(ds)-1))]
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}
