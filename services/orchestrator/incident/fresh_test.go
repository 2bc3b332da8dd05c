package incident_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/timestamppb"

	orchestratorv1 "github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1"
	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/orchestrator/incident"
)

// OpenFresh stores a batch of new signals with their stages as Open and
// AddStages would one by one, and leaves a signal stored before alone.
func TestOpenFreshStoresNewSignalsWithTheirStagesAndSkipsStoredOnes(t *testing.T) {
	t.Parallel()
	s, ctx := acmeStore(t)

	received := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	signal := func(i int) *signalv1.Signal {
		return &signalv1.Signal{
			Id: uuid.NewString(), Source: "alertmanager", Fingerprint: fmt.Sprintf("fp-%d", i), Title: fmt.Sprintf("disk full %d", i),
			Resource: fmt.Sprintf("db-%d", i), Status: signalv1.Status_STATUS_FIRING, Severity: signalv1.Severity_SEVERITY_WARNING,
			Labels: map[string]string{"n": fmt.Sprint(i)}, ReceivedAt: timestamppb.New(received), RawPayload: []byte(`{"n":1}`),
			StartsAt: timestamppb.New(received.Add(-time.Minute)),
		}
	}
	intent, sev := reasoningv1.Intent_INTENT_INCIDENT, signalv1.Severity_SEVERITY_CRITICAL
	escalate := reasoningv1.Decision_DECISION_ESCALATE
	stages := func(sig *signalv1.Signal) []incident.StageUpdate {
		id := incident.IDFor("acme", sig.GetId())
		return []incident.StageUpdate{
			{Stage: incident.StageClassify, Summary: "classified", Details: map[string]string{"path": "heuristic"}, Intent: &intent, Severity: &sev},
			// Details that are not valid UTF-8 are stored (and reported)
			// with the bytes replaced, as JSON encodes them.
			{Stage: incident.StageBranch, Summary: "diagnosed", Details: map[string]string{"cause": "bad \xff byte"}},
			{Stage: incident.StageConfidence, Summary: "decided", Decision: &escalate},
			{Stage: incident.StageEscalate, Summary: "escalated", Triage: &incident.NewTriageItem{
				IncidentID: id, Kind: incident.TriageEscalate, Question: "look at " + sig.GetResource(), Route: "ops",
				Diagnosis: &reasoningv1.Diagnosis{ProbableCause: "disk"},
			}},
		}
	}

	before := signal(0)
	_, err := s.Open(ctx, before)
	require.NoError(t, err)
	fs := []incident.Fresh{{Signal: signal(1)}, {Signal: before}, {Signal: signal(2)}}
	for i := range fs {
		fs[i].Stages = stages(fs[i].Signal)
	}
	out, err := s.OpenFresh(ctx, fs)
	require.NoError(t, err)
	require.Len(t, out, 3)
	require.False(t, out[1].New, "a signal stored before is left alone")
	require.Empty(t, out[1].Results)

	for _, k := range []int{0, 2} {
		sig := fs[k].Signal
		id := incident.IDFor("acme", sig.GetId())
		require.True(t, out[k].New)
		var stagesGot []incident.Stage
		for n, r := range out[k].Results {
			require.True(t, r.New)
			require.EqualValues(t, n+1, r.Transition.Sequence)
			require.Equal(t, id, r.Transition.IncidentID)
			stagesGot = append(stagesGot, r.Transition.Stage)
		}
		require.Equal(t, []incident.Stage{incident.StageReceived, incident.StageClassify, incident.StageBranch,
			incident.StageConfidence, incident.StageEscalate}, stagesGot)
		require.Equal(t, incident.StageReceived, out[k].Results[0].Incident.Stage, "received shows the incident as opened")
		require.Equal(t, signalv1.Severity_SEVERITY_WARNING, out[k].Results[0].Incident.Severity)

		// What Get reads back is what the results said.
		inc, trs, err := s.Get(ctx, id)
		require.NoError(t, err)
		said := out[k].Results[4].Incident
		require.True(t, said.CreatedAt.Equal(inc.CreatedAt) && said.LastSeenAt.Equal(inc.LastSeenAt))
		require.True(t, said.LastSeenAt.Equal(received), "last seen is when ingest received it")
		said.CreatedAt, said.LastSeenAt, inc.CreatedAt, inc.LastSeenAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		require.Equal(t, said, inc)
		require.Equal(t, incident.StageEscalate, inc.Stage)
		require.Equal(t, incident.StatusOpen, inc.Status)
		require.Equal(t, sev, inc.Severity)
		require.Equal(t, intent, inc.Intent)
		require.Equal(t, escalate, inc.Decision)
		require.EqualValues(t, 1, inc.OccurrenceCount)
		require.Equal(t, sig.GetResource(), inc.Resource)
		require.True(t, out[k].Results[0].Incident.LastSeenAt.Equal(received))
		require.Len(t, trs, 5)
		for n, tr := range trs {
			got := out[k].Results[n].Transition
			require.Equal(t, got.Stage, tr.Stage)
			require.Equal(t, got.Summary, tr.Summary)
			require.Equal(t, got.Details, tr.Details)
			require.True(t, got.At.Equal(tr.At))
		}
		require.Equal(t, "heuristic", trs[1].Details["path"])
		require.Equal(t, "bad \ufffd byte", trs[2].Details["cause"])
		require.Empty(t, trs[3].Details, "a stage without details stores an empty object")
		require.Equal(t, sig.GetFingerprint(), trs[0].Details["fingerprint"])

		item, err := s.TriageItem(ctx, incident.TriageItemID(id, incident.TriageEscalate))
		require.NoError(t, err)
		require.Equal(t, "ops", item.GetRoute())
		require.Equal(t, "look at "+sig.GetResource(), item.GetQuestion())
	}

	// The signal stored before still has only its received transition.
	_, trs, err := s.Get(ctx, incident.IDFor("acme", before.GetId()))
	require.NoError(t, err)
	require.Len(t, trs, 1)

	// A second run of the same batch (a redelivery) stores nothing.
	again, err := s.OpenFresh(ctx, fs)
	require.NoError(t, err)
	for _, st := range again {
		require.False(t, st.New)
	}
}

