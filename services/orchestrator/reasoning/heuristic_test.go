package reasoning_test

import (
	"context"
	"maps"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/orchestrator/reasoning"
)

var defaultThresholds = reasoning.Thresholds{ExecuteAt: 0.8, ClarifyAt: 0.5}

func TestHeuristics(t *testing.T) {
	t.Parallel()
	const (
		incident = reasoningv1.Intent_INTENT_INCIDENT
		noise    = reasoningv1.Intent_INTENT_NOISE
		cmdb     = reasoningv1.Intent_INTENT_CMDB_QUESTION
		change   = reasoningv1.Intent_INTENT_CHANGE_NOTICE

		info     = signalv1.Severity_SEVERITY_INFO
		warning  = signalv1.Severity_SEVERITY_WARNING
		errorSev = signalv1.Severity_SEVERITY_ERROR
		critical = signalv1.Severity_SEVERITY_CRITICAL

		execute  = reasoningv1.Decision_DECISION_EXECUTE
		clarify  = reasoningv1.Decision_DECISION_CLARIFY
		escalate = reasoningv1.Decision_DECISION_ESCALATE
	)
	tests := []struct {
		name      string
		sig       reasoning.Signal
		intent    reasoningv1.Intent
		severity  signalv1.Severity
		decision  reasoningv1.Decision
		hasAction bool
	}{
		{
			name: "firing alertmanager critical alert with a runbook executes",
			sig: withRunbook(amSignal(critical, map[string]string{"alertname": "HighErrorRate", "severity": "critical", "instance": "api-1:9090"},
				"High error rate on api", "api-1:9090")),
			intent: incident, severity: critical, decision: execute, hasAction: true,
		},
		{
			name: "firing critical alert without a runbook escalates however confident",
			sig: amSignal(critical, map[string]string{"alertname": "HighErrorRate", "severity": "critical", "instance": "api-1:9090"},
				"High error rate on api", "api-1:9090"),
			intent: incident, severity: critical, decision: escalate, hasAction: true,
		},
		{
			name: "firing alertmanager warning alert executes",
			sig: amSignal(warning, map[string]string{"alertname": "DiskFilling", "severity": "warning", "instance": "db-1:9100"},
				"Disk on db-1 will fill in 4 hours", "db-1:9100"),
			intent: incident, severity: warning, decision: execute, hasAction: true,
		},
		{
			name: "watchdog is noise and escalates with nothing to do",
			sig: amSignal(info, map[string]string{"alertname": "Watchdog", "severity": "none"},
				"An alert that should always be firing", ""),
			intent: noise, severity: info, decision: escalate,
		},
		{
			name: "info inhibitor is noise",
			sig: amSignal(info, map[string]string{"alertname": "InfoInhibitor", "severity": "info"},
				"Info-level alert inhibition", ""),
			intent: noise, severity: info, decision: escalate,
		},
		{
			name: "explicit cmdb label is a cmdb question handed to a person",
			sig: reasoning.Signal{Firing: true, Title: "payments-db dependencies",
				Labels: map[string]string{reasoning.IntentLabel: "cmdb_question"}},
			intent: cmdb, severity: info, decision: escalate,
		},
		{
			name:   "title asking what depends on is a cmdb question",
			sig:    reasoning.Signal{Firing: true, Title: "What depends on payments-db?"},
			intent: cmdb, severity: info, decision: escalate,
		},
		{
			name: "deployment alert is a change notice and clarifies",
			sig: reasoning.Signal{Firing: true, Severity: info, Title: "DeploymentStarted",
				Labels: map[string]string{"alertname": "DeploymentStarted", "severity": "info"}},
			intent: change, severity: info, decision: clarify,
		},
		{
			name: "explicit change label is a change notice",
			sig: amSignal(info, map[string]string{"alertname": "Scheduled", "severity": "info", reasoning.IntentLabel: "change_notice", "instance": "lb-1"},
				"Load balancer maintenance tonight", "lb-1"),
			intent: change, severity: info, decision: escalate,
		},
		{
			name: "outage without a severity label is inferred critical, and without a runbook escalates",
			sig: reasoning.Signal{Firing: true, Severity: warning, Title: "Payment service is down",
				Labels:      map[string]string{"alertname": "PaymentsDown"},
				Annotations: map[string]string{"summary": "Payment service is down"}},
			intent: incident, severity: critical, decision: escalate, hasAction: true,
		},
		{
			name: "error rate keyword is inferred error",
			sig: reasoning.Signal{Firing: true, Title: "Checkout error rate above 5%", Resource: "checkout",
				Labels:      map[string]string{"alertname": "CheckoutErrors"},
				Annotations: map[string]string{"summary": "Checkout error rate above 5%"}},
			intent: incident, severity: errorSev, decision: execute, hasAction: true,
		},
		{
			name:   "a bare signal escalates for lack of evidence",
			sig:    reasoning.Signal{Firing: true, Title: "something happened"},
			intent: incident, severity: warning, decision: escalate, hasAction: true,
		},
		{
			name: "well-described info incident has no action to take",
			sig: amSignal(info, map[string]string{"alertname": "CertificateRenewed", "severity": "info", "instance": "edge-1"},
				"Certificate renewed on edge-1", "edge-1"),
			intent: incident, severity: info, decision: escalate,
		},
		{
			name: "a resolved critical alert recommends no action",
			sig: func() reasoning.Signal {
				s := amSignal(critical, map[string]string{"alertname": "HighErrorRate", "severity": "critical", "instance": "api-1"},
					"High error rate on api", "api-1")
				s.Firing = false
				return s
			}(),
			intent: incident, severity: critical, decision: escalate,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := reasoning.Classify(tc.sig)
			require.Equal(t, tc.intent, c.Intent, "intent; rationale: %s", c.Rationale)
			require.Equal(t, tc.severity, c.Severity, "severity; rationale: %s", c.Rationale)
			require.GreaterOrEqual(t, c.Confidence, 0.0)
			require.LessOrEqual(t, c.Confidence, 0.95)
			require.NotEmpty(t, c.Rationale)

			d := reasoning.Diagnose(tc.sig, c)
			require.Equal(t, tc.hasAction, d.Action != nil, "recommended action")
			if tc.intent == cmdb {
				require.Equal(t, reasoningv1.Branch_BRANCH_CMDB, d.Branch)
				require.Contains(t, d.Answer, "not connected")
			} else {
				require.Equal(t, reasoningv1.Branch_BRANCH_INCIDENT, d.Branch)
				require.NotEmpty(t, d.ProbableCause)
			}

			dec := reasoning.Decide(c, d, defaultThresholds)
			require.Equal(t, tc.decision, dec.Decision, "decision; reason: %s", dec.Reason)
			require.Equal(t, defaultThresholds, dec.Thresholds)
			require.NotEmpty(t, dec.Reason)
		})
	}
}

