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
	// The pipeline stages happen once; repeats, status changes and the
	// quality gate's verdicts (one per resolution) may happen again.
	stages := map[incident.Stage]struct {
		proto orchestratorv1.Stage
		once  bool
	}{
		incident.StageReceived:     {orchestratorv1.Stage_STAGE_RECEIVED, true},
		incident.StageClassify:     {orchestratorv1.Stage_STAGE_CLASSIFY, true},
		incident.StageBranch:       {orchestratorv1.Stage_STAGE_BRANCH, true},
		incident.StageConfidence:   {orchestratorv1.Stage_STAGE_CONFIDENCE, true},
		incident.StageExecute:      {orchestratorv1.Stage_STAGE_EXECUTE, true},
		incident.StageClarify:      {orchestratorv1.Stage_STAGE_CLARIFY, true},
		incident.StageEscalate:     {orchestratorv1.Stage_STAGE_ESCALATE, true},
		incident.StageAnswered:     {orchestratorv1.Stage_STAGE_ANSWERED, true},
		incident.StageRepeated:     {orchestratorv1.Stage_STAGE_REPEATED, false},
		incident.StageResolved:     {orchestratorv1.Stage_STAGE_RESOLVED, false},
		incident.StageQualityGate:  {orchestratorv1.Stage_STAGE_QUALITY_GATE, false},
		incident.StageAcknowledged: {orchestratorv1.Stage_STAGE_ACKNOWLEDGED, false},
		incident.StageReopened:     {orchestratorv1.Stage_STAGE_REOPENED, false},
	}
	for s, want := range stages {
		require.Equal(t, want.proto, s.Proto(), string(s))
		require.Equal(t, want.once, s.Once(), string(s))
	}
	for s, want := range map[incident.Status]orchestratorv1.IncidentStatus{
		incident.StatusOpen:         orchestratorv1.IncidentStatus_INCIDENT_STATUS_OPEN,
		incident.StatusAcknowledged: orchestratorv1.IncidentStatus_INCIDENT_STATUS_ACKNOWLEDGED,
		incident.StatusResolved:     orchestratorv1.IncidentStatus_INCIDENT_STATUS_RESOLVED,
	} {
		require.Equal(t, want, s.Proto(), string(s))
		back, ok := incident.ParseStatus(want)
		require.True(t, ok)
		require.Equal(t, s, back)
	}
	_, ok := incident.ParseStatus(orchestratorv1.IncidentStatus_INCIDENT_STATUS_UNSPECIFIED)
	require.False(t, ok)
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
