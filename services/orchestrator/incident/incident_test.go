package incident_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	orchestratorv1 "github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1"
	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/services/orchestrator/incident"
)

func TestStagesMapToTheAPIEnum(t *testing.T) {
	t.Parallel()
	stages := map[incident.Stage]orchestratorv1.Stage{
		incident.StageReceived:   orchestratorv1.Stage_STAGE_RECEIVED,
		incident.StageClassify:   orchestratorv1.Stage_STAGE_CLASSIFY,
		incident.StageBranch:     orchestratorv1.Stage_STAGE_BRANCH,
		incident.StageConfidence: orchestratorv1.Stage_STAGE_CONFIDENCE,
		incident.StageExecute:    orchestratorv1.Stage_STAGE_EXECUTE,
		incident.StageClarify:    orchestratorv1.Stage_STAGE_CLARIFY,
		incident.StageEscalate:   orchestratorv1.Stage_STAGE_ESCALATE,
		incident.StageRepeated:   orchestratorv1.Stage_STAGE_REPEATED,
		incident.StageResolved:   orchestratorv1.Stage_STAGE_RESOLVED,
	}
	for s, want := range stages {
		require.Equal(t, want, s.Proto(), string(s))
		require.Equal(t, s != incident.StageRepeated, s.Once(), string(s))
	}
	require.Equal(t, "critical", incident.SeverityText(signalv1.Severity_SEVERITY_CRITICAL))
	require.Equal(t, "cmdb_question", incident.IntentText(reasoningv1.Intent_INTENT_CMDB_QUESTION))
	require.Equal(t, "escalate", incident.DecisionText(reasoningv1.Decision_DECISION_ESCALATE))
	require.Equal(t, "cmdb", incident.EnumText(reasoningv1.Branch_BRANCH_CMDB.String(), "BRANCH_"))
}

func TestIDForIsDeterministicPerTenant(t *testing.T) {
	t.Parallel()
	const sig = "0b7c6f7e-3f0e-4a53-9a43-5d4d8f7d3b11"
	require.Equal(t, incident.IDFor("acme", sig), incident.IDFor("acme", sig))
	require.NotEqual(t, incident.IDFor("acme", sig), incident.IDFor("globex", sig))
}