func TestDecideUsesThresholds(t *testing.T) {
	t.Parallel()
	c := reasoning.Classification{Intent: reasoningv1.Intent_INTENT_INCIDENT, Severity: signalv1.Severity_SEVERITY_ERROR, Confidence: 0.7}
	d := reasoning.Diagnosis{Branch: reasoningv1.Branch_BRANCH_INCIDENT, Confidence: 0.9,
		Action: &reasoning.Action{Kind: reasoning.ActionKindWebhook, Target: reasoning.DefaultWebhookTarget}}

	got := reasoning.Decide(c, d, reasoning.Thresholds{ExecuteAt: 0.8, ClarifyAt: 0.5})
	require.Equal(t, reasoningv1.Decision_DECISION_CLARIFY, got.Decision)
	require.InDelta(t, 0.7, got.Confidence, 1e-9, "combined confidence is the lower of the two")

	got = reasoning.Decide(c, d, reasoning.Thresholds{ExecuteAt: 0.6, ClarifyAt: 0.5})
	require.Equal(t, reasoningv1.Decision_DECISION_EXECUTE, got.Decision)

	got = reasoning.Decide(c, d, reasoning.Thresholds{ExecuteAt: 0.9, ClarifyAt: 0.75})
	require.Equal(t, reasoningv1.Decision_DECISION_ESCALATE, got.Decision)
}

