package gate_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	knowledgev1 "github.com/alexus-platform/alexus/gen/alexus/knowledge/v1"
	orchestratorv1 "github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1"
	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/internal/embed"
	pggraph "github.com/alexus-platform/alexus/internal/graph/postgres"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/redistest"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/orchestrator/gate"
	"github.com/alexus-platform/alexus/services/orchestrator/incident"
	"github.com/alexus-platform/alexus/services/orchestrator/knowledge"
	"github.com/alexus-platform/alexus/services/orchestrator/pipeline"
)

const (
	acme   = tenant.ID("acme")
	globex = tenant.ID("globex")
	// dimension is the local embedder's smallest, which keeps vectors cheap.
	dimension = 64
	// window is the default delay, which the scheduled jobs carry.
	window = 48 * time.Hour
)

// fakeClock is the worker's clock, set by the test.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

type bundle struct {
	db        *store.DB
	store     *incident.Store
	feed      *incident.Feed
	knowledge *knowledge.Handler
	worker    *gate.Worker
	clock     *fakeClock
	// t0 is when the tests' incidents are resolved.
	t0 time.Time
}

// setup wires the gate as the orchestrator does (the store schedules it on
// each resolution) on a fresh database and Redis namespace, with acme and
// globex provisioned. Its River client is not started: the tests call the
// worker with the jobs the store scheduled, at times the fake clock sets.
func setup(t *testing.T) *bundle {
	t.Helper()
	log := zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	db := storetest.New(t).DB
	rdb, space := redistest.New(t)
	for _, tn := range []tenant.ID{acme, globex} {
		_, err := provision.EnsureTenant(as(tn), db, provision.TenantOptions{})
		require.NoError(t, err)
	}
	g, err := pggraph.New(db, pggraph.Config{Dimension: dimension, MaxCachedVectors: 10_000})
	require.NoError(t, err)
	emb, err := embed.NewLocal(dimension)
	require.NoError(t, err)
	kh, err := knowledge.NewHandler(g, emb, db, nil, log)
	require.NoError(t, err)

	b := &bundle{db: db, feed: incident.NewFeed(rdb, space), knowledge: kh, clock: &fakeClock{},
		t0: time.Now().UTC().Truncate(time.Microsecond)}
	var gt *gate.Gate
	b.store = incident.NewStore(db, incident.OnResolve(func(ctx context.Context, tx pgx.Tx, inc incident.Incident) (bool, error) {
		return gt.Schedule(ctx, tx, inc)
	}))
	b.worker = gate.NewWorker(gate.WorkerDeps{
		Store: b.store, Feed: b.feed, Knowledge: kh, Log: log, Clock: b.clock.Now,
		Router: pipeline.OwnerRouter{Owners: kh, DefaultRoute: b.store.DefaultRoute},
	})
	gt, err = gate.New(gate.DefaultConfig(), db, b.worker, log)
	require.NoError(t, err)
	return b
}

func as(tn tenant.ID) context.Context {
	return tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: tn, Subject: "user:test"})
}

// open stores a firing signal of tn received at, and returns its incident.
func (b *bundle) open(t *testing.T, tn tenant.ID, fingerprint, resource string, at time.Time) incident.Incident {
	t.Helper()
	op, err := b.store.Open(as(tn), &signalv1.Signal{
		Id: uuid.NewString(), TenantId: string(tn), Source: "alertmanager", Fingerprint: fingerprint,
		Status: signalv1.Status_STATUS_FIRING, Severity: signalv1.Severity_SEVERITY_CRITICAL,
		Title: "High error rate on checkout", Resource: resource, ReceivedAt: timestamppb.New(at),
	})
	require.NoError(t, err)
	return op.Incident
}

// diagnose stores what the pipeline would have: the incident classified as
// intent, diagnosed with a recommended action, and, when executed, that
// action handed to the action plane.
func (b *bundle) diagnose(t *testing.T, tn tenant.ID, id string, intent reasoningv1.Intent, executed bool) {
	t.Helper()
	diag, err := protojson.Marshal(&reasoningv1.Diagnosis{
		Branch:            reasoningv1.Branch_BRANCH_INCIDENT,
		ProbableCause:     "The connection pool of checkout is exhausted after the 2.3 deploy.",
		RecommendedAction: &reasoningv1.RecommendedAction{Kind: "webhook", Target: "restart-checkout", Summary: "Restart the checkout pods"},
	})
	require.NoError(t, err)
	us := []incident.StageUpdate{
		{Stage: incident.StageClassify, Summary: "classified", Intent: &intent},
		{Stage: incident.StageBranch, Summary: "diagnosed", Details: map[string]string{incident.DetailResponse: string(diag)}},
	}
	if executed {
		us = append(us, incident.StageUpdate{Stage: incident.StageExecute, Summary: "executed",
			Details: map[string]string{"action_id": "8d3c1d52-5a7e-4c8b-9d0b-7c9c1f6f9a01", "target": "restart-checkout"}})
	}
	_, err = b.store.AddStages(as(tn), id, us)
	require.NoError(t, err)
}

