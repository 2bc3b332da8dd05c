package main

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/alexus-platform/alexus/internal/llm/llmtest"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/services/ingest/normalise"
	"github.com/alexus-platform/alexus/services/orchestrator"
	"github.com/alexus-platform/alexus/services/orchestrator/reasoning"
)

const repoRoot = "../.."

func loadTestSet(t *testing.T) Set {
	t.Helper()
	set, err := loadSet(casesPath(repoRoot))
	require.NoError(t, err)
	return set
}

func TestSetParsesAndLabelsAreValid(t *testing.T) {
	set := loadTestSet(t)
	require.NoError(t, set.validate())
	require.GreaterOrEqual(t, len(set.Cases), 150)
	ids := map[string]bool{}
	for _, c := range set.Cases {
		require.False(t, ids[c.ID], "id %s twice", c.ID)
		ids[c.ID] = true
		require.Contains(t, intents, c.Expected.Intent, c.ID)
		require.Contains(t, severities, c.Expected.Severity, c.ID)
		require.Contains(t, decisions, c.Expected.Decision, c.ID)
		require.Contains(t, clarities, c.Clarity, c.ID)
		require.NotEmpty(t, c.Rationale, c.ID)
	}
}

func TestEverySourceHasSixCases(t *testing.T) {
	set := loadTestSet(t)
	perSource := map[string]int{}
	for _, c := range set.Cases {
		perSource[c.Source]++
	}
	sources := normalise.Builtin().Sources()
	require.Len(t, sources, 16)
	for _, src := range sources {
		require.GreaterOrEqual(t, perSource[src], 6, "source %s", src)
	}
	for src := range perSource {
		require.Contains(t, sources, src, "cases name an unknown source")
	}
}

func TestEveryPayloadNormalises(t *testing.T) {
	set := loadTestSet(t)
	reg := normalise.Builtin()
	for _, c := range set.Cases {
		sigs, err := normaliseCase(reg, c)
		require.NoError(t, err, c.ID)
		require.NotEmpty(t, sigs, c.ID)
		require.NotEmpty(t, sigs[0].GetTitle(), c.ID)
	}
}

// The committed set is what the catalogue generates, so that labels are
// edited in one place.
func TestSetMatchesCatalogue(t *testing.T) {
	want, err := generate()
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, writeSet(dir+"/cases.json", want))
	generated, err := os.ReadFile(dir + "/cases.json")
	require.NoError(t, err)
	committed, err := os.ReadFile(casesPath(repoRoot))
	require.NoError(t, err)
	require.True(t, bytes.Equal(generated, committed), "testdata/triage/cases.json is stale: run go run ./bench/triage -generate")
	require.Less(t, len(committed), 1_500_000)
}

func TestCatalogueDecisionRule(t *testing.T) {
	for _, tc := range []struct {
		s    spec
		want string
	}{
		{spec{Intent: "incident", Severity: "critical", Clarity: "clear"}, "escalate"},
		{spec{Intent: "incident", Severity: "critical", Clarity: "clear", Runbook: "https://r"}, "execute"},
		{spec{Intent: "incident", Severity: "critical", Clarity: "partial", Runbook: "https://r"}, "clarify"},
		{spec{Intent: "incident", Severity: "critical", Clarity: "partial"}, "escalate"},
		{spec{Intent: "incident", Severity: "error", Clarity: "clear"}, "execute"},
		{spec{Intent: "incident", Severity: "warning", Clarity: "partial"}, "clarify"},
		{spec{Intent: "incident", Severity: "warning", Clarity: "unclear"}, "escalate"},
		{spec{Intent: "incident", Severity: "error", Clarity: "clear", Resolved: true}, "escalate"},
		{spec{Intent: "incident", Severity: "info", Clarity: "clear"}, "escalate"},
		{spec{Intent: "noise", Severity: "info", Clarity: "clear"}, "escalate"},
		{spec{Intent: "noise", Severity: "info", Clarity: "partial"}, "clarify"},
		{spec{Intent: "cmdb_question", Severity: "info", Clarity: "clear"}, "escalate"},
		{spec{Intent: "change_notice", Severity: "info", Clarity: "clear"}, "escalate"},
	} {
		require.Equal(t, tc.want, expectedDecision(tc.s), "%+v", tc.s)
	}
}

