package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	stages := func(id, decision string) []transition {
		return transitionsOf(id, base, []string{stageReceived, stageClassify, stageBranch, stageConfidence, decision}, []int{0, 1, 2, 3, 4})
	}
	incs := []incidentRow{
		{id: "i1", signalID: "s1", decision: stageExecute},
		{id: "i2", signalID: "s2", decision: stageClarify},
		{id: "i3", signalID: "s3", decision: stageExecute},
	}
	var trs []transition
	trs = append(trs, stages("i1", stageExecute)...)
	trs = append(trs, stages("i2", stageClarify)...)
	// The confidence stage chose execute, but the decision stage escalated.
	trs = append(trs, stages("i3", stageEscalate)...)

	out := check([]string{"s1", "s2", "s3"}, incs, trs, 1, 0)
	require.Empty(t, out.problems)
	require.Equal(t, map[string]int{stageExecute: 1, stageClarify: 1, stageEscalate: 1}, out.decisions)
	require.Equal(t, 1, out.escalatedExecutes)

	t.Run("mismatches", func(t *testing.T) {
		t.Parallel()
		bad := append([]transition{}, trs...)
		bad = append(bad, transition{incidentID: "i2", stage: stageEscalate, at: base})
		out := check([]string{"s1", "s2", "s3", "s4"}, append(incs, incidentRow{id: "i9", signalID: "s9"}), bad, 2, 3)
		require.Equal(t, []string{
			"1 signals have no incident (e.g. s4)",
			"1 incidents belong to no signal written (e.g. i9)",
			"1 incidents have no decision (e.g. i9)",
			"1 incidents have more than one decision (e.g. i2 (clarify+escalate))",
			"1 incidents do not have exactly one received transition (e.g. i9 has 0)",
			"1 incidents do not have exactly one classify transition (e.g. i9 has 0)",
			"1 incidents do not have exactly one branch transition (e.g. i9 has 0)",
			"1 incidents do not have exactly one confidence transition (e.g. i9 has 0)",
			"the action plane stored 2 actions for 1 executes",
			"3 entries were dead-lettered",
		}, out.problems)
	})
}
