package orchestrator_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	knowledgev1 "github.com/alexus-platform/alexus/gen/alexus/knowledge/v1"
	orchestratorv1 "github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1"
	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/orchestrator"
	"github.com/alexus-platform/alexus/services/orchestrator/gate"
)

// gateJobs returns the states and attempts of the quality gate jobs of
// incident id.
func (b *bundle) gateJobs(t *testing.T, id string) (states []string, attempts []int) {
	t.Helper()
	rows, err := b.db.Pool().Query(context.Background(),
		`SELECT state::text, attempt FROM river_job WHERE kind = $1 AND args->>'incident_id' = $2 ORDER BY id`, gate.Args{}.Kind(), id)
	require.NoError(t, err)
	for rows.Next() {
		var (
			s string
			a int
		)
		require.NoError(t, rows.Scan(&s, &a))
		states, attempts = append(states, s), append(attempts, a)
	}
	require.NoError(t, rows.Err())
	return states, attempts
}

// resolveAlert publishes the resolution of sig, ended at endsAt, and waits
// until it is stored.
func (b *bundle) resolveAlert(t *testing.T, tn tenant.ID, sig *signalv1.Signal, endsAt time.Time) *orchestratorv1.GetIncidentResponse {
	t.Helper()
	res := proto.CloneOf(sig)
	res.Status, res.EndsAt = signalv1.Status_STATUS_RESOLVED, timestamppb.New(endsAt)
	b.waitSettled(t, tn, b.publish(t, tn, event(signalv1.EventKind_EVENT_KIND_RESOLVED, res)))
	return b.waitStage(t, tn, sig.GetId(), orchestratorv1.Stage_STAGE_RESOLVED)
}

// The gate runs as a River job: the pipeline's resolution schedules it,
// once however often the resolution arrives, River works it when it is
// due, and its verdict reaches GetIncident, WatchIncidents and the
// knowledge graph. A gate whose incident is deleted meanwhile is cancelled
// on its first attempt, not retried.
func TestQualityGateRunsWhenDue(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *orchestrator.Config) { c.QualityGate.Delay = time.Second })
	sig := alert(acme)
	b.publish(t, acme, event(signalv1.EventKind_EVENT_KIND_OPENED, sig))
	incID := b.waitStage(t, acme, sig.GetId(), orchestratorv1.Stage_STAGE_EXECUTE).GetIncident().GetId()

	wctx, cancel := context.WithTimeout(as(acme), time.Minute)
	defer cancel()
	stream, err := b.client.WatchIncidents(wctx, &orchestratorv1.WatchIncidentsRequest{IncidentId: incID})
	require.NoError(t, err)
	_, err = stream.Recv() // subscribed
	require.NoError(t, err)

	resp := b.resolveAlert(t, acme, sig, time.Now())
	require.Equal(t, orchestratorv1.ResolutionQuality_RESOLUTION_QUALITY_PENDING, resp.GetIncident().GetResolutionQuality())
	b.resolveAlert(t, acme, sig, time.Now()) // delivered again
	states, _ := b.gateJobs(t, incID)
	require.Len(t, states, 1, "one gate however often the resolution arrives")

	// A second incident, on another resource, is deleted before its gate is
	// due. Its resolution is dated a few seconds ahead so that the gate is
	// not due before the test has deleted it.
	other := alert(acme)
	other.Resource = "payments-1:8080"
	b.publish(t, acme, event(signalv1.EventKind_EVENT_KIND_OPENED, other))
	otherID := b.waitStage(t, acme, other.GetId(), orchestratorv1.Stage_STAGE_EXECUTE).GetIncident().GetId()
	b.resolveAlert(t, acme, other, time.Now().Add(3*time.Second))
	err = b.db.WithTenant(as(acme), func(tx pgx.Tx) error {
		_, err := tx.Exec(context.Background(), `DELETE FROM incidents WHERE tenant_id = $1 AND id = $2`, string(acme), otherID)
		return err
	})
	require.NoError(t, err)

	// The verdict arrives on the live feed.
	for {
		msg, err := stream.Recv()
		require.NoError(t, err, "the quality gate's verdict is published")
		if msg.GetTransition().GetStage() == orchestratorv1.Stage_STAGE_QUALITY_GATE {
			require.Equal(t, "pass", msg.GetTransition().GetDetails()["result"])
			require.Equal(t, orchestratorv1.ResolutionQuality_RESOLUTION_QUALITY_VALIDATED, msg.GetIncident().GetResolutionQuality())
			break
		}
	}
	got, err := b.client.GetIncident(as(acme), &orchestratorv1.GetIncidentRequest{Id: incID})
	require.NoError(t, err)
	require.Equal(t, orchestratorv1.Stage_STAGE_QUALITY_GATE, got.GetIncident().GetStage())
	require.Equal(t, orchestratorv1.IncidentStatus_INCIDENT_STATUS_RESOLVED, got.GetIncident().GetStatus())
	require.Equal(t, orchestratorv1.ResolutionQuality_RESOLUTION_QUALITY_VALIDATED, got.GetIncident().GetResolutionQuality())
	last := got.GetTransitions()[len(got.GetTransitions())-1]
	require.Equal(t, orchestratorv1.Stage_STAGE_QUALITY_GATE, last.GetStage())
	require.Equal(t, "1s", last.GetDetails()["window"])

	tr, err := b.knowledge.Traverse(as(acme), &knowledgev1.TraverseRequest{
		Id: gate.IssueID(incID), Direction: knowledgev1.Direction_DIRECTION_OUTGOING,
		Types: []knowledgev1.EdgeType{knowledgev1.EdgeType_EDGE_TYPE_RESOLVED_BY}, Depth: 1,
	})
	require.NoError(t, err)
	require.Len(t, tr.GetNeighbours(), 1)
	require.Equal(t, gate.ResolutionID(incID), tr.GetNeighbours()[0].GetNode().GetId())

	require.Eventually(t, func() bool {
		states, _ := b.gateJobs(t, incID)
		return len(states) == 1 && states[0] == "completed"
	}, 10*time.Second, 20*time.Millisecond)
	require.Eventually(t, func() bool {
		states, attempts := b.gateJobs(t, otherID)
		return len(states) == 1 && states[0] == "cancelled" && attempts[0] == 1
	}, 30*time.Second, 50*time.Millisecond, "the deleted incident's gate is cancelled on its first attempt")
}
