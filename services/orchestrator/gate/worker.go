package gate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	knowledgev1 "github.com/alexus-platform/alexus/gen/alexus/knowledge/v1"
	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/orchestrator/incident"
	"github.com/alexus-platform/alexus/services/orchestrator/pipeline"
)

// SystemSubject is the identity the worker acts under.
const SystemSubject = "system:quality-gate"

// The verdicts, as the quality_gate transition's "result" detail.
const (
	ResultPass = "pass"
	ResultFail = "fail"
)

// Knowledge is the part of the knowledge plane the gate writes validated
// resolutions to; the orchestrator's knowledge.Handler implements it in
// process, embedding nodes with the tenant's embedder. Every call is scoped
// to the context's tenant.
type Knowledge interface {
	UpsertNodes(ctx context.Context, req *knowledgev1.UpsertNodesRequest) (*knowledgev1.UpsertNodesResponse, error)
	UpsertEdges(ctx context.Context, req *knowledgev1.UpsertEdgesRequest) (*knowledgev1.UpsertEdgesResponse, error)
	GetNode(ctx context.Context, req *knowledgev1.GetNodeRequest) (*knowledgev1.GetNodeResponse, error)
}

// WorkerDeps are what the worker reads and writes.
type WorkerDeps struct {
	// Store holds the incidents.
	Store *incident.Store
	// Feed publishes the verdict to watchers.
	Feed *incident.Feed
	// Knowledge receives validated resolutions.
	Knowledge Knowledge
	// Router picks where a failed gate's escalation goes.
	Router pipeline.Router
	// Log receives the worker's logs; nil discards them.
	Log *zap.Logger
	// Clock tells the time; nil is time.Now. Tests set it.
	Clock func() time.Time
}

// Worker checks one resolution per job.
type Worker struct {
	river.WorkerDefaults[Args]
	d WorkerDeps
}

// NewWorker returns a Worker over d.
func NewWorker(d WorkerDeps) *Worker {
	if d.Log == nil {
		d.Log = zap.NewNop()
	}
	if d.Clock == nil {
		d.Clock = time.Now
	}
	return &Worker{d: d}
}

