package pipeline

import (
	"testing"

	"github.com/stretchr/testify/require"

	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/services/orchestrator/incident"
)

// The ticket tells the person who picks it up what Alexus knows and did.
func TestTicketDescription(t *testing.T) {
	t.Parallel()
	sig := &signalv1.Signal{Title: "Checkout 5xx above 5%", Resource: "checkout", Source: "alertmanager"}
	cls := &reasoningv1.Classification{Severity: signalv1.Severity_SEVERITY_CRITICAL}
	diag := &reasoningv1.Diagnosis{
		ProbableCause:     "A bad deploy of checkout 2.3.",
		Evidence:          []*reasoningv1.Evidence{{Summary: "5xx began at the deploy", DocumentId: "deploys/2.3"}, {Summary: "error rate 7%"}},
		RecommendedAction: &reasoningv1.RecommendedAction{Kind: "runbook", Target: "rollback-checkout", Summary: "Roll back to 2.2"},
		Runbook:           "https://runbooks.example.com/checkout",
	}
	got := ticketDescription("inc-1", incident.Incident{}, sig, cls, diag, decided{
		stage: incident.StageEscalate, what: "escalate: no runbook for a critical incident", route: "team-payments", routeReason: "owner of checkout",
	})
	require.Equal(t, `Alexus incident: inc-1
Severity: critical
Resource: checkout
Source: alertmanager
Decision: escalate: no runbook for a critical incident
Routed to: team-payments (owner of checkout)

Probable cause:
A bad deploy of checkout 2.3.

Evidence:
- 5xx began at the deploy [deploys/2.3]
- error rate 7%

Recommended action: runbook "rollback-checkout": Roll back to 2.2
Runbook: https://runbooks.example.com/checkout
`, got)
}
