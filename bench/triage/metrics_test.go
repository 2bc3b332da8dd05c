package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/services/orchestrator/reasoning"
)

func res(id, src string, want, got [3]string) Result {
	return Result{
		Case: Case{ID: id, Source: src, Expected: Expected{Intent: want[0], Severity: want[1], Decision: want[2]}},
		Got:  Got{Intent: got[0], Severity: got[1], Decision: got[2]},
	}
}

// A hand-made set of four results, scored by hand:
//
//	a (x): all three right
//	b (x): severity wrong (critical → error)
//	c (y): intent and decision wrong
//	d (y): all three right
//
// intent 3/4, severity 3/4, decision 3/4; x: 2/2, 1/2, 2/2; y: 1/2, 2/2, 1/2.
func TestScoreArithmetic(t *testing.T) {
	results := []Result{
		res("a", "x", [3]string{"incident", "error", "execute"}, [3]string{"incident", "error", "execute"}),
		res("b", "x", [3]string{"incident", "critical", "escalate"}, [3]string{"incident", "error", "escalate"}),
		res("c", "y", [3]string{"noise", "info", "escalate"}, [3]string{"incident", "info", "clarify"}),
		res("d", "y", [3]string{"change_notice", "info", "escalate"}, [3]string{"change_notice", "info", "escalate"}),
	}
	s := score(results)
	require.Equal(t, Tally{Hits: 3, Total: 4}, s.Overall["intent"])
	require.Equal(t, Tally{Hits: 3, Total: 4}, s.Overall["severity"])
	require.Equal(t, Tally{Hits: 3, Total: 4}, s.Overall["decision"])
	require.InDelta(t, 0.75, s.Overall["intent"].Accuracy(), 1e-12)
	require.Equal(t, []string{"x", "y"}, s.Sources)
	require.Equal(t, Tally{Hits: 2, Total: 2}, s.BySource["x"]["intent"])
	require.Equal(t, Tally{Hits: 1, Total: 2}, s.BySource["x"]["severity"])
	require.Equal(t, Tally{Hits: 1, Total: 2}, s.BySource["y"]["intent"])
	require.Equal(t, Tally{Hits: 2, Total: 2}, s.BySource["y"]["severity"])
	require.Equal(t, Tally{Hits: 1, Total: 2}, s.BySource["y"]["decision"])
	require.Equal(t, 1, s.Confusion["intent"][[2]string{"noise", "incident"}])
	require.Equal(t, 2, s.Confusion["intent"][[2]string{"incident", "incident"}])
	require.Equal(t, 1, s.Confusion["severity"][[2]string{"critical", "error"}])
	require.Equal(t, []Miss{
		{ID: "b", Source: "x", Field: "severity", Expected: "critical", Got: "error"},
		{ID: "c", Source: "y", Field: "intent", Expected: "noise", Got: "incident"},
		{ID: "c", Source: "y", Field: "decision", Expected: "escalate", Got: "clarify"},
	}, s.Misses)
	require.Zero(t, Tally{}.Accuracy())
}

func TestTargetsAndModelLine(t *testing.T) {
	require.Contains(t, targetLine("intent", Tally{Hits: 85, Total: 100}, intentTarget), ": met")
	require.Contains(t, targetLine("intent", Tally{Hits: 84, Total: 100}, intentTarget), ": not met")
	require.Contains(t, targetLine("severity", Tally{Hits: 4, Total: 5}, severityTarget), ": met")

	results := []Result{res("a", "x", [3]string{"incident", "error", "execute"}, [3]string{"incident", "warning", "clarify"})}
	set := Set{Cases: []Case{results[0].Case}}
	th := reasoning.Thresholds{ExecuteAt: 0.8, ClarifyAt: 0.5}

	var with, without bytes.Buffer
	modelResults := []Result{res("a", "x", [3]string{"incident", "error", "execute"}, [3]string{"incident", "error", "execute"})}
	modelResults[0].Got.Paths = [2]string{"model", "heuristic"}
	modelResults[0].Got.Fallbacks = [2]string{"", "the model timed out"}
	modelResults[0].Got.PromptTokens, modelResults[0].Got.CompletionTokens = 300, 40
	writeReport(&with, set, "testdata/triage/cases.json", score(results), th, &modelRun{url: "http://llm.local:4000/v1", model: "m", results: modelResults, scores: score(modelResults)})
	writeReport(&without, set, "testdata/triage/cases.json", score(results), th, nil)
	require.Contains(t, with.String(), "| severity | 100.0% (1/1) | 0.0% (0/1) |")
	require.Contains(t, with.String(), "classify 1/1, diagnose 0/1. Tokens: 300 prompt, 40 completion")
	require.Contains(t, with.String(), "| the model timed out | 1 |")
	require.Contains(t, without.String(), "ALEXUS_LLM_BASE_URL is not set")
	for _, out := range []string{with.String(), without.String()} {
		require.Contains(t, out, "| intent | 100.0% (1/1) |")
		require.Contains(t, out, "| severity | 0.0% (0/1) |")
		require.Contains(t, out, "| a | x | severity | error | warning |")
		require.Contains(t, out, "heuristic intent accuracy 100.0% (target ≥ 85%): met")
		require.Contains(t, out, "heuristic severity accuracy 0.0% (target ≥ 80%): not met")
	}
}
