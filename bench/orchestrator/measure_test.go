package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestQuantile(t *testing.T) {
	t.Parallel()
	require.Zero(t, quantile(nil, 0.99))

	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	require.Equal(t, 1*time.Millisecond, quantile(hundred, 0))
	require.Equal(t, 50*time.Millisecond, quantile(hundred, 0.5))
	require.Equal(t, 90*time.Millisecond, quantile(hundred, 0.9))
	// 0.99·100 is 99.00000000000001 in floating point; the rank is 99.
	require.Equal(t, 99*time.Millisecond, quantile(hundred, 0.99))
	require.Equal(t, 100*time.Millisecond, quantile(hundred, 1))

	one := []time.Duration{7 * time.Millisecond}
	require.Equal(t, 7*time.Millisecond, quantile(one, 0.5))
	require.Equal(t, 7*time.Millisecond, quantile(one, 0.99))
}

func TestParseLatencyMS(t *testing.T) {
	t.Parallel()
	d, err := parseLatencyMS("12")
	require.NoError(t, err)
	require.Equal(t, 12*time.Millisecond, d)
	d, err = parseLatencyMS("0.25")
	require.NoError(t, err)
	require.Equal(t, 250*time.Microsecond, d)
	_, err = parseLatencyMS("-1")
	require.Error(t, err)
	_, err = parseLatencyMS("fast")
	require.Error(t, err)
}

// transitionsOf builds an incident's transitions at the given offsets
// (milliseconds) from base.
func transitionsOf(id string, base time.Time, stages []string, offsets []int) []transition {
	out := make([]transition, len(stages))
	for i, st := range stages {
		out[i] = transition{incidentID: id, stage: st, at: base.Add(time.Duration(offsets[i]) * time.Millisecond)}
	}
	return out
}

func TestLatencies(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	pipeline := []string{stageReceived, stageClassify, stageBranch, stageConfidence}
	var trs []transition
	trs = append(trs, transitionsOf("a", base, append(pipeline, stageExecute), []int{0, 10, 30, 60, 100})...)
	trs = append(trs, transitionsOf("b", base, append(pipeline, stageEscalate), []int{5, 7, 9, 11, 13})...)
	// c has not reached its decision: its earlier steps count, the last
	// and the whole pipeline do not.
	trs = append(trs, transitionsOf("c", base, pipeline, []int{1, 2, 3, 4})...)

	perStep, total := latencies(trs)
	require.Len(t, perStep, 4)
	require.Equal(t, stageStep{stageReceived, stageClassify}, perStep[0].step)
	require.Equal(t, []time.Duration{time.Millisecond, 2 * time.Millisecond, 10 * time.Millisecond}, perStep[0].gaps)
	require.Equal(t, []time.Duration{2 * time.Millisecond, 40 * time.Millisecond}, perStep[3].gaps)
	require.Empty(t, perStep[3].own)
	require.Equal(t, []time.Duration{8 * time.Millisecond, 100 * time.Millisecond}, total.gaps)

	w := throughputWindow(trs)
	require.Equal(t, base, w.first)
	require.Equal(t, base.Add(100*time.Millisecond), w.last)
	require.Equal(t, 100*time.Millisecond, w.length())
}

func TestLatenciesPreferStoredLatency(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	trs := transitionsOf("a", base, []string{stageReceived, stageClassify, stageBranch, stageConfidence, stageClarify}, []int{0, 10, 20, 30, 40})
	trs[1].latency, trs[1].hasLatency = 3*time.Millisecond, true

	perStep, _ := latencies(trs)
	require.Equal(t, []time.Duration{3 * time.Millisecond}, perStep[0].own)
	require.Equal(t, []time.Duration{10 * time.Millisecond}, perStep[0].gaps, "the timestamps' gap is kept beside it")
	require.Empty(t, perStep[1].own)
}