// resolve resolves the incident of signalID at b.t0.
func (b *bundle) resolve(t *testing.T, tn tenant.ID, inc incident.Incident) []incident.Result {
	t.Helper()
	res, err := b.store.Resolve(as(tn), inc.SignalID, "", b.t0)
	require.NoError(t, err)
	return res
}

// scheduledJob is a quality gate job as River stored it.
type scheduledJob struct {
	id          int64
	args        gate.Args
	queue       string
	state       string
	scheduledAt time.Time
}

// jobs returns the quality gate jobs River holds for incident id.
func (b *bundle) jobs(t *testing.T, id string) []scheduledJob {
	t.Helper()
	rows, err := b.db.Pool().Query(context.Background(), `
		SELECT id, args, queue, state::text, scheduled_at FROM river_job
		WHERE kind = $1 AND args->>'incident_id' = $2 ORDER BY id`, gate.Args{}.Kind(), id)
	require.NoError(t, err)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (scheduledJob, error) {
		var (
			j   scheduledJob
			raw []byte
		)
		if err := r.Scan(&j.id, &raw, &j.queue, &j.state, &j.scheduledAt); err != nil {
			return j, err
		}
		return j, json.Unmarshal(raw, &j.args)
	})
	require.NoError(t, err)
	return out
}

// job is the River job the store scheduled for inc, as the worker gets it.
func (b *bundle) job(t *testing.T, inc incident.Incident) *river.Job[gate.Args] {
	t.Helper()
	js := b.jobs(t, inc.ID)
	require.Len(t, js, 1, "one gate per resolution")
	return &river.Job[gate.Args]{JobRow: &rivertype.JobRow{ID: js[0].id, Attempt: 1, Kind: gate.Args{}.Kind()}, Args: js[0].args}
}

// verdict returns the incident and its quality_gate transition.
func (b *bundle) verdict(t *testing.T, tn tenant.ID, id string) (incident.Incident, incident.Transition) {
	t.Helper()
	inc, trs, err := b.store.Get(as(tn), id)
	require.NoError(t, err)
	var out []incident.Transition
	for _, tr := range trs {
		if tr.Stage == incident.StageQualityGate {
			out = append(out, tr)
		}
	}
	require.Len(t, out, 1, "one verdict")
	return inc, out[0]
}

func TestResolveSchedulesTheGateOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	inc := b.open(t, acme, "fp-checkout", "checkout-1", b.t0.Add(-time.Hour))
	res := b.resolve(t, acme, inc)
	require.Len(t, res, 1)
	require.Equal(t, incident.QualityPending, res[0].Incident.ResolutionQuality)
	require.Equal(t, orchestratorv1.ResolutionQuality_RESOLUTION_QUALITY_PENDING, incident.IncidentToProto(res[0].Incident).GetResolutionQuality())

	js := b.jobs(t, inc.ID)
	require.Len(t, js, 1)
	require.Equal(t, gate.Queue, js[0].queue)
	require.Equal(t, "scheduled", js[0].state)
	require.WithinDuration(t, b.t0.Add(window), js[0].scheduledAt, time.Millisecond, "due the delay after the resolution")
	require.Equal(t, gate.Args{Tenant: string(acme), IncidentID: inc.ID, Window: window, ResolvedAt: b.t0}, js[0].args)

	// The resolution delivered again, by signal or by fingerprint, stores
	// nothing and schedules nothing.
	require.Empty(t, b.resolve(t, acme, inc))
	again, err := b.store.Resolve(as(acme), "", "fp-checkout", b.t0.Add(time.Minute))
	require.NoError(t, err)
	require.Empty(t, again)
	// Scheduling it again by hand (as a retried transaction would) finds
	// River's unique job.
	err = b.db.WithTenant(as(acme), func(tx pgx.Tx) error {
		_, err := gateOf(t, b).Schedule(as(acme), tx, res[0].Incident)
		return err
	})
	require.NoError(t, err)
	require.Len(t, b.jobs(t, inc.ID), 1, "still one gate")

	// Noise has no fix to validate: no gate.
	noise := b.open(t, acme, "fp-noise", "checkout-1", b.t0.Add(-time.Hour))
	b.diagnose(t, acme, noise.ID, reasoningv1.Intent_INTENT_NOISE, false)
	res = b.resolve(t, acme, noise)
	require.Len(t, res, 1)
	require.Equal(t, incident.QualityNone, res[0].Incident.ResolutionQuality)
	require.Empty(t, b.jobs(t, noise.ID))
}

