package reasoning_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/internal/llm"
	"github.com/alexus-platform/alexus/internal/llm/llmtest"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/orchestrator/reasoning"
)

// catalogue is a fixed action catalogue.
type catalogue []reasoning.CatalogueAction

func (c catalogue) Actions(context.Context) ([]reasoning.CatalogueAction, error) { return c, nil }

var testCatalogue = catalogue{{Kind: "webhook", Target: "default"}, {Kind: "webhook", Target: "restart-checkout"}}

func modelSignal() *signalv1.Signal {
	return &signalv1.Signal{
		Id: "7d1f0c2e-8a4b-4c61-9f0e-2b3c4d5e6f70", Source: "alertmanager",
		Status: signalv1.Status_STATUS_FIRING, Severity: signalv1.Severity_SEVERITY_ERROR,
		Title: "Checkout 5xx rate above 5%", Resource: "checkout",
		Labels:      map[string]string{"alertname": "CheckoutHighErrorRate", "severity": "error"},
		Annotations: map[string]string{"summary": "Checkout 5xx rate above 5%", "runbook_url": "https://runbooks.example.com/checkout"},
	}
}

func testCtx() context.Context {
	return tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: "acme", Subject: "test"})
}

// modelHandler is a Handler whose model is srv, with quick timeouts and no
// waiting between retries.
func modelHandler(t *testing.T, srv *llmtest.Server, budget time.Duration) *reasoning.Handler {
	t.Helper()
	m, err := llm.New(llm.Config{
		BaseURL: srv.BaseURL(), Model: "triage-model", APIKey: "sk-test",
		Timeout: 300 * time.Millisecond, MaxRetries: 1,
		InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond, MaxRetryAfter: time.Millisecond,
	})
	require.NoError(t, err)
	h, err := reasoning.NewHandler(reasoning.Options{
		Rules: reasoning.FixedThresholds(defaultThresholds), Model: m, Catalogue: testCatalogue, StageBudget: budget,
	})
	require.NoError(t, err)
	return h
}

func TestClassifyOnTheModelPath(t *testing.T) {
	t.Parallel()
	srv := llmtest.New(t, func(int, llmtest.Request) llmtest.Reply {
		r := llmtest.JSON(map[string]any{"intent": "incident", "severity": "critical", "confidence": 0.93, "rationale": "checkout is failing for users"})
		r.PromptTokens, r.CompletionTokens = 321, 42
		return r
	})
	h := modelHandler(t, srv, time.Second)
	resp, err := h.ClassifyIncident(testCtx(), &reasoningv1.ClassifyIncidentRequest{Signal: modelSignal()})
	require.NoError(t, err)
	c := resp.GetClassification()
	require.Equal(t, reasoningv1.Path_PATH_MODEL, c.GetPath())
	require.Empty(t, c.GetFallbackReason())
	require.Equal(t, reasoningv1.Intent_INTENT_INCIDENT, c.GetIntent())
	require.Equal(t, signalv1.Severity_SEVERITY_CRITICAL, c.GetSeverity(), "the model may overrule the source's severity")
	require.InDelta(t, 0.93, c.GetConfidence(), 1e-9)
	require.Equal(t, "checkout is failing for users", c.GetRationale())
	require.Equal(t, "triage-model", c.GetModelCall().GetModel())
	require.EqualValues(t, 321, c.GetModelCall().GetPromptTokens())
	require.EqualValues(t, 42, c.GetModelCall().GetCompletionTokens())
	require.EqualValues(t, 1, c.GetModelCall().GetAttempts())

	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	require.Equal(t, "Bearer sk-test", reqs[0].Authorization)
	require.Contains(t, string(reqs[0].ResponseFormat), `"json_schema"`)
	require.Contains(t, reqs[0].Messages[1].Content, "CheckoutHighErrorRate", "the alert is in the prompt")
}