// Work checks the resolution of the job's incident, for the job's tenant.
// The verdict is stored first; a pass is then written to the knowledge
// graph, and only then is the verdict published, so a watcher that sees a
// validated resolution finds it in the graph. An incident that is gone
// (deleted, or its tenant removed), not resolved (reopened), or resolved
// again since the job's resolution cancels the job: retrying would find
// the same, and a new resolution has a job of its own. Any other failure
// is returned, and River retries it with backoff; a job whose verdict is
// stored already (a redelivery) does what may not have happened after it:
// the graph writes of a pass, which are upserts, and the publication.
func (w *Worker) Work(ctx context.Context, job *river.Job[Args]) error {
	t, err := tenant.Parse(job.Args.Tenant)
	if err != nil {
		return river.JobCancel(fmt.Errorf("quality gate job %d: %w", job.ID, err))
	}
	ctx = tenant.WithIdentity(ctx, tenant.Identity{Tenant: t, Subject: SystemSubject})
	log := w.d.Log.With(zap.String("tenant_id", string(t)), zap.String("incident_id", job.Args.IncidentID), zap.Int("attempt", job.Attempt))

	inc, trs, err := w.d.Store.Get(ctx, job.Args.IncidentID)
	if errors.Is(err, incident.ErrNotFound) {
		log.Info("incident gone; quality gate dropped")
		return river.JobCancel(fmt.Errorf("quality gate job %d: %w", job.ID, err))
	}
	if err != nil {
		return fmt.Errorf("load incident %s: %w", job.Args.IncidentID, err)
	}
	// A reopened incident is not judged, even when its verdict is stored
	// already: a resolution someone reopened is not taught to the graph.
	if inc.Status != incident.StatusResolved || inc.ResolvedAt == nil {
		log.Info("incident no longer resolved; quality gate dropped", zap.String("status", string(inc.Status)))
		return river.JobCancel(fmt.Errorf("quality gate job %d: incident %s is not resolved", job.ID, inc.ID))
	}
	if at := job.Args.ResolvedAt; !at.IsZero() && !at.Equal(*inc.ResolvedAt) {
		log.Info("incident reopened and resolved again; this resolution's quality gate dropped")
		return river.JobCancel(fmt.Errorf("quality gate job %d: incident %s was resolved again at %s", job.ID, inc.ID, stamp(*inc.ResolvedAt)))
	}
	if tr, ok := verdictOf(trs); ok {
		return w.finish(ctx, log, incident.Result{Incident: inc, Transition: tr}, trs)
	}
	if job.Args.Window <= 0 {
		return river.JobCancel(fmt.Errorf("quality gate job %d: window %v is not positive", job.ID, job.Args.Window))
	}
	from := *inc.ResolvedAt
	to := from.Add(job.Args.Window)
	now := w.d.Clock()
	if now.Before(to) {
		// Run early (by hand, or by a clock ahead of ours): a recurrence
		// may still come, so check when the window has ended.
		return river.JobSnooze(to.Sub(now))
	}

	rec, found, err := w.d.Store.Recurrence(ctx, inc, from, to)
	if err != nil {
		return err
	}
	details := map[string]string{
		"window":       job.Args.Window.String(),
		"window_start": stamp(from),
		"window_end":   stamp(to),
		"checked_at":   stamp(now),
	}
	var v incident.Verdict
	if !found {
		v = w.pass(inc, details)
	} else {
		if v, err = w.fail(ctx, inc, trs, rec, details); err != nil {
			return err
		}
	}
	v.ResolvedAt = from
	res, err := w.d.Store.RecordVerdict(ctx, inc.ID, v)
	if errors.Is(err, incident.ErrNotFound) || errors.Is(err, incident.ErrResolutionChanged) {
		// Gone, or reopened while the gate looked: nothing to judge.
		return river.JobCancel(fmt.Errorf("quality gate job %d: %w", job.ID, err))
	}
	if err != nil {
		return err
	}
	log.Info("quality gate checked", zap.String("result", res.Transition.Details["result"]),
		zap.String("matching_incident_id", res.Transition.Details["matching_incident_id"]))
	return w.finish(ctx, log, res, trs)
}

// finish carries out the stored verdict res: a pass is written to the
// graph, then the verdict is published.
func (w *Worker) finish(ctx context.Context, log *zap.Logger, res incident.Result, trs []incident.Transition) error {
	if res.Transition.Details["result"] == ResultPass {
		if err := w.learn(ctx, log, res.Incident, trs, res.Transition); err != nil {
			return err
		}
	}
	return w.d.Feed.Publish(ctx, res)
}

// pass is the verdict when nothing came back.
func (w *Worker) pass(inc incident.Incident, details map[string]string) incident.Verdict {
	details["result"] = ResultPass
	details["resolution"] = string(incident.QualityValidated)
	details["knowledge_issue_id"] = IssueID(inc.ID)
	details["knowledge_resolution_id"] = ResolutionID(inc.ID)
	return incident.Verdict{
		Quality: incident.QualityValidated,
		Summary: fmt.Sprintf("the resolution held: nothing matching came back within %s; recorded as a validated resolution", details["window"]),
		Details: details,
	}
}

// fail is the verdict when rec came back: the resolution is ineffective
// and the incident goes to a person, with the diagnosis it had.
func (w *Worker) fail(ctx context.Context, inc incident.Incident, trs []incident.Transition, rec incident.Recurrence, details map[string]string) (incident.Verdict, error) {
	route, why, err := w.d.Router.Route(ctx, inc.Resource)
	if err != nil {
		return incident.Verdict{}, fmt.Errorf("route the escalation: %w", err)
	}
	what := "the same alert came back"
	if rec.By == incident.MatchResource {
		what = fmt.Sprintf("another incident on %s came back", inc.Resource)
	}
	reason := truncate(fmt.Sprintf("The resolution did not hold: %s %s after it (incident %s, %q).",
		what, rec.ReceivedAt.Sub(*inc.ResolvedAt).Round(time.Second), rec.IncidentID, rec.Title), 1000)
	item := &incident.NewTriageItem{
		IncidentID: inc.ID, Kind: incident.TriageEscalate, Key: string(incident.StageQualityGate),
		Question: reason, Route: route, RouteReason: why, Diagnosis: diagnosis(trs),
	}
	details["result"] = ResultFail
	details["resolution"] = string(incident.QualityIneffective)
	details["matching_incident_id"] = rec.IncidentID
	details["matched_by"] = rec.By
	details["matching_received_at"] = stamp(rec.ReceivedAt)
	details["reason"] = reason
	details["route"], details["route_reason"] = route, why
	details["triage_item_id"] = item.ID()
	return incident.Verdict{
		Quality: incident.QualityIneffective,
		Summary: truncate(fmt.Sprintf("the resolution did not hold (%s: incident %s); escalated to %s", rec.By, rec.IncidentID, cmp.Or(route, "nobody (no route configured)")), 300),
		Details: details,
		Triage:  item,
	}, nil
}

