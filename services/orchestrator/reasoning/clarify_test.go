package reasoning_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
	"github.com/alexus-platform/alexus/services/orchestrator/reasoning"
)

func TestDecideAnswered(t *testing.T) {
	t.Parallel()
	c := reasoning.Classification{Intent: reasoningv1.Intent_INTENT_INCIDENT, Confidence: 0.6}
	withAction := reasoning.Diagnosis{Confidence: 0.6, Action: &reasoning.Action{Kind: "webhook", Target: "default", Summary: "notify default"}}
	noAction := reasoning.Diagnosis{Confidence: 0.6}
	th := reasoning.Thresholds{ExecuteAt: 0.8, ClarifyAt: 0.5}
	for _, tc := range []struct {
		answer string
		d      reasoning.Diagnosis
		want   reasoningv1.Decision
		reason string
	}{
		{"yes", withAction, reasoningv1.Decision_DECISION_EXECUTE, "confirmed by a person"},
		{"  Go ahead, thanks", withAction, reasoningv1.Decision_DECISION_EXECUTE, "confirmed by a person"},
		{"LGTM", withAction, reasoningv1.Decision_DECISION_EXECUTE, "confirmed by a person"},
		{"no", withAction, reasoningv1.Decision_DECISION_ESCALATE, "declined"},
		{"No, don't proceed", withAction, reasoningv1.Decision_DECISION_ESCALATE, "declined"},
		{"don't", withAction, reasoningv1.Decision_DECISION_ESCALATE, "declined"},
		{"yes", noAction, reasoningv1.Decision_DECISION_ESCALATE, "no action to run"},
		{"maybe, check with Bob", withAction, reasoningv1.Decision_DECISION_ESCALATE, "neither confirms nor declines"},
		{"yesterday's deploy did this", withAction, reasoningv1.Decision_DECISION_ESCALATE, "neither confirms nor declines"},
		{"nothing to see", withAction, reasoningv1.Decision_DECISION_ESCALATE, "neither confirms nor declines"},
	} {
		got := reasoning.DecideAnswered(c, tc.d, tc.answer, th)
		require.Equal(t, tc.want, got.Decision, "%q", tc.answer)
		require.Contains(t, got.Reason, tc.reason, "%q", tc.answer)
		if got.Decision == reasoningv1.Decision_DECISION_EXECUTE {
			require.Equal(t, 1.0, got.Confidence, "a person's confirmation is certain")
		}
	}
}