func TestHandlerRoundTrip(t *testing.T) {
	t.Parallel()
	h, err := reasoning.NewHandler(reasoning.Options{Rules: reasoning.FixedThresholds(defaultThresholds)})
	require.NoError(t, err)
	ctx := tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: "acme", Subject: "test"})
	sig := &signalv1.Signal{
		Status: signalv1.Status_STATUS_FIRING, Severity: signalv1.Severity_SEVERITY_CRITICAL,
		Title: "High error rate on api", Resource: "api-1:9090",
		Labels:      map[string]string{"alertname": "HighErrorRate", "severity": "critical", "instance": "api-1:9090"},
		Annotations: map[string]string{"summary": "High error rate on api", "runbook_url": "https://runbooks.example.com/api"},
	}
	cr, err := h.ClassifyIncident(ctx, &reasoningv1.ClassifyIncidentRequest{Signal: sig})
	require.NoError(t, err)
	require.Equal(t, reasoningv1.Path_PATH_HEURISTIC, cr.GetClassification().GetPath())
	require.Equal(t, reasoning.NoModel, cr.GetClassification().GetFallbackReason())

	dr, err := h.Diagnose(ctx, &reasoningv1.DiagnoseRequest{Signal: sig, Classification: cr.GetClassification()})
	require.NoError(t, err)
	require.Equal(t, "webhook", dr.GetDiagnosis().GetRecommendedAction().GetKind())
	require.Equal(t, "default", dr.GetDiagnosis().GetRecommendedAction().GetTarget())
	require.Equal(t, "https://runbooks.example.com/api", dr.GetDiagnosis().GetRunbook())
	for _, e := range dr.GetDiagnosis().GetEvidence() {
		require.Empty(t, e.GetDocumentId(), "evidence from the signal cites no document")
	}

	ccr, err := h.CheckConfidence(ctx, &reasoningv1.CheckConfidenceRequest{Classification: cr.GetClassification(), Diagnosis: dr.GetDiagnosis()})
	require.NoError(t, err)
	require.Equal(t, reasoningv1.Decision_DECISION_EXECUTE, ccr.GetDecision())
	require.Equal(t, 0.8, ccr.GetThresholds().GetExecuteAt())
	require.Equal(t, 0.5, ccr.GetThresholds().GetClarifyAt())
	require.False(t, ccr.GetThresholds().GetTenantRule(), "fixed thresholds are the plane's defaults")

	_, err = h.ClassifyIncident(context.Background(), &reasoningv1.ClassifyIncidentRequest{Signal: sig})
	require.Equal(t, codes.Unauthenticated, status.Code(err), "no tenant in context")
}

func amSignal(sev signalv1.Severity, labels map[string]string, summary, resource string) reasoning.Signal {
	return reasoning.Signal{
		Firing:      true,
		Severity:    sev,
		Title:       summary,
		Resource:    resource,
		Labels:      labels,
		Annotations: map[string]string{"summary": summary},
	}
}

// withRunbook adds a runbook link, as Prometheus alerting rules carry one.
func withRunbook(s reasoning.Signal) reasoning.Signal {
	s.Annotations = maps.Clone(s.Annotations)
	if s.Annotations == nil {
		s.Annotations = map[string]string{}
	}
	s.Annotations["runbook_url"] = "https://runbooks.example.com/high-error-rate"
	return s
}
