package pipeline

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	actionsv1 "github.com/alexus-platform/alexus/gen/alexus/actions/v1"
	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/services/orchestrator/incident"
)

// The recommended action's kind picks the executor: a notify target gets a
// message in words, a webhook target the incident's facts.
func TestActionRequestByKind(t *testing.T) {
	t.Parallel()
	inc := incident.Incident{CreatedAt: time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)}
	sig := &signalv1.Signal{Id: "s1", Title: "Checkout 5xx above 5%", Resource: "checkout"}
	cls := &reasoningv1.Classification{Intent: reasoningv1.Intent_INTENT_INCIDENT, Severity: signalv1.Severity_SEVERITY_CRITICAL}
	check := &reasoningv1.CheckConfidenceResponse{Confidence: 0.91, Reason: "confident"}
	diag := func(kind, target string) *reasoningv1.Diagnosis {
		return &reasoningv1.Diagnosis{ProbableCause: "a bad deploy", RecommendedAction: &reasoningv1.RecommendedAction{Kind: kind, Target: target, Summary: "tell the team"}}
	}

	req := actionRequest("k", "inc-1", inc, sig, cls, diag("notify", "payments-slack"), check)
	require.Equal(t, actionsv1.ActionKind_ACTION_KIND_NOTIFY, req.GetKind())
	n := req.GetNotify()
	require.Equal(t, "payments-slack", n.GetTarget())
	require.Equal(t, "Checkout 5xx above 5%", n.GetTitle())
	require.Equal(t, "a bad deploy", n.GetText())
	require.Equal(t, actionsv1.NotifySeverity_NOTIFY_SEVERITY_CRITICAL, n.GetSeverity())
	require.Equal(t, "checkout", n.GetFields()["Resource"])
	require.Equal(t, "tell the team", req.GetReason())
	require.Nil(t, req.GetWebhook())

	req = actionRequest("k", "inc-1", inc, sig, cls, diag("webhook", "default"), check)
	require.Equal(t, actionsv1.ActionKind_ACTION_KIND_WEBHOOK, req.GetKind())
	require.Equal(t, "default", req.GetWebhook().GetTarget())
	require.Equal(t, "critical", req.GetWebhook().GetDetails()["severity"])
	require.Equal(t, "2026-11-29T10:00:00Z", req.GetWebhook().GetDetails()["created_at"])
	require.Nil(t, req.GetNotify())

	// A runbook gets the incident's facts as string parameters; whether
	// its schema accepts them is the action plane's call.
	req = actionRequest("k", "inc-1", inc, sig, cls, diag("runbook", "restart-checkout"), check)
	require.Equal(t, actionsv1.ActionKind_ACTION_KIND_RUNBOOK, req.GetKind())
	require.Equal(t, "restart-checkout", req.GetRunbook().GetTarget())
	require.Equal(t, map[string]any{
		"incident_id":    "inc-1",
		"title":          "Checkout 5xx above 5%",
		"resource":       "checkout",
		"severity":       "critical",
		"probable_cause": "a bad deploy",
		"confidence":     "0.91",
	}, req.GetRunbook().GetParams().AsMap())
	require.Nil(t, req.GetWebhook())
}
