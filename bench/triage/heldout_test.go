package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/services/ingest/normalise"
	"github.com/alexus-platform/alexus/services/orchestrator"
	"github.com/alexus-platform/alexus/services/orchestrator/reasoning"
)

func loadHeldout(t *testing.T) Set {
	t.Helper()
	set, err := loadSet(heldoutPath(repoRoot))
	require.NoError(t, err)
	return set
}

func TestHeldoutParsesAndLabelsAreValid(t *testing.T) {
	set := loadHeldout(t)
	require.NoError(t, set.validate())
	require.GreaterOrEqual(t, len(set.Cases), 64)
	for _, c := range set.Cases {
		require.Contains(t, intents, c.Expected.Intent, c.ID)
		require.Contains(t, severities, c.Expected.Severity, c.ID)
		require.Contains(t, decisions, c.Expected.Decision, c.ID)
		require.Contains(t, clarities, c.Clarity, c.ID)
		require.NotEmpty(t, c.Rationale, c.ID)
		require.True(t, strings.HasPrefix(c.ID, "h-"), "held-out ids start with h-: %s", c.ID)
		if c.Expected.Intent != "incident" {
			require.Equal(t, "info", c.Expected.Severity, "%s: noise, change notices and CMDB questions are info", c.ID)
		}
	}
}

// The committed held-out set is what heldout.go generates.
func TestHeldoutMatchesCatalogue(t *testing.T) {
	want, err := generateHeldout()
	require.NoError(t, err)
	path := t.TempDir() + "/heldout.json"
	require.NoError(t, writeSet(path, want))
	generated, err := os.ReadFile(path)
	require.NoError(t, err)
	committed, err := os.ReadFile(heldoutPath(repoRoot))
	require.NoError(t, err)
	require.True(t, bytes.Equal(generated, committed), "testdata/triage/heldout.json is stale: run go run ./bench/triage -generate")
}

// Every held-out payload normalises, and the signal's status is the one
// the labels assume: resolved, acknowledged or firing.
func TestHeldoutEveryPayloadNormalises(t *testing.T) {
	specs := map[string]spec{}
	for _, s := range heldoutCatalogue() {
		specs[s.ID] = s
	}
	reg := normalise.Builtin()
	for _, c := range loadHeldout(t).Cases {
		sigs, err := normaliseCase(reg, c)
		require.NoError(t, err, c.ID)
		require.NotEmpty(t, sigs, c.ID)
		require.NotEmpty(t, sigs[0].GetTitle(), c.ID)
		s := specs[c.ID]
		want := signalv1.Status_STATUS_FIRING
		switch {
		case s.Resolved:
			want = signalv1.Status_STATUS_RESOLVED
		case s.Variant == "incident.acknowledged" || s.Variant == "Acknowledge":
			want = signalv1.Status_STATUS_ACKNOWLEDGED
		}
		require.Equal(t, want, sigs[0].GetStatus(), c.ID)
	}
}

func TestHeldoutHasFourPerSource(t *testing.T) {
	perSource := map[string]int{}
	for _, c := range loadHeldout(t).Cases {
		perSource[c.Source]++
	}
	sources := normalise.Builtin().Sources()
	require.Len(t, sources, 16)
	for _, src := range sources {
		require.GreaterOrEqual(t, perSource[src], 4, "source %s", src)
	}
	for src := range perSource {
		require.Contains(t, sources, src, "held-out cases name an unknown source")
	}
}

// The held-out set is new: no payload of it is a payload of cases.json,
// and no alert text (title) of it is an in-sample one.
func TestHeldoutIsDisjointFromCases(t *testing.T) {
	compact := func(raw json.RawMessage) string {
		var b bytes.Buffer
		require.NoError(t, json.Compact(&b, raw))
		return b.String()
	}
	inSample := map[string]string{}
	for _, c := range loadTestSet(t).Cases {
		inSample[compact(c.Payload)] = c.ID
	}
	for _, c := range loadHeldout(t).Cases {
		id, dup := inSample[compact(c.Payload)]
		require.False(t, dup, "held-out %s has the payload of %s", c.ID, id)
	}
	titles := map[string]string{}
	for _, s := range catalogue() {
		titles[strings.ToLower(s.Title)] = s.ID
	}
	ids := map[string]bool{}
	for _, s := range catalogue() {
		ids[s.ID] = true
	}
	for _, s := range heldoutCatalogue() {
		id, dup := titles[strings.ToLower(s.Title)]
		require.False(t, dup, "held-out %s repeats the title of %s", s.ID, id)
		require.False(t, ids[s.ID], "held-out id %s is an in-sample id", s.ID)
	}
}

