package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/internal/llm"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/ingest/normalise"
	"github.com/alexus-platform/alexus/services/orchestrator/reasoning"
)

// benchTenant is the tenant the reasoning calls are made for.
const benchTenant tenant.ID = "bench-triage"

// received is the time every payload is normalised at, so runs repeat.
var received = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Got is what the reasoning stages answered for one case.
type Got struct {
	Intent     string
	Severity   string
	Decision   string
	Confidence float64
	Reason     string
	// Paths are the classify and diagnose stages' paths ("model" or
	// "heuristic"), Fallbacks their fallback reasons, and the token counts
	// what their model calls used.
	Paths                          [2]string
	Fallbacks                      [2]string
	PromptTokens, CompletionTokens int
	// Title and Rationale are the normalised signal's title and the
	// classification's rationale, for -v.
	Title     string
	Rationale string
}

// Result pairs a case with its answer.
type Result struct {
	Case Case
	Got  Got
}

// normaliseCase runs the case's payload through the built-in normaliser of
// its source and returns the signals.
func normaliseCase(reg *normalise.Registry, c Case) ([]*signalv1.Signal, error) {
	n, err := reg.Lookup(c.Source)
	if err != nil {
		return nil, err
	}
	headers := c.Headers
	if headers == nil {
		headers = map[string]string{}
	}
	sigs, err := n.Normalise(c.Payload, headers, received)
	if err != nil {
		return nil, err
	}
	if len(sigs) == 0 {
		return nil, fmt.Errorf("no signal")
	}
	return sigs, nil
}

// runCase runs the reasoning service's three stages on the case's first
// signal the way the orchestrator pipeline does (pipeline.Processor.opened):
// ClassifyIncident on the signal, Diagnose on the signal and that
// classification, CheckConfidence on both, each under the tenant identity
// the pipeline acts with.
func runCase(ctx context.Context, h *reasoning.Handler, reg *normalise.Registry, c Case) (Got, error) {
	sigs, err := normaliseCase(reg, c)
	if err != nil {
		return Got{}, fmt.Errorf("case %s: normalise: %w", c.ID, err)
	}
	sig := sigs[0]
	sig.Id, sig.TenantId = "00000000-0000-4000-8000-000000000000", string(benchTenant)
	ctx = tenant.WithIdentity(ctx, tenant.Identity{Tenant: benchTenant, Subject: "system:orchestrator"})

	cls, err := h.ClassifyIncident(ctx, &reasoningv1.ClassifyIncidentRequest{Signal: sig})
	if err != nil {
		return Got{}, fmt.Errorf("case %s: classify: %w", c.ID, err)
	}
	diag, err := h.Diagnose(ctx, &reasoningv1.DiagnoseRequest{Signal: sig, Classification: cls.GetClassification()})
	if err != nil {
		return Got{}, fmt.Errorf("case %s: diagnose: %w", c.ID, err)
	}
	check, err := h.CheckConfidence(ctx, &reasoningv1.CheckConfidenceRequest{Classification: cls.GetClassification(), Diagnosis: diag.GetDiagnosis()})
	if err != nil {
		return Got{}, fmt.Errorf("case %s: check confidence: %w", c.ID, err)
	}
	cl, dg := cls.GetClassification(), diag.GetDiagnosis()
	return Got{
		Paths:            [2]string{enumText(cl.GetPath().String(), "PATH_"), enumText(dg.GetPath().String(), "PATH_")},
		Fallbacks:        [2]string{cl.GetFallbackReason(), dg.GetFallbackReason()},
		PromptTokens:     int(cl.GetModelCall().GetPromptTokens() + dg.GetModelCall().GetPromptTokens()),
		CompletionTokens: int(cl.GetModelCall().GetCompletionTokens() + dg.GetModelCall().GetCompletionTokens()),
		Intent:           enumText(cls.GetClassification().GetIntent().String(), "INTENT_"),
		Severity:         enumText(cls.GetClassification().GetSeverity().String(), "SEVERITY_"),
		Decision:         enumText(check.GetDecision().String(), "DECISION_"),
		Confidence:       check.GetConfidence(),
		Reason:           check.GetReason(),
		Title:            sig.GetTitle(),
		Rationale:        cls.GetClassification().GetRationale(),
	}, nil
}

// enumText is the label form of a proto enum name: "INTENT_CMDB_QUESTION"
// reads "cmdb_question".
func enumText(name, prefix string) string {
	return strings.ToLower(strings.TrimPrefix(name, prefix))
}

// evaluate runs every case through h.
func evaluate(ctx context.Context, set Set, h *reasoning.Handler) ([]Result, error) {
	reg := normalise.Builtin()
	out := make([]Result, 0, len(set.Cases))
	for _, c := range set.Cases {
		got, err := runCase(ctx, h, reg, c)
		if err != nil {
			return nil, err
		}
		out = append(out, Result{Case: c, Got: got})
	}
	return out, nil
}

// handler is the reasoning handler of a run: heuristics only when model is
// nil. The action catalogue is the one action the heuristic recommends, so
// both paths choose among the same actions.
func handler(th reasoning.Thresholds, model *llm.Client) (*reasoning.Handler, error) {
	return reasoning.NewHandler(reasoning.Options{
		Rules:     reasoning.FixedThresholds(th),
		Model:     model,
		Catalogue: reasoning.FixedCatalogue{{Kind: reasoning.ActionKindWebhook, Target: reasoning.DefaultWebhookTarget}},
	})
}

func truncate(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