// learn writes the resolution of inc, which verdict validated, to the
// tenant's knowledge graph. Every write is an upsert, so a redelivery
// writes the same again.
func (w *Worker) learn(ctx context.Context, log *zap.Logger, inc incident.Incident, trs []incident.Transition, verdict incident.Transition) error {
	issue, res := resolutionNodes(inc, trs, verdict)
	if _, err := w.d.Knowledge.UpsertNodes(ctx, &knowledgev1.UpsertNodesRequest{Nodes: []*knowledgev1.Node{issue, res}}); err != nil {
		return w.graphError(log, "write the validated resolution", err)
	}
	edges := []*knowledgev1.Edge{{From: issue.GetId(), To: res.GetId(), Type: knowledgev1.EdgeType_EDGE_TYPE_RESOLVED_BY}}
	if ci := inc.Resource; ci != "" && len(ci) <= maxNodeID {
		n, err := w.d.Knowledge.GetNode(ctx, &knowledgev1.GetNodeRequest{Id: ci})
		switch {
		case status.Code(err) == codes.NotFound || status.Code(err) == codes.InvalidArgument:
		case err != nil:
			return w.graphError(log, "read the affected CI", err)
		case n.GetNode().GetKind() == knowledgev1.NodeKind_NODE_KIND_CI:
			edges = append(edges, &knowledgev1.Edge{From: issue.GetId(), To: ci, Type: knowledgev1.EdgeType_EDGE_TYPE_AFFECTS})
		}
	}
	if _, err := w.d.Knowledge.UpsertEdges(ctx, &knowledgev1.UpsertEdgesRequest{Edges: edges}); err != nil {
		return w.graphError(log, "link the validated resolution", err)
	}
	return nil
}

// graphError cancels the job on a write the graph refuses (retrying
// refuses it again) and retries any other failure.
func (w *Worker) graphError(log *zap.Logger, op string, err error) error {
	if status.Code(err) == codes.InvalidArgument {
		log.Error("the knowledge graph refused the validated resolution", zap.String("op", op), zap.Error(err))
		return river.JobCancel(fmt.Errorf("%s: %w", op, err))
	}
	return fmt.Errorf("%s: %w", op, err)
}

// diagnosis is the incident's stored diagnosis (the branch stage's
// response); empty when it was resolved before it was diagnosed.
func diagnosis(trs []incident.Transition) *reasoningv1.Diagnosis {
	d := &reasoningv1.Diagnosis{}
	if tr, ok := find(trs, incident.StageBranch); ok {
		// A response that does not decode leaves what decoded: the gate
		// describes the resolution with what it has.
		_ = protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal([]byte(tr.Details[incident.DetailResponse]), d)
	}
	return d
}

// verdictOf is the verdict on the incident's latest resolution: a
// quality_gate transition after its last resolved one.
func verdictOf(trs []incident.Transition) (incident.Transition, bool) {
	for i := len(trs) - 1; i >= 0; i-- {
		switch trs[i].Stage {
		case incident.StageQualityGate:
			return trs[i], true
		case incident.StageResolved:
			return incident.Transition{}, false
		}
	}
	return incident.Transition{}, false
}

func find(trs []incident.Transition, st incident.Stage) (incident.Transition, bool) {
	for _, tr := range trs {
		if tr.Stage == st {
			return tr, true
		}
	}
	return incident.Transition{}, false
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