// A runbook label is only given where the payload carries the link (the
// guide's sources), so that the critical-without-runbook rule is judged on
// what the signal says.
func TestHeldoutRunbooksAreCarried(t *testing.T) {
	carriers := map[string]bool{"alertmanager": true, "grafana": true, "generic": true, "cloudevents": true, "azure-monitor": true, "gcp-monitoring": true}
	payloads := map[string]string{}
	for _, c := range loadHeldout(t).Cases {
		payloads[c.ID] = string(c.Payload)
	}
	for _, s := range heldoutCatalogue() {
		if s.Runbook == "" {
			require.NotContains(t, strings.ToLower(payloads[s.ID]), "runbook", s.ID)
			continue
		}
		require.True(t, carriers[s.Source], "%s: a %s payload cannot carry a runbook", s.ID, s.Source)
		require.Contains(t, payloads[s.ID], s.Runbook, s.ID)
	}
}

// The set mixes what the guide describes: every intent, severity, clarity
// and decision, and critical incidents with and without a runbook.
func TestHeldoutMix(t *testing.T) {
	seen := map[string]int{}
	for _, c := range loadHeldout(t).Cases {
		seen["intent:"+c.Expected.Intent]++
		seen["severity:"+c.Expected.Severity]++
		seen["decision:"+c.Expected.Decision]++
		seen["clarity:"+c.Clarity]++
	}
	for _, v := range intents {
		require.Positive(t, seen["intent:"+v], v)
	}
	for _, v := range severities {
		require.Positive(t, seen["severity:"+v], v)
	}
	for _, v := range decisions {
		require.Positive(t, seen["decision:"+v], v)
	}
	for _, v := range clarities {
		require.Positive(t, seen["clarity:"+v], v)
	}
	withRunbook, without := 0, 0
	for _, s := range heldoutCatalogue() {
		if s.Intent == "incident" && s.Severity == "critical" && !s.Resolved {
			if s.Runbook != "" {
				withRunbook++
			} else {
				without++
			}
		}
	}
	require.GreaterOrEqual(t, withRunbook, 3)
	require.GreaterOrEqual(t, without, 3)
}

// The guide: an acknowledged alert has no action, whichever vendor
// acknowledged it.
func TestAcknowledgedHasNoAction(t *testing.T) {
	ack := spec{Source: "opsgenie", Variant: "Acknowledge", Intent: "incident", Severity: "warning", Clarity: "clear"}
	require.Equal(t, "escalate", expectedDecision(ack))
	ack.Source, ack.Variant = "pagerduty", "incident.acknowledged"
	require.Equal(t, "escalate", expectedDecision(ack))
	firing := spec{Source: "opsgenie", Intent: "incident", Severity: "warning", Clarity: "clear"}
	require.Equal(t, "execute", expectedDecision(firing))
}

func TestHeldoutEvaluates(t *testing.T) {
	set := loadHeldout(t)
	def := orchestrator.DefaultConfig()
	h, err := handler(reasoning.Thresholds{ExecuteAt: def.ExecuteAt, ClarifyAt: def.ClarifyAt}, nil)
	require.NoError(t, err)
	results, err := evaluate(context.Background(), set, h)
	require.NoError(t, err)
	require.Len(t, results, len(set.Cases))
}

func TestSetFlag(t *testing.T) {
	var stderr bytes.Buffer
	o, err := parseFlags(nil, &stderr)
	require.NoError(t, err)
	require.Equal(t, "cases", o.set)
	o, err = parseFlags([]string{"-set", "heldout"}, &stderr)
	require.NoError(t, err)
	require.Equal(t, "heldout", o.set)
	_, err = parseFlags([]string{"-set", "train"}, &stderr)
	require.ErrorContains(t, err, "-set")

	t.Setenv("ALEXUS_LLM_BASE_URL", "")
	var stdout bytes.Buffer
	stderr.Reset()
	require.Equal(t, 0, run([]string{"-root", repoRoot, "-set", "heldout"}, &stdout, &stderr), stderr.String())
	require.Contains(t, stdout.String(), "# bench/triage")
	require.Contains(t, stderr.String(), "heldout.json")
	require.Equal(t, 2, run([]string{"-set", "nope"}, &stdout, &stderr))
}