// A stage that may happen more than once is not part of a fresh run, and
// nothing of the batch is stored.
func TestOpenFreshRefusesStagesOutsideAFreshRun(t *testing.T) {
	t.Parallel()
	s, ctx := acmeStore(t)
	sig := &signalv1.Signal{Id: uuid.NewString(), Source: "generic", Fingerprint: "x", Title: "x", Status: signalv1.Status_STATUS_FIRING}
	_, err := s.OpenFresh(ctx, []incident.Fresh{{Signal: sig, Stages: []incident.StageUpdate{{Stage: incident.StageRepeated}}}})
	require.ErrorContains(t, err, "not a stage of a fresh run")
	_, _, err = s.Get(ctx, incident.IDFor("acme", sig.GetId()))
	require.ErrorIs(t, err, incident.ErrNotFound)
}

// acmeStore is a Store over a fresh database holding the tenant acme, and a
// context acting for acme.
func acmeStore(t *testing.T) (*incident.Store, context.Context) {
	t.Helper()
	db := storetest.New(t).DB
	ctx := tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: "acme", Subject: "test"})
	_, err := provision.EnsureTenant(ctx, db, provision.TenantOptions{})
	require.NoError(t, err)
	return incident.NewStore(db), ctx
}

// A signal ID spelled in capitals is still a new signal to OpenFresh, whose
// insert answers the canonical spelling.
func TestOpenFreshTakesAnyUUIDSpelling(t *testing.T) {
	t.Parallel()
	s, ctx := acmeStore(t)
	id := strings.ToUpper(uuid.NewString())
	sig := &signalv1.Signal{Id: id, Source: "generic", Fingerprint: "x", Title: "x", Status: signalv1.Status_STATUS_FIRING}
	out, err := s.OpenFresh(ctx, []incident.Fresh{{Signal: sig}})
	require.NoError(t, err)
	require.True(t, out[0].New)
	require.Len(t, out[0].Results, 1)
	_, trs, err := s.Get(ctx, incident.IDFor("acme", id))
	require.NoError(t, err)
	require.Len(t, trs, 1)
}