// Every way a model can fail ends on the heuristic path with the reason
// recorded, and never as an error to the caller.
func TestClassifyFallsBackOnEveryModelFault(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		reply  llmtest.Reply
		reason string
		billed bool // the model answered, so its tokens are recorded
	}{
		{"malformed JSON", llmtest.Answer(`{"intent": "incident", "severity": `), "not valid JSON", true},
		{"prose instead of JSON", llmtest.Answer("This looks like an incident to me."), "not valid JSON", true},
		{"wrong schema: unknown intent", llmtest.JSON(map[string]any{"intent": "outage", "severity": "critical", "confidence": 0.9, "rationale": "x"}), "did not fit the schema", true},
		{"wrong schema: confidence out of range", llmtest.JSON(map[string]any{"intent": "incident", "severity": "critical", "confidence": 7, "rationale": "x"}), "did not fit the schema", true},
		{"wrong schema: missing field", llmtest.JSON(map[string]any{"intent": "incident", "severity": "critical"}), "did not fit the schema", true},
		{"timeout", llmtest.Reply{Hang: true}, "timed out", false},
		{"429 on every attempt", llmtest.Reply{Status: http.StatusTooManyRequests, RetryAfter: time.Second}, "answered 429", false},
		{"500 on every attempt", llmtest.Reply{Status: http.StatusInternalServerError}, "answered 500", false},
	}
	want := reasoning.ClassificationToProto(reasoning.Classify(reasoning.SignalFromProto(modelSignal())))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := llmtest.New(t, func(int, llmtest.Request) llmtest.Reply { return tc.reply })
			h := modelHandler(t, srv, 5*time.Second)
			resp, err := h.ClassifyIncident(testCtx(), &reasoningv1.ClassifyIncidentRequest{Signal: modelSignal()})
			require.NoError(t, err, "a model fault is never the caller's failure")
			c := resp.GetClassification()
			require.Equal(t, reasoningv1.Path_PATH_HEURISTIC, c.GetPath())
			require.Contains(t, c.GetFallbackReason(), tc.reason)
			require.Equal(t, tc.billed, c.GetModelCall() != nil, "model call recorded: %v", c.GetModelCall())
			got := proto.CloneOf(c)
			got.FallbackReason, got.ModelCall = "", nil
			require.True(t, proto.Equal(want, got), "the fallback is the heuristic's own answer: %v", got)
		})
	}
}

func TestRetryAfterA429ThenAnswer(t *testing.T) {
	t.Parallel()
	srv := llmtest.New(t, func(call int, _ llmtest.Request) llmtest.Reply {
		if call == 1 {
			return llmtest.Reply{Status: http.StatusTooManyRequests}
		}
		return llmtest.JSON(map[string]any{"intent": "noise", "severity": "info", "confidence": 0.8, "rationale": "test alert"})
	})
	h := modelHandler(t, srv, 5*time.Second)
	resp, err := h.ClassifyIncident(testCtx(), &reasoningv1.ClassifyIncidentRequest{Signal: modelSignal()})
	require.NoError(t, err)
	require.Equal(t, reasoningv1.Path_PATH_MODEL, resp.GetClassification().GetPath())
	require.EqualValues(t, 2, resp.GetClassification().GetModelCall().GetAttempts())
}

func TestStageBudgetBoundsASlowModel(t *testing.T) {
	t.Parallel()
	srv := llmtest.New(t, func(int, llmtest.Request) llmtest.Reply { return llmtest.Reply{Hang: true} })
	m, err := llm.New(llm.Config{BaseURL: srv.BaseURL(), Model: "m", Timeout: time.Minute})
	require.NoError(t, err)
	h, err := reasoning.NewHandler(reasoning.Options{Rules: reasoning.FixedThresholds(defaultThresholds), Model: m, Catalogue: testCatalogue, StageBudget: 100 * time.Millisecond})
	require.NoError(t, err)
	resp, err := h.ClassifyIncident(testCtx(), &reasoningv1.ClassifyIncidentRequest{Signal: modelSignal()})
	require.NoError(t, err)
	require.Equal(t, reasoningv1.Path_PATH_HEURISTIC, resp.GetClassification().GetPath())
	require.NotEmpty(t, resp.GetClassification().GetFallbackReason())
}

// diagnosis is a model answer to the incident agent.
func diagnosis(evidenceID, kind, target, runbook string) llmtest.Reply {
	var action any
	if kind != "" {
		action = map[string]any{"kind": kind, "target": target, "summary": "restart the checkout pods"}
	}
	return llmtest.JSON(map[string]any{
		"probable_cause": "A bad deploy of checkout returns 5xx",
		"evidence":       []any{map[string]any{"document_id": evidenceID, "summary": "the alert reports 5xx above 5%"}},
		"action":         action,
		"runbook":        runbook,
		"confidence":     0.9,
	})
}