// gateOf builds a second Gate on b's database, for scheduling by hand.
func gateOf(t *testing.T, b *bundle) *gate.Gate {
	t.Helper()
	g, err := gate.New(gate.DefaultConfig(), b.db, b.worker, zap.NewNop())
	require.NoError(t, err)
	return g
}

// Nothing matching came back: the verdict is pass, and the resolution is
// in the knowledge graph where the reasoning stages' retrieval finds it.
func TestGatePassesAndTeachesTheGraph(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := as(acme)
	_, err := b.knowledge.UpsertNodes(ctx, &knowledgev1.UpsertNodesRequest{Nodes: []*knowledgev1.Node{
		{Id: "checkout-1", Kind: knowledgev1.NodeKind_NODE_KIND_CI, Type: "service", Title: "Checkout"},
	}})
	require.NoError(t, err)
	inc := b.open(t, acme, "fp-checkout", "checkout-1", b.t0.Add(-time.Hour))
	b.diagnose(t, acme, inc.ID, reasoningv1.Intent_INTENT_INCIDENT, true)
	b.resolve(t, acme, inc)

	// None of these matches: the same alert before the resolution, another
	// alert on another resource, the same alert after the window, and a
	// CMDB question on the same resource.
	b.open(t, acme, "fp-checkout", "checkout-1", b.t0.Add(-2*time.Hour))
	b.open(t, acme, "fp-other", "payments-1", b.t0.Add(time.Hour))
	b.open(t, acme, "fp-checkout", "checkout-1", b.t0.Add(window+time.Minute))
	q := b.open(t, acme, "fp-question", "checkout-1", b.t0.Add(2*time.Hour))
	b.diagnose(t, acme, q.ID, reasoningv1.Intent_INTENT_CMDB_QUESTION, false)

	sub, err := b.feed.Subscribe(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = sub.Close() })

	job := b.job(t, inc)
	b.clock.Set(b.t0.Add(window + 5*time.Minute))
	require.NoError(t, b.worker.Work(context.Background(), job))

	got, tr := b.verdict(t, acme, inc.ID)
	require.Equal(t, incident.StatusResolved, got.Status)
	require.Equal(t, incident.QualityValidated, got.ResolutionQuality)
	require.Equal(t, incident.StageQualityGate, got.Stage)
	require.Equal(t, orchestratorv1.Stage_STAGE_QUALITY_GATE, incident.TransitionToProto(tr).GetStage())
	require.Equal(t, "pass", tr.Details["result"])
	require.Equal(t, "validated", tr.Details["resolution"])
	require.Equal(t, "48h0m0s", tr.Details["window"])
	require.Equal(t, b.t0.Format(time.RFC3339Nano), tr.Details["window_start"])
	require.Equal(t, b.t0.Add(window).Format(time.RFC3339Nano), tr.Details["window_end"])
	require.Equal(t, b.t0.Add(window+5*time.Minute).Format(time.RFC3339Nano), tr.Details["checked_at"])
	require.Empty(t, tr.Details["matching_incident_id"])

	// Watchers saw the verdict.
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	msg, err := sub.Next(wctx)
	require.NoError(t, err)
	require.Equal(t, orchestratorv1.Stage_STAGE_QUALITY_GATE, msg.GetTransition().GetStage())
	require.Equal(t, orchestratorv1.ResolutionQuality_RESOLUTION_QUALITY_VALIDATED, msg.GetIncident().GetResolutionQuality())

	// The graph holds the issue, what resolved it, and the CI it affects.
	issue, err := b.knowledge.GetNode(ctx, &knowledgev1.GetNodeRequest{Id: gate.IssueID(inc.ID)})
	require.NoError(t, err)
	require.Equal(t, knowledgev1.NodeKind_NODE_KIND_ISSUE, issue.GetNode().GetKind())
	require.Contains(t, issue.GetNode().GetBody(), "connection pool of checkout is exhausted")
	out, err := b.knowledge.Traverse(ctx, &knowledgev1.TraverseRequest{Id: gate.IssueID(inc.ID), Direction: knowledgev1.Direction_DIRECTION_OUTGOING, Depth: 1})
	require.NoError(t, err)
	byEdge := map[knowledgev1.EdgeType]*knowledgev1.Node{}
	for _, n := range out.GetNeighbours() {
		byEdge[n.GetEdge().GetType()] = n.GetNode()
	}
	require.Len(t, byEdge, 2)
	res := byEdge[knowledgev1.EdgeType_EDGE_TYPE_RESOLVED_BY]
	require.Equal(t, gate.ResolutionID(inc.ID), res.GetId())
	require.Equal(t, knowledgev1.NodeKind_NODE_KIND_RESOLUTION, res.GetKind())
	require.Equal(t, "Restart the checkout pods", res.GetTitle())
	require.Contains(t, res.GetBody(), `ran the webhook action "restart-checkout"`)
	require.Contains(t, res.GetBody(), "nothing matching came back within 48h0m0s")
	require.Equal(t, tr.Details["checked_at"], res.GetProperties()["validated_at"])
	require.Equal(t, "action", res.GetProperties()["resolved_by"])
	require.Equal(t, "true", res.GetProperties()["validated"])
	require.Equal(t, "checkout-1", byEdge[knowledgev1.EdgeType_EDGE_TYPE_AFFECTS].GetId())

	// Retrieval as the incident agent does it: a search for a like alert
	// finds the issue, and its RESOLVED_BY edge the validated resolution.
	hits, err := b.knowledge.Search(ctx, &knowledgev1.SearchRequest{
		Text: "High error rate on checkout\ncheckout-1", K: 6,
		Kinds: []knowledgev1.NodeKind{knowledgev1.NodeKind_NODE_KIND_ISSUE, knowledgev1.NodeKind_NODE_KIND_DOCUMENT, knowledgev1.NodeKind_NODE_KIND_RESOLUTION},
	})
	require.NoError(t, err)
	found := false
	for _, h := range hits.GetHits() {
		found = found || h.GetNode().GetId() == gate.IssueID(inc.ID)
	}
	require.True(t, found, "the search finds the issue")
	validated, err := b.knowledge.Traverse(ctx, &knowledgev1.TraverseRequest{
		Id: gate.IssueID(inc.ID), Direction: knowledgev1.Direction_DIRECTION_OUTGOING,
		Types: []knowledgev1.EdgeType{knowledgev1.EdgeType_EDGE_TYPE_RESOLVED_BY}, Depth: 1,
	})
	require.NoError(t, err)
	require.Len(t, validated.GetNeighbours(), 1)
	require.Equal(t, gate.ResolutionID(inc.ID), validated.GetNeighbours()[0].GetNode().GetId())

	// A redelivered job changes nothing.
	require.NoError(t, b.worker.Work(context.Background(), job))
	_, again := b.verdict(t, acme, inc.ID)
	require.Equal(t, tr, again)

	// Another tenant's graph has none of it.
	_, err = b.knowledge.GetNode(as(globex), &knowledgev1.GetNodeRequest{Id: gate.IssueID(inc.ID)})
	require.Equal(t, codes.NotFound, status.Code(err))
}

