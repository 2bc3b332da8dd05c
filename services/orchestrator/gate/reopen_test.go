package gate_test

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	knowledgev1 "github.com/alexus-platform/alexus/gen/alexus/knowledge/v1"
	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
	"github.com/alexus-platform/alexus/services/orchestrator/gate"
	"github.com/alexus-platform/alexus/services/orchestrator/incident"
)

// jobAt is the gate job the store scheduled for inc's resolution at.
func (b *bundle) jobAt(t *testing.T, inc incident.Incident, at time.Time) *river.Job[gate.Args] {
	t.Helper()
	for _, j := range b.jobs(t, inc.ID) {
		if j.args.ResolvedAt.Equal(at) {
			return &river.Job[gate.Args]{JobRow: &rivertype.JobRow{ID: j.id, Attempt: 1, Kind: gate.Args{}.Kind()}, Args: j.args}
		}
	}
	t.Fatalf("no gate job for the resolution of incident %s at %s", inc.ID, at)
	return nil
}

func (b *bundle) setStatus(t *testing.T, id string, to incident.Status, at time.Time) incident.Result {
	t.Helper()
	res, changed, err := b.store.SetStatus(as(acme), id, incident.StatusChange{To: to, Reason: "checked by hand", At: at})
	require.NoError(t, err)
	require.True(t, changed)
	return res
}

// A person's resolution schedules the gate as the source's does. Reopening
// the incident stops that gate from judging it; resolving it again gets a
// gate of its own, which judges the new resolution, while the first one
// is dropped.
func TestReopenStopsThePendingGate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	inc := b.open(t, acme, "fp-checkout", "checkout-1", b.t0.Add(-time.Hour))
	b.diagnose(t, acme, inc.ID, reasoningv1.Intent_INTENT_INCIDENT, false)

	res := b.setStatus(t, inc.ID, incident.StatusResolved, b.t0)
	require.Equal(t, incident.StageResolved, res.Transition.Stage)
	require.Equal(t, "user:test", res.Transition.Details[incident.DetailBy])
	require.Equal(t, "checked by hand", res.Transition.Details[incident.DetailReason])
	require.Equal(t, incident.QualityPending, res.Incident.ResolutionQuality)
	first := b.jobAt(t, inc, b.t0)
	require.Equal(t, b.t0.Add(window), b.jobs(t, inc.ID)[0].scheduledAt.UTC(), "due the delay after the person's resolution")

	res = b.setStatus(t, inc.ID, incident.StatusOpen, b.t0.Add(time.Minute))
	require.Equal(t, incident.StageReopened, res.Transition.Stage)
	require.Equal(t, incident.StatusOpen, res.Incident.Status)
	require.Nil(t, res.Incident.ResolvedAt)
	require.Equal(t, incident.QualityNone, res.Incident.ResolutionQuality)

	// The first resolution's gate comes due: the incident is open, so the
	// job ends without a verdict.
	b.clock.Set(b.t0.Add(window + time.Minute))
	var cancelled *rivertype.JobCancelError
	require.ErrorAs(t, b.worker.Work(context.Background(), first), &cancelled)
	got, trs, err := b.store.Get(as(acme), inc.ID)
	require.NoError(t, err)
	require.Equal(t, incident.QualityNone, got.ResolutionQuality)
	require.Equal(t, incident.StageReopened, got.Stage)
	for _, tr := range trs {
		require.NotEqual(t, incident.StageQualityGate, tr.Stage, "no verdict on a reopened incident")
	}

	// Resolved again: a second gate, for the second resolution.
	again := b.t0.Add(2 * time.Hour)
	res = b.setStatus(t, inc.ID, incident.StatusResolved, again)
	require.Equal(t, incident.QualityPending, res.Incident.ResolutionQuality)
	require.Len(t, b.jobs(t, inc.ID), 2)
	second := b.jobAt(t, inc, again)

	// The first job, run again, is still dropped: its resolution is gone.
	require.ErrorAs(t, b.worker.Work(context.Background(), first), &cancelled)
	b.clock.Set(again.Add(window))
	require.NoError(t, b.worker.Work(context.Background(), second))
	got, tr := b.verdict(t, acme, inc.ID)
	require.Equal(t, "pass", tr.Details["result"])
	require.Equal(t, incident.QualityValidated, got.ResolutionQuality)
	require.Equal(t, again.Format(time.RFC3339Nano), tr.Details["window_start"], "the second resolution is judged")

	node, err := b.knowledge.GetNode(as(acme), &knowledgev1.GetNodeRequest{Id: gate.ResolutionID(inc.ID)})
	require.NoError(t, err)
	require.Equal(t, "Resolved by user:test without an action from Alexus", node.GetNode().GetTitle())
	require.Equal(t, "person", node.GetNode().GetProperties()["resolved_by"])
}

// A verdict on a resolution the incident no longer has (reopened while
// the gate looked) is refused, and stores nothing.
func TestVerdictOnAReopenedResolutionIsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	inc := b.open(t, acme, "fp-checkout", "checkout-1", b.t0.Add(-time.Hour))
	b.resolve(t, acme, inc)
	b.setStatus(t, inc.ID, incident.StatusOpen, b.t0.Add(time.Minute))

	_, err := b.store.RecordVerdict(as(acme), inc.ID, incident.Verdict{
		Quality: incident.QualityValidated, Summary: "held", ResolvedAt: b.t0,
		Details: map[string]string{"result": gate.ResultPass},
	})
	require.ErrorIs(t, err, incident.ErrResolutionChanged)
	_, trs, err := b.store.Get(as(acme), inc.ID)
	require.NoError(t, err)
	require.Equal(t, incident.StageReopened, trs[len(trs)-1].Stage)
}

// The source's resolution applies once per signal: delivered again after a
// person reopened the incident, by signal or by fingerprint, it does not
// resolve the incident again.
func TestRedeliveredSourceResolutionDoesNotUndoAReopen(t *testing.T) {
	t.Parallel()
	b := setup(t)
	inc := b.open(t, acme, "fp-checkout", "checkout-1", b.t0.Add(-time.Hour))
	require.Len(t, b.resolve(t, acme, inc), 1)
	b.setStatus(t, inc.ID, incident.StatusOpen, b.t0.Add(time.Minute))

	require.Empty(t, b.resolve(t, acme, inc), "redelivered by signal")
	byFP, err := b.store.Resolve(as(acme), "", "fp-checkout", b.t0.Add(2*time.Minute))
	require.NoError(t, err)
	require.Empty(t, byFP, "redelivered by fingerprint")
	got, _, err := b.store.Get(as(acme), inc.ID)
	require.NoError(t, err)
	require.Equal(t, incident.StatusOpen, got.Status)
	require.Len(t, b.jobs(t, inc.ID), 1, "no second gate")

	// A person's resolution before the source's: the source's resolution
	// then only records that the alert stopped.
	other := b.open(t, acme, "fp-disk", "db-7", b.t0.Add(-time.Hour))
	b.setStatus(t, other.ID, incident.StatusResolved, b.t0)
	require.Empty(t, b.resolve(t, acme, other))
	got, trs, err := b.store.Get(as(acme), other.ID)
	require.NoError(t, err)
	require.Equal(t, incident.StatusResolved, got.Status)
	require.Equal(t, incident.StageResolved, trs[len(trs)-1].Stage)
	require.Equal(t, "user:test", trs[len(trs)-1].Details[incident.DetailBy], "one resolution, the person's")
}
