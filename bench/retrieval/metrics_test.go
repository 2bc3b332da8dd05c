package main

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestNDCG(t *testing.T) {
	t.Parallel()
	j := map[string]int{"a": 3, "b": 2, "c": 1, "z": 0}
	log2 := math.Log2
	ideal := 3/log2(2) + 2/log2(3) + 1/log2(4)
	for _, tc := range []struct {
		name   string
		ranked []string
		k      int
		want   float64
	}{
		{"ideal order", []string{"a", "b", "c"}, 10, 1},
		{"reversed", []string{"c", "b", "a"}, 10, (1/log2(2) + 2/log2(3) + 3/log2(4)) / ideal},
		// x is unjudged and z judged 0: both gain nothing but take a rank.
		{"gaps", []string{"x", "a", "z", "b"}, 10, (3/log2(3) + 2/log2(5)) / ideal},
		{"nothing relevant", []string{"x", "y"}, 10, 0},
		{"empty", nil, 10, 0},
		// At k=1 the ideal is only a at rank 1.
		{"cut at 1", []string{"b", "a"}, 1, 2.0 / 3.0},
		// Hand-computed: DCG = 2/1 + 3/log2(3) = 3.8928; ideal at k=2 =
		// 3 + 2/log2(3) = 4.2619.
		{"cut at 2", []string{"b", "a", "c"}, 2, 3.892789 / 4.261860},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.InDelta(t, tc.want, ndcg(tc.ranked, j, tc.k), 1e-6)
		})
	}
	require.Zero(t, ndcg([]string{"a"}, map[string]int{"a": 0}, 10), "no positive grade")
}

func TestRecall(t *testing.T) {
	t.Parallel()
	j := map[string]int{"a": 3, "b": 3, "c": 2, "d": 1}
	require.InDelta(t, 0.5, recall([]string{"a", "c", "d"}, j, 10, 3), 1e-9)
	require.InDelta(t, 2.0/3.0, recall([]string{"a", "c", "d"}, j, 10, 2), 1e-9)
	require.InDelta(t, 1.0, recall([]string{"b", "x", "a"}, j, 10, 3), 1e-9)
	// Capped: with k=1 one relevant document is all there is room for.
	require.InDelta(t, 1.0, recall([]string{"b", "a"}, j, 1, 3), 1e-9)
	require.InDelta(t, 0.0, recall([]string{"c", "a"}, j, 1, 3), 1e-9)
	require.Zero(t, recall([]string{"a"}, map[string]int{"a": 1}, 10, 3), "no relevant documents")
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	ds := make([]time.Duration, 100)
	for i := range ds {
		ds[i] = time.Duration(100-i) * time.Millisecond
	}
	require.Equal(t, 50*time.Millisecond, percentile(ds, 50))
	require.Equal(t, 95*time.Millisecond, percentile(ds, 95))
	require.Equal(t, 100*time.Millisecond, percentile(ds, 100))
	require.Equal(t, time.Duration(0), percentile(nil, 95))
}