func TestDiagnoseIsGroundedOrFallsBack(t *testing.T) {
	t.Parallel()
	sig := modelSignal()
	cls := &reasoningv1.Classification{Intent: reasoningv1.Intent_INTENT_INCIDENT, Severity: signalv1.Severity_SEVERITY_ERROR, Confidence: 0.9}
	signalDoc := "signal:" + sig.GetId()
	cases := []struct {
		name   string
		reply  llmtest.Reply
		reason string // empty: the model's diagnosis is taken
	}{
		{"grounded, action from the catalogue", diagnosis(signalDoc, "webhook", "restart-checkout", ""), ""},
		{"grounded, no action", diagnosis(signalDoc, "", "", ""), ""},
		{"cites a document that was not retrieved", diagnosis("runbook:checkout#restart", "webhook", "default", ""), `cited document "runbook:checkout#restart", which was not retrieved`},
		{"recommends a target outside the catalogue", diagnosis(signalDoc, "webhook", "drop-database", ""), `"drop-database", which is not in the tenant's action catalogue`},
		{"recommends a kind outside the catalogue", diagnosis(signalDoc, "shell", "default", ""), "not in the tenant's action catalogue"},
		{"names a runbook that was not retrieved", diagnosis(signalDoc, "webhook", "default", "runbook:made-up"), `runbook "runbook:made-up", which is not a retrieved document`},
		{"wrong schema: no evidence", llmtest.JSON(map[string]any{"probable_cause": "x", "evidence": []any{}, "action": nil, "runbook": "", "confidence": 0.5}), "did not fit the schema"},
		{"malformed", llmtest.Answer("{"), "not valid JSON"},
		{"429", llmtest.Reply{Status: http.StatusTooManyRequests}, "answered 429"},
		{"timeout", llmtest.Reply{Hang: true}, "timed out"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := llmtest.New(t, func(int, llmtest.Request) llmtest.Reply { return tc.reply })
			h := modelHandler(t, srv, 5*time.Second)
			resp, err := h.Diagnose(testCtx(), &reasoningv1.DiagnoseRequest{Signal: sig, Classification: cls})
			require.NoError(t, err, "a model fault is never the caller's failure")
			d := resp.GetDiagnosis()
			if tc.reason == "" {
				require.Equal(t, reasoningv1.Path_PATH_MODEL, d.GetPath(), "fallback: %s", d.GetFallbackReason())
				require.Equal(t, "A bad deploy of checkout returns 5xx", d.GetProbableCause())
				for _, e := range d.GetEvidence() {
					require.Equal(t, signalDoc, e.GetDocumentId())
				}
				require.NotNil(t, d.GetModelCall())
				prompt := srv.Requests()[0].Messages[1].Content
				require.Contains(t, prompt, `"restart-checkout"`, "the catalogue is in the prompt")
				require.Contains(t, prompt, signalDoc, "the alert is a citable document")
				return
			}
			require.Equal(t, reasoningv1.Path_PATH_HEURISTIC, d.GetPath())
			require.Contains(t, d.GetFallbackReason(), tc.reason)
			require.Equal(t, reasoningv1.Branch_BRANCH_INCIDENT, d.GetBranch())
			require.NotEmpty(t, d.GetProbableCause(), "the heuristic still diagnoses")
			if a := d.GetRecommendedAction(); a != nil {
				require.Equal(t, "default", a.GetTarget(), "the fallback recommends only the heuristic's own action")
			}
		})
	}
}

func TestNoiseIsNotSentToTheModel(t *testing.T) {
	t.Parallel()
	srv := llmtest.New(t, func(int, llmtest.Request) llmtest.Reply { return llmtest.Reply{Status: 500} })
	h := modelHandler(t, srv, time.Second)
	cls := &reasoningv1.Classification{Intent: reasoningv1.Intent_INTENT_NOISE, Severity: signalv1.Severity_SEVERITY_INFO, Confidence: 0.9}
	resp, err := h.Diagnose(testCtx(), &reasoningv1.DiagnoseRequest{Signal: modelSignal(), Classification: cls})
	require.NoError(t, err)
	require.Equal(t, reasoningv1.Path_PATH_HEURISTIC, resp.GetDiagnosis().GetPath())
	require.True(t, strings.HasPrefix(resp.GetDiagnosis().GetFallbackReason(), "noise and change notices"))
	require.Empty(t, srv.Requests())
}