func TestEvaluateRunsEveryCase(t *testing.T) {
	set := loadTestSet(t)
	def := orchestrator.DefaultConfig()
	h, err := handler(reasoning.Thresholds{ExecuteAt: def.ExecuteAt, ClarifyAt: def.ClarifyAt}, nil)
	require.NoError(t, err)
	results, err := evaluate(context.Background(), set, h)
	require.NoError(t, err)
	require.Len(t, results, len(set.Cases))
	for _, r := range results {
		require.Contains(t, intents, r.Got.Intent, r.Case.ID)
		require.Contains(t, severities, r.Got.Severity, r.Case.ID)
		require.Contains(t, decisions, r.Got.Decision, r.Case.ID)
	}
}

func TestValidateRefusesBadSets(t *testing.T) {
	good := Case{ID: "a", Source: "generic", Payload: json.RawMessage(`{"title":"x"}`), Expected: Expected{Intent: "noise", Severity: "info", Decision: "escalate"}}
	require.NoError(t, Set{Cases: []Case{good}}.validate())
	require.ErrorContains(t, Set{Cases: []Case{good, good}}.validate(), "used twice")
	bad := good
	bad.Expected.Intent = "outage"
	require.ErrorContains(t, Set{Cases: []Case{bad}}.validate(), "intent")
	bad = good
	bad.Expected.Severity = "SEVERITY_INFO"
	require.ErrorContains(t, Set{Cases: []Case{bad}}.validate(), "severity")
	bad = good
	bad.Expected.Decision = "ignore"
	require.ErrorContains(t, Set{Cases: []Case{bad}}.validate(), "decision")
	require.True(t, slices.Contains(fields, "decision"))
}

// The model path runs every case through the model and scores its answers;
// a model that fails part of the time leaves those stages on the heuristic
// path with the reason counted.
func TestModelPathEvaluates(t *testing.T) {
	set := loadTestSet(t)
	set.Cases = set.Cases[:12]
	srv := llmtest.New(t, func(call int, req llmtest.Request) llmtest.Reply {
		if strings.Contains(string(req.ResponseFormat), `"diagnosis"`) {
			return llmtest.Reply{Status: http.StatusInternalServerError}
		}
		return llmtest.JSON(map[string]any{"intent": "noise", "severity": "info", "confidence": 0.9, "rationale": "fake model"})
	})
	cfg := orchestrator.DefaultConfig().LLM
	cfg.BaseURL, cfg.Model, cfg.Timeout = srv.BaseURL(), "fake", 2*time.Second
	run, err := runModel(context.Background(), set, reasoning.Thresholds{ExecuteAt: 0.8, ClarifyAt: 0.5}, cfg)
	require.NoError(t, err)
	require.Len(t, run.results, 12)
	for _, r := range run.results {
		require.Equal(t, "noise", r.Got.Intent, r.Case.ID)
		require.Equal(t, "model", r.Got.Paths[0], r.Case.ID)
		require.Equal(t, 120, r.Got.PromptTokens+r.Got.CompletionTokens, "classify's tokens only: noise is not diagnosed by the model")
	}
	var out bytes.Buffer
	writeReport(&out, set, "testdata/triage/cases.json", score(run.results), reasoning.Thresholds{ExecuteAt: 0.8, ClarifyAt: 0.5}, run)
	require.Contains(t, out.String(), "classify 12/12, diagnose 0/12")
	require.Contains(t, out.String(), "| noise and change notices are diagnosed without a model | 12 |")
}
