package orchestrator_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	orchestratorv1 "github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1"
	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

// setStatus calls SetIncidentStatus for acme's incident id.
func (b *bundle) setStatus(t *testing.T, id string, to orchestratorv1.IncidentStatus, reason, source string) *orchestratorv1.SetIncidentStatusResponse {
	t.Helper()
	resp, err := b.client.SetIncidentStatus(as(acme), &orchestratorv1.SetIncidentStatusRequest{IncidentId: id, Status: to, Reason: reason, Source: source})
	require.NoError(t, err)
	return resp
}

// A person acknowledges, resolves and reopens an incident: each change is
// a transition watchers see, the same status again changes nothing, and a
// resolution schedules the quality gate as the source's does.
func TestSetIncidentStatus(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sig := alert(acme)
	b.publish(t, acme, event(signalv1.EventKind_EVENT_KIND_OPENED, sig))
	incID := b.waitStage(t, acme, sig.GetId(), orchestratorv1.Stage_STAGE_EXECUTE).GetIncident().GetId()
	w := b.watch(t, acme, incID)
	transitions := func() []*orchestratorv1.Transition {
		got, err := b.client.GetIncident(as(acme), &orchestratorv1.GetIncidentRequest{Id: incID})
		require.NoError(t, err)
		return got.GetTransitions()
	}
	before := len(transitions())

	ack := b.setStatus(t, incID, orchestratorv1.IncidentStatus_INCIDENT_STATUS_ACKNOWLEDGED, "looking at it", "")
	require.True(t, ack.GetChanged())
	require.Equal(t, orchestratorv1.IncidentStatus_INCIDENT_STATUS_ACKNOWLEDGED, ack.GetIncident().GetStatus())
	require.Equal(t, orchestratorv1.Stage_STAGE_ACKNOWLEDGED, ack.GetIncident().GetStage())
	msg, err := w.Recv()
	require.NoError(t, err)
	require.Equal(t, orchestratorv1.Stage_STAGE_ACKNOWLEDGED, msg.GetTransition().GetStage())
	require.Equal(t, "user:test", msg.GetTransition().GetDetails()["by"])
	require.Equal(t, "looking at it", msg.GetTransition().GetDetails()["reason"])
	require.Equal(t, orchestratorv1.IncidentStatus_INCIDENT_STATUS_ACKNOWLEDGED, msg.GetIncident().GetStatus())
	list, err := b.client.ListIncidents(as(acme), &orchestratorv1.ListIncidentsRequest{})
	require.NoError(t, err)
	require.Equal(t, orchestratorv1.IncidentStatus_INCIDENT_STATUS_ACKNOWLEDGED, list.GetIncidents()[0].GetStatus())

	again := b.setStatus(t, incID, orchestratorv1.IncidentStatus_INCIDENT_STATUS_ACKNOWLEDGED, "still looking", "")
	require.False(t, again.GetChanged(), "the same status changes nothing")
	require.Len(t, transitions(), before+1)

	res := b.setStatus(t, incID, orchestratorv1.IncidentStatus_INCIDENT_STATUS_RESOLVED, "restarted the pods", "")
	require.True(t, res.GetChanged())
	inc := res.GetIncident()
	require.Equal(t, orchestratorv1.IncidentStatus_INCIDENT_STATUS_RESOLVED, inc.GetStatus())
	require.Equal(t, orchestratorv1.Stage_STAGE_RESOLVED, inc.GetStage())
	require.NotNil(t, inc.GetResolvedAt())
	require.Equal(t, orchestratorv1.ResolutionQuality_RESOLUTION_QUALITY_PENDING, inc.GetResolutionQuality())
	states, _ := b.gateJobs(t, incID)
	require.Equal(t, []string{"scheduled"}, states, "the quality gate is scheduled")
	msg, err = w.Recv()
	require.NoError(t, err)
	require.Equal(t, orchestratorv1.Stage_STAGE_RESOLVED, msg.GetTransition().GetStage())
	require.Equal(t, "restarted the pods", msg.GetTransition().GetDetails()["reason"])
	require.Equal(t, "acknowledged", msg.GetTransition().GetDetails()["from"])

	_, err = b.client.SetIncidentStatus(as(acme), &orchestratorv1.SetIncidentStatusRequest{IncidentId: incID, Status: orchestratorv1.IncidentStatus_INCIDENT_STATUS_ACKNOWLEDGED})
	require.Equal(t, codes.FailedPrecondition, status.Code(err), "a resolved incident is reopened, not acknowledged: %v", err)

	reopened := b.setStatus(t, incID, orchestratorv1.IncidentStatus_INCIDENT_STATUS_OPEN, "it is back", "")
	require.True(t, reopened.GetChanged())
	inc = reopened.GetIncident()
	require.Equal(t, orchestratorv1.IncidentStatus_INCIDENT_STATUS_OPEN, inc.GetStatus())
	require.Equal(t, orchestratorv1.Stage_STAGE_REOPENED, inc.GetStage())
	require.Nil(t, inc.GetResolvedAt())
	require.Equal(t, orchestratorv1.ResolutionQuality_RESOLUTION_QUALITY_UNSPECIFIED, inc.GetResolutionQuality())
	msg, err = w.Recv()
	require.NoError(t, err)
	require.Equal(t, orchestratorv1.Stage_STAGE_REOPENED, msg.GetTransition().GetStage())

	trs := transitions()
	require.Equal(t, []orchestratorv1.Stage{
		orchestratorv1.Stage_STAGE_ACKNOWLEDGED, orchestratorv1.Stage_STAGE_RESOLVED, orchestratorv1.Stage_STAGE_REOPENED,
	}, stages(trs[before:]))
	require.Len(t, b.actions.recorded(), 1, "only the pipeline's action: acme has no ticket system")

	// Resolved from open again: a reopened incident is resolvable.
	b.setStatus(t, incID, orchestratorv1.IncidentStatus_INCIDENT_STATUS_RESOLVED, "", "")
	require.Len(t, transitions(), before+4)

	// Every change is in the audit log, by whom and to what; the one that
	// changed nothing is not.
	var audited []string
	require.NoError(t, b.db.WithTenant(as(acme), func(tx pgx.Tx) error {
		rows, err := tx.Query(as(acme), `SELECT event, details->>'to', details->>'by' FROM audit_log WHERE subject = $1 ORDER BY id`, "incident/"+incID)
		if err != nil {
			return err
		}
		audited, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
			var ev, to, by string
			err := r.Scan(&ev, &to, &by)
			return ev + " " + to + " " + by, err
		})
		return err
	}))
	require.Equal(t, []string{
		"incident.status_changed acknowledged user:test",
		"incident.status_changed resolved user:test",
		"incident.status_changed open user:test",
		"incident.status_changed resolved user:test",
	}, audited)
}

func TestSetIncidentStatusRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sig := alert(acme)
	b.publish(t, acme, event(signalv1.EventKind_EVENT_KIND_OPENED, sig))
	incID := b.waitStage(t, acme, sig.GetId(), orchestratorv1.Stage_STAGE_EXECUTE).GetIncident().GetId()

	tests := map[string]struct {
		req  *orchestratorv1.SetIncidentStatusRequest
		as   string
		code codes.Code
	}{
		"unknown incident":   {&orchestratorv1.SetIncidentStatusRequest{IncidentId: uuid.NewString(), Status: orchestratorv1.IncidentStatus_INCIDENT_STATUS_RESOLVED}, "acme", codes.NotFound},
		"another tenant's":   {&orchestratorv1.SetIncidentStatusRequest{IncidentId: incID, Status: orchestratorv1.IncidentStatus_INCIDENT_STATUS_RESOLVED}, "globex", codes.NotFound},
		"no status":          {&orchestratorv1.SetIncidentStatusRequest{IncidentId: incID}, "acme", codes.InvalidArgument},
		"undefined status":   {&orchestratorv1.SetIncidentStatusRequest{IncidentId: incID, Status: 42}, "acme", codes.InvalidArgument},
		"not a uuid":         {&orchestratorv1.SetIncidentStatusRequest{IncidentId: "nope", Status: orchestratorv1.IncidentStatus_INCIDENT_STATUS_RESOLVED}, "acme", codes.InvalidArgument},
		"malformed source":   {&orchestratorv1.SetIncidentStatusRequest{IncidentId: incID, Status: orchestratorv1.IncidentStatus_INCIDENT_STATUS_RESOLVED, Source: "Jira OPS-1"}, "acme", codes.InvalidArgument},
		"open from open":     {&orchestratorv1.SetIncidentStatusRequest{IncidentId: incID, Status: orchestratorv1.IncidentStatus_INCIDENT_STATUS_OPEN}, "acme", codes.OK},
		"reason over a page": {&orchestratorv1.SetIncidentStatusRequest{IncidentId: incID, Status: orchestratorv1.IncidentStatus_INCIDENT_STATUS_RESOLVED, Reason: string(make([]byte, 1001))}, "acme", codes.InvalidArgument},
	}
	for name, tc := range tests {
		tn := acme
		if tc.as == "globex" {
			tn = globex
		}
		_, err := b.client.SetIncidentStatus(as(tn), tc.req)
		require.Equal(t, tc.code, status.Code(err), "%s: %v", name, err)
	}
	got, err := b.client.GetIncident(as(acme), &orchestratorv1.GetIncidentRequest{Id: incID})
	require.NoError(t, err)
	require.Equal(t, orchestratorv1.IncidentStatus_INCIDENT_STATUS_OPEN, got.GetIncident().GetStatus(), "nothing refused was applied")
	require.Equal(t, pipelineStages, stages(got.GetTransitions()))
}