// An incident resolved without an action is recorded as resolved by the
// source, and without an AFFECTS edge when its resource is no CI.
func TestGatePassesForAResolutionByTheSource(t *testing.T) {
	t.Parallel()
	b := setup(t)
	inc := b.open(t, acme, "fp-disk", "db-7", b.t0.Add(-time.Hour))
	b.resolve(t, acme, inc) // resolved before it was even classified
	b.clock.Set(b.t0.Add(window))
	require.NoError(t, b.worker.Work(context.Background(), b.job(t, inc)))

	_, tr := b.verdict(t, acme, inc.ID)
	require.Equal(t, "pass", tr.Details["result"])
	out, err := b.knowledge.Traverse(as(acme), &knowledgev1.TraverseRequest{Id: gate.IssueID(inc.ID), Direction: knowledgev1.Direction_DIRECTION_OUTGOING, Depth: 1})
	require.NoError(t, err)
	require.Len(t, out.GetNeighbours(), 1)
	res := out.GetNeighbours()[0]
	require.Equal(t, knowledgev1.EdgeType_EDGE_TYPE_RESOLVED_BY, res.GetEdge().GetType())
	require.Equal(t, "Resolved by the source without an action from Alexus", res.GetNode().GetTitle())
	require.Equal(t, "source", res.GetNode().GetProperties()["resolved_by"])
}