// The source's resolution of an alert closes its incident's open triage
// item, as a person's does (services/orchestrator's triage tests).
func TestSourceResolutionClosesOpenTriageItems(t *testing.T) {
	t.Parallel()
	s, ctx := acmeStore(t)
	sig := &signalv1.Signal{Id: uuid.NewString(), Source: "generic", Fingerprint: "fp-close", Title: "disk full", Status: signalv1.Status_STATUS_FIRING}
	id := incident.IDFor("acme", sig.GetId())
	clarify := reasoningv1.Decision_DECISION_CLARIFY
	_, err := s.OpenFresh(ctx, []incident.Fresh{{Signal: sig, Stages: []incident.StageUpdate{
		{Stage: incident.StageClassify, Summary: "classified"},
		{Stage: incident.StageBranch, Summary: "diagnosed"},
		{Stage: incident.StageConfidence, Summary: "decided", Decision: &clarify},
		{Stage: incident.StageClarify, Summary: "asked", Triage: &incident.NewTriageItem{
			IncidentID: id, Kind: incident.TriageClarify, Question: "run it?", Diagnosis: &reasoningv1.Diagnosis{},
		}},
	}}})
	require.NoError(t, err)
	itemID := incident.TriageItemID(id, incident.TriageClarify)
	item, err := s.TriageItem(ctx, itemID)
	require.NoError(t, err)
	require.Equal(t, orchestratorv1.TriageState_TRIAGE_STATE_OPEN, item.GetState())

	res, err := s.Resolve(ctx, sig.GetId(), sig.GetFingerprint(), time.Now())
	require.NoError(t, err)
	require.Len(t, res, 1)
	item, err = s.TriageItem(ctx, itemID)
	require.NoError(t, err)
	require.Equal(t, orchestratorv1.TriageState_TRIAGE_STATE_CLOSED, item.GetState())
	require.NotNil(t, item.GetClosedAt())
	_, _, err = s.Answer(ctx, itemID, "yes")
	require.ErrorIs(t, err, incident.ErrTriageClosed)
}

// A stage stored after a person resolved the incident (a model answered it
// meanwhile) queues its triage item closed, as the resolution would have
// closed it.
func TestTriageItemQueuedOnAResolvedIncidentIsClosed(t *testing.T) {
	t.Parallel()
	s, ctx := acmeStore(t)
	sig := &signalv1.Signal{Id: uuid.NewString(), Source: "generic", Fingerprint: "fp-late", Title: "disk full", Status: signalv1.Status_STATUS_FIRING}
	id := incident.IDFor("acme", sig.GetId())
	_, err := s.OpenFresh(ctx, []incident.Fresh{{Signal: sig, Stages: []incident.StageUpdate{{Stage: incident.StageClassify, Summary: "classified"}}}})
	require.NoError(t, err)
	_, _, err = s.SetStatus(ctx, id, incident.StatusChange{To: incident.StatusResolved, Reason: "fixed by hand"})
	require.NoError(t, err)

	_, err = s.AddStages(ctx, id, []incident.StageUpdate{
		{Stage: incident.StageBranch, Summary: "diagnosed"},
		{Stage: incident.StageEscalate, Summary: "escalated", Triage: &incident.NewTriageItem{
			IncidentID: id, Kind: incident.TriageEscalate, Question: "look", Diagnosis: &reasoningv1.Diagnosis{},
		}},
	})
	require.NoError(t, err)
	item, err := s.TriageItem(ctx, incident.TriageItemID(id, incident.TriageEscalate))
	require.NoError(t, err)
	require.Equal(t, orchestratorv1.TriageState_TRIAGE_STATE_CLOSED, item.GetState())
	require.NotNil(t, item.GetClosedAt())

	_, _, err = s.SetStatus(ctx, id, incident.StatusChange{To: incident.StatusOpen, Reason: "back"})
	require.NoError(t, err)
	item, err = s.TriageItem(ctx, incident.TriageItemID(id, incident.TriageEscalate))
	require.NoError(t, err)
	require.Equal(t, orchestratorv1.TriageState_TRIAGE_STATE_OPEN, item.GetState(), "reopening opens it")
	require.Nil(t, item.GetClosedAt())
}