// A matching incident within the window fails the gate: the resolution is
// ineffective, the incident goes back to a person, and nothing is written
// to the graph.
func TestGateFailsOnARecurrence(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		fingerprint, resource string
		// after is how long after the resolution it came back.
		after     time.Duration
		matchedBy string
	}{
		"the same alert again":         {fingerprint: "fp-checkout", resource: "checkout-2", after: time.Hour, matchedBy: incident.MatchFingerprint},
		"another alert on the same CI": {fingerprint: "fp-latency", resource: "checkout-1", after: time.Hour, matchedBy: incident.MatchResource},
		"the same alert at once":       {fingerprint: "fp-checkout", resource: "checkout-1", after: time.Second, matchedBy: incident.MatchFingerprint},
		"the same alert at the end":    {fingerprint: "fp-checkout", resource: "checkout-1", after: window, matchedBy: incident.MatchFingerprint},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			ctx := as(acme)
			require.NoError(t, b.store.SetDefaultRoute(ctx, "oncall-platform"))
			inc := b.open(t, acme, "fp-checkout", "checkout-1", b.t0.Add(-time.Hour))
			b.diagnose(t, acme, inc.ID, reasoningv1.Intent_INTENT_INCIDENT, false)
			// The pipeline had escalated it already: the gate's escalation
			// is a second item, not lost to the first.
			_, err := b.store.AddStages(ctx, inc.ID, []incident.StageUpdate{{Stage: incident.StageEscalate, Summary: "escalated",
				Triage: &incident.NewTriageItem{IncidentID: inc.ID, Kind: incident.TriageEscalate, Question: "unsure", Diagnosis: &reasoningv1.Diagnosis{}}}})
			require.NoError(t, err)
			b.resolve(t, acme, inc)
			again := b.open(t, acme, tc.fingerprint, tc.resource, b.t0.Add(tc.after))

			b.clock.Set(b.t0.Add(window + time.Minute))
			require.NoError(t, b.worker.Work(context.Background(), b.job(t, inc)))

			got, tr := b.verdict(t, acme, inc.ID)
			require.Equal(t, "fail", tr.Details["result"])
			require.Equal(t, "ineffective", tr.Details["resolution"])
			require.Equal(t, again.ID, tr.Details["matching_incident_id"])
			require.Equal(t, tc.matchedBy, tr.Details["matched_by"])
			require.Equal(t, b.t0.Add(tc.after).Format(time.RFC3339Nano), tr.Details["matching_received_at"])
			require.Equal(t, b.t0.Add(window+time.Minute).Format(time.RFC3339Nano), tr.Details["checked_at"])
			require.Equal(t, "oncall-platform", tr.Details["route"])
			require.Equal(t, incident.StatusResolved, got.Status, "the alert did stop; its recurrence is an incident of its own")
			require.Equal(t, incident.QualityIneffective, got.ResolutionQuality)
			require.Equal(t, orchestratorv1.ResolutionQuality_RESOLUTION_QUALITY_INEFFECTIVE, incident.IncidentToProto(got).GetResolutionQuality())

			items, _, err := b.store.ListTriage(ctx, incident.TriageFilter{Kind: incident.TriageEscalate, State: "open"}, 10, "")
			require.NoError(t, err)
			require.Len(t, items, 1, "the gate's escalation")
			closed, _, err := b.store.ListTriage(ctx, incident.TriageFilter{Kind: incident.TriageEscalate, State: "closed"}, 10, "")
			require.NoError(t, err)
			require.Len(t, closed, 1, "the pipeline's escalation, closed when the incident was resolved")
			require.NotEqual(t, items[0].GetId(), closed[0].GetId())
			item, err := b.store.TriageItem(ctx, tr.Details["triage_item_id"])
			require.NoError(t, err)
			require.Equal(t, inc.ID, item.GetIncidentId())
			require.Equal(t, orchestratorv1.TriageKind_TRIAGE_KIND_ESCALATE, item.GetKind())
			require.Contains(t, item.GetQuestion(), "The resolution did not hold")
			require.Contains(t, item.GetQuestion(), again.ID)
			require.Equal(t, "oncall-platform", item.GetRoute())
			require.Equal(t, "default route", item.GetRouteReason())
			require.Contains(t, item.GetDiagnosis().GetProbableCause(), "connection pool", "the diagnosis goes with it")

			_, err = b.knowledge.GetNode(ctx, &knowledgev1.GetNodeRequest{Id: gate.IssueID(inc.ID)})
			require.Equal(t, codes.NotFound, status.Code(err), "no validated resolution")
			_, err = b.knowledge.GetNode(ctx, &knowledgev1.GetNodeRequest{Id: gate.ResolutionID(inc.ID)})
			require.Equal(t, codes.NotFound, status.Code(err))

			// A redelivery queues nothing more.
			require.NoError(t, b.worker.Work(context.Background(), b.job(t, inc)))
			items, _, err = b.store.ListTriage(ctx, incident.TriageFilter{Kind: incident.TriageEscalate}, 10, "")
			require.NoError(t, err)
			require.Len(t, items, 2)
		})
	}
}

// The same alert on the same CI in another tenant is not a recurrence.
func TestRecurrenceInAnotherTenantDoesNotFailTheGate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	inc := b.open(t, acme, "fp-checkout", "checkout-1", b.t0.Add(-time.Hour))
	b.resolve(t, acme, inc)
	b.open(t, globex, "fp-checkout", "checkout-1", b.t0.Add(time.Hour))

	b.clock.Set(b.t0.Add(window))
	require.NoError(t, b.worker.Work(context.Background(), b.job(t, inc)))
	got, tr := b.verdict(t, acme, inc.ID)
	require.Equal(t, "pass", tr.Details["result"])
	require.Equal(t, incident.QualityValidated, got.ResolutionQuality)
	items, _, err := b.store.ListTriage(as(acme), incident.TriageFilter{}, 10, "")
	require.NoError(t, err)
	require.Empty(t, items)
}

// A job run before its window has ended is put back until it ends, having
// decided nothing.
func TestGateWaitsForTheEndOfItsWindow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	inc := b.open(t, acme, "fp-checkout", "checkout-1", b.t0.Add(-time.Hour))
	b.resolve(t, acme, inc)

	b.clock.Set(b.t0.Add(window - time.Hour))
	err := b.worker.Work(context.Background(), b.job(t, inc))
	var snooze *river.JobSnoozeError
	require.ErrorAs(t, err, &snooze)
	require.Equal(t, time.Hour, snooze.Duration)
	got, trs, err := b.store.Get(as(acme), inc.ID)
	require.NoError(t, err)
	require.Equal(t, incident.QualityPending, got.ResolutionQuality)
	require.Equal(t, incident.StageResolved, trs[len(trs)-1].Stage)
}

// A gate whose incident is gone ends for good instead of being retried.
func TestGateOfAMissingIncidentIsCancelled(t *testing.T) {
	t.Parallel()
	b := setup(t)
	inc := b.open(t, acme, "fp-checkout", "checkout-1", b.t0.Add(-time.Hour))
	b.resolve(t, acme, inc)
	job := b.job(t, inc)
	b.clock.Set(b.t0.Add(window))

	var cancelled *rivertype.JobCancelError
	// Another tenant's identity does not reach acme's incident.
	other := &river.Job[gate.Args]{JobRow: job.JobRow, Args: gate.Args{Tenant: string(globex), IncidentID: inc.ID, Window: window}}
	require.ErrorAs(t, b.worker.Work(context.Background(), other), &cancelled)
	bad := &river.Job[gate.Args]{JobRow: job.JobRow, Args: gate.Args{Tenant: "Not A Tenant", IncidentID: inc.ID, Window: window}}
	require.ErrorAs(t, b.worker.Work(context.Background(), bad), &cancelled)

	err := b.db.WithTenant(as(acme), func(tx pgx.Tx) error {
		_, err := tx.Exec(context.Background(), `DELETE FROM incidents WHERE tenant_id = $1 AND id = $2`, string(acme), inc.ID)
		return err
	})
	require.NoError(t, err)
	require.ErrorAs(t, b.worker.Work(context.Background(), job), &cancelled)
}

func TestConfigValidateNamesField(t *testing.T) {
	t.Parallel()
	require.NoError(t, gate.DefaultConfig().Validate())
	for field, c := range map[string]gate.Config{
		"delay":   {Delay: 0, Workers: 1},
		"workers": {Delay: time.Hour, Workers: 0},
	} {
		err := c.Validate()
		require.Error(t, err, field)
		require.Contains(t, err.Error(), field)
	}
}
