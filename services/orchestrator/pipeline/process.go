package pipeline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"github.com/alexus-platform/alexus/internal/textlimit"
	"regexp"
	"strconv"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	actionsv1 "github.com/alexus-platform/alexus/gen/alexus/actions/v1"
	orchestratorv1 "github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1"
	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/internal/coalesce"
	"github.com/alexus-platform/alexus/internal/rediskey"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/orchestrator/incident"
)

// SystemSubject is the subject of the identity the pipeline acts under, so
// downstream planes and the audit log can tell its calls from a person's.
const SystemSubject = "system:orchestrator"

// EventField is the stream entry field holding the SignalEvent.
const EventField = rediskey.SignalEventField

// Processor is the stage machine: it turns one signal-stream entry into
// stored, published incident transitions.
type Processor struct {
	store     *incident.Store
	feed      *incident.Feed
	reasoning Reasoner
	actions   actionsv1.ActionServiceClient
	router    Router
	log       *zap.Logger
	// fresh stores the new incidents of a tenant's concurrent runs together.
	fresh *coalesce.Coalescer[tenant.ID, incident.Fresh, freshOutcome]
}

// Reasoner runs the reasoning stages: a ReasoningService client, or
// reasoning.InProcess when the service runs in this process.
type Reasoner interface {
	ClassifyIncident(ctx context.Context, in *reasoningv1.ClassifyIncidentRequest, opts ...grpc.CallOption) (*reasoningv1.ClassifyIncidentResponse, error)
	Diagnose(ctx context.Context, in *reasoningv1.DiagnoseRequest, opts ...grpc.CallOption) (*reasoningv1.DiagnoseResponse, error)
	CheckConfidence(ctx context.Context, in *reasoningv1.CheckConfidenceRequest, opts ...grpc.CallOption) (*reasoningv1.CheckConfidenceResponse, error)
}

// NewProcessor returns a Processor. router picks where escalations go.
func NewProcessor(store *incident.Store, feed *incident.Feed, reasoning Reasoner, actions actionsv1.ActionServiceClient, router Router, log *zap.Logger) *Processor {
	fresh, err := coalesce.New[tenant.ID](freshCoalescing, openFreshOne(store), openFreshAll(store))
	if err != nil {
		panic(err) // freshCoalescing is a valid constant
	}
	return &Processor{store: store, feed: feed, reasoning: reasoning, actions: actions, router: router, log: log, fresh: fresh}
}

// openFreshOne stores one new incident alone.
func openFreshOne(store *incident.Store) coalesce.One[incident.Fresh, freshOutcome] {
	return func(ctx context.Context, f incident.Fresh) (freshOutcome, error) {
		out, err := store.OpenFresh(ctx, []incident.Fresh{f})
		if err != nil {
			return freshOutcome{}, err
		}
		return freshOutcome{stored: out[0]}, nil
	}
}

// openFreshAll stores new incidents together, in one transaction. When
// that fails for anything but the context, each is stored alone, so that
// one signal the database refuses does not fail the others with it (they
// would wait for their entries' redelivery); its error is its own.
func openFreshAll(store *incident.Store) coalesce.Many[incident.Fresh, freshOutcome] {
	one := openFreshOne(store)
	return func(ctx context.Context, fs []incident.Fresh) ([]freshOutcome, error) {
		out := make([]freshOutcome, len(fs))
		stored, err := store.OpenFresh(ctx, fs)
		if err == nil {
			for k := range fs {
				out[k].stored = stored[k]
			}
			return out, nil
		}
		if ctx.Err() != nil {
			return nil, err
		}
		for k, f := range fs {
			if out[k], err = one(ctx, f); err != nil {
				out[k].err = err
			}
		}
		return out, nil
	}
}

// freshOutcome is one new incident's part of a coalesced store: what was
// stored, or why it alone could not be.
type freshOutcome struct {
	stored incident.Stored
	err    error
}

// freshCoalescing is how a tenant's new incidents are stored together:
// while two transactions of the tenant's new incidents are going, the
// next ones wait and go as one (at most 64), which is what keeps
// Postgres's cost per signal low under a burst. A lone signal is stored at
// once.
var freshCoalescing = coalesce.Config{MaxItems: 64, MaxInFlight: 2, Timeout: 10 * time.Second}

// Key orders entries by signal: the events of one signal go to one worker.
// A resolved notification without a signal ID is keyed by fingerprint.
func (p *Processor) Key(e Entry) string {
	ev, err := decodeEvent(e)
	switch {
	case err != nil:
		return e.ID
	case ev.GetSignalId() != "":
		return ev.GetSignalId()
	case ev.GetSignal().GetFingerprint() != "":
		return ev.GetSignal().GetFingerprint()
	}
	return e.ID
}

// Handle processes one entry for the tenant of its stream. An entry that
// is malformed, or whose payload names another tenant, is a Permanent
// error.
func (p *Processor) Handle(ctx context.Context, e Entry) error {
	ev, err := decodeEvent(e)
	if err != nil {
		return Permanent(err)
	}
	if pt := ev.GetSignal().GetTenantId(); pt != "" && pt != string(e.Tenant) {
		return Permanent(fmt.Errorf("event names tenant %q but is on the stream of tenant %q", pt, e.Tenant))
	}
	ctx = tenant.WithIdentity(ctx, tenant.Identity{Tenant: e.Tenant, Subject: SystemSubject})
	log := p.log.With(zap.String("tenant_id", string(e.Tenant)), zap.String("entry_id", e.ID),
		zap.String("kind", ev.GetKind().String()), zap.String("signal_id", ev.GetSignalId()))
	switch ev.GetKind() {
	case signalv1.EventKind_EVENT_KIND_OPENED:
		return p.opened(ctx, log, ev, e.Deliveries <= 1)
	case signalv1.EventKind_EVENT_KIND_REPEATED:
		return p.repeated(ctx, ev, e.ID)
	case signalv1.EventKind_EVENT_KIND_RESOLVED:
		return p.resolved(ctx, ev)
	case signalv1.EventKind_EVENT_KIND_ANSWERED:
		return p.answered(ctx, log, ev)
	default:
		return Permanent(fmt.Errorf("unknown event kind %d", ev.GetKind()))
	}
}

func decodeEvent(e Entry) (*signalv1.SignalEvent, error) {
	raw, ok := e.Values[EventField].(string)
	if !ok {
		return nil, fmt.Errorf("entry has no %q field", EventField)
	}
	var ev signalv1.SignalEvent
	if err := proto.Unmarshal([]byte(raw), &ev); err != nil {
		return nil, fmt.Errorf("decode signal event: %w", err)
	}
	return &ev, nil
}

// opened runs the pipeline for a new signal. Every stage is stored before
// anything acts on it (stages answered without a model may wait in memory
// for the next one, see deferrable); a stage found already stored (an
// earlier delivery got that far) is not run again, and its stored response
// feeds the next stage.
//
// On its entry's first delivery the signal is taken for new: its stages
// run before anything is stored, and the signal, its incident and the
// stages are stored together with other new signals of the tenant (see
// progress.fresh). A redelivered entry, or a first delivery that finds its
// signal stored after all, resumes from what is stored.
func (p *Processor) opened(ctx context.Context, log *zap.Logger, ev *signalv1.SignalEvent, first bool) error {
	t, err := tenant.Require(ctx)
	if err != nil {
		return err
	}
	sig, err := openedSignal(t, ev)
	if err != nil {
		return Permanent(err)
	}
	id := incident.IDFor(t, sig.GetId())
	log = log.With(zap.String("incident_id", id))

	if first {
		err := p.run(ctx, log, id, sig, freshProgress(id, sig))
		if !errors.Is(err, errStoredBefore) {
			return err
		}
	}
	op, err := p.store.Open(ctx, sig)
	if err != nil {
		return fmt.Errorf("open incident: %w", err)
	}
	// Transitions stored by an earlier delivery are published again, as
	// that delivery may have stopped before publishing them; watchers drop
	// repeats by incident ID and sequence.
	again := make([]incident.Result, len(op.Transitions))
	for i, tr := range op.Transitions {
		again[i] = incident.Result{Incident: op.Incident, Transition: tr}
	}
	if err := p.feed.Publish(ctx, again...); err != nil {
		return err
	}
	done := newProgress(op.Transitions)
	done.inc = op.Incident
	return p.run(ctx, log, id, sig, done)
}

// openedSignal is the signal an OPENED event of tenant t opens, or why the
// event is malformed.
func openedSignal(t tenant.ID, ev *signalv1.SignalEvent) (*signalv1.Signal, error) {
	if _, err := uuid.Parse(ev.GetSignalId()); err != nil {
		return nil, fmt.Errorf("opened event has signal_id %q, not a UUID", ev.GetSignalId())
	}
	if ev.GetSignal() == nil {
		return nil, errors.New("opened event carries no signal")
	}
	sig := proto.CloneOf(ev.GetSignal())
	if sig.GetId() != "" && sig.GetId() != ev.GetSignalId() {
		return nil, fmt.Errorf("opened event's signal id %q differs from its signal_id %q", sig.GetId(), ev.GetSignalId())
	}
	sig.Id, sig.TenantId = ev.GetSignalId(), string(t)
	return sig, nil
}

// errStoredBefore reports that a run that took its signal for new found it
// stored by an earlier delivery; the run starts again from what is stored.
var errStoredBefore = errors.New("signal stored by an earlier delivery")

// run runs the stages of a new signal's incident that done does not hold
// stored yet.
func (p *Processor) run(ctx context.Context, log *zap.Logger, id string, sig *signalv1.Signal, done *progress) error {
	cls := &reasoningv1.Classification{}
	err := p.stage(ctx, id, done, incident.StageClassify, cls, func(ctx context.Context) (incident.StageUpdate, error) {
		resp, err := p.reasoning.ClassifyIncident(ctx, &reasoningv1.ClassifyIncidentRequest{Signal: sig})
		if err != nil {
			return incident.StageUpdate{}, fmt.Errorf("classify: %w", err)
		}
		proto.Merge(cls, resp.GetClassification())
		intent, sev := cls.GetIntent(), cls.GetSeverity()
		return incident.StageUpdate{
			Summary:  fmt.Sprintf("classified as %s, %s, confidence %.2f", incident.IntentText(intent), incident.SeverityText(sev), cls.GetConfidence()),
			Details:  withPath(map[string]string{"intent": incident.IntentText(intent), "severity": incident.SeverityText(sev), "confidence": formatConf(cls.GetConfidence()), "rationale": cls.GetRationale()}, cls.GetPath(), cls.GetFallbackReason(), cls.GetModelCall()),
			Intent:   &intent,
			Severity: &sev,
		}, nil
	})
	if err != nil {
		return err
	}

	diag := &reasoningv1.Diagnosis{}
	err = p.stage(ctx, id, done, incident.StageBranch, diag, func(ctx context.Context) (incident.StageUpdate, error) {
		resp, err := p.reasoning.Diagnose(ctx, &reasoningv1.DiagnoseRequest{Signal: sig, Classification: cls})
		if err != nil {
			return incident.StageUpdate{}, fmt.Errorf("diagnose: %w", err)
		}
		proto.Merge(diag, resp.GetDiagnosis())
		details := withPath(map[string]string{"branch": branchText(diag.GetBranch()), "confidence": formatConf(diag.GetConfidence())}, diag.GetPath(), diag.GetFallbackReason(), diag.GetModelCall())
		if rb := diag.GetRunbook(); rb != "" {
			details["runbook"] = truncate(rb, 500)
		}
		summary := "diagnosed as an incident: " + diag.GetProbableCause()
		if diag.GetBranch() == reasoningv1.Branch_BRANCH_CMDB {
			details["answer"] = diag.GetAnswer()
			summary = "answered as a CMDB question"
		} else {
			details["probable_cause"] = diag.GetProbableCause()
		}
		if a := diag.GetRecommendedAction(); a != nil {
			details["action_kind"], details["action_target"] = a.GetKind(), a.GetTarget()
		}
		return incident.StageUpdate{Summary: truncate(summary, 300), Details: details}, nil
	})
	if err != nil {
		return err
	}

	check := &reasoningv1.CheckConfidenceResponse{}
	err = p.stage(ctx, id, done, incident.StageConfidence, check, func(ctx context.Context) (incident.StageUpdate, error) {
		resp, err := p.reasoning.CheckConfidence(ctx, &reasoningv1.CheckConfidenceRequest{Classification: cls, Diagnosis: diag})
		if err != nil {
			return incident.StageUpdate{}, fmt.Errorf("check confidence: %w", err)
		}
		proto.Merge(check, resp)
		decision := check.GetDecision()
		return incident.StageUpdate{
			Summary: fmt.Sprintf("decided to %s at confidence %.2f", incident.DecisionText(decision), check.GetConfidence()),
			Details: map[string]string{
				"decision":   incident.DecisionText(decision),
				"confidence": formatConf(check.GetConfidence()),
				"execute_at": formatConf(check.GetThresholds().GetExecuteAt()),
				"clarify_at": formatConf(check.GetThresholds().GetClarifyAt()),
				"thresholds": thresholdRule(check.GetThresholds()),
				"reason":     check.GetReason(),
			},
			Decision: &decision,
		}, nil
	})
	if err != nil {
		return err
	}

	for _, st := range []incident.Stage{incident.StageExecute, incident.StageClarify, incident.StageEscalate} {
		if _, ok := done.stored[st]; ok {
			return nil
		}
	}
	if err := p.decide(ctx, id, done.inc, sig, cls, diag, check, done); err != nil {
		return err
	}
	log.Info("incident decided", zap.String("decision", incident.DecisionText(check.GetDecision())))
	return nil
}

// targetName is the shape of a target name the action plane accepts.
var targetName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// The action kinds the pipeline executes, as diagnoses name them.
const (
	actionKindWebhook = "webhook"
	actionKindNotify  = "notify"
	actionKindRunbook = "runbook"
)

// decide runs the decision's stage: execute hands the recommended action to
// the action plane under a key derived from the incident, so a retried
// execute performs the action once; clarify and escalate record why. When
// the tenant has a ticket system, the stage also asks for the incident's
// ticket (see ticketFor), stored with it and opened by ticketsync.
func (p *Processor) decide(ctx context.Context, id string, inc incident.Incident, sig *signalv1.Signal, cls *reasoningv1.Classification, diag *reasoningv1.Diagnosis, check *reasoningv1.CheckConfidenceResponse, done *progress) error {
	reason := check.GetReason()
	stage := incident.StageEscalate
	switch check.GetDecision() {
	case reasoningv1.Decision_DECISION_EXECUTE:
		a := diag.GetRecommendedAction()
		switch {
		case a == nil:
			reason = "execute was decided but the diagnosis recommends no action"
		case a.GetKind() != actionKindWebhook && a.GetKind() != actionKindNotify && a.GetKind() != actionKindRunbook:
			reason = fmt.Sprintf("execute was decided but action kind %q is not supported", a.GetKind())
		case !targetName.MatchString(a.GetTarget()):
			reason = fmt.Sprintf("execute was decided but %s target %q is not a valid target name", a.GetKind(), a.GetTarget())
		default:
			return p.execute(ctx, id, inc, sig, cls, diag, check, done)
		}
	case reasoningv1.Decision_DECISION_CLARIFY:
		stage = incident.StageClarify
	}
	resp := &reasoningv1.CheckConfidenceResponse{Decision: check.GetDecision(), Reason: reason}
	return p.stage(ctx, id, done, stage, resp, func(ctx context.Context) (incident.StageUpdate, error) {
		details := map[string]string{"reason": reason}
		item := incident.NewTriageItem{IncidentID: id, Kind: incident.TriageClarify, Question: question(reason, diag), Diagnosis: diag}
		summary := "clarify: " + item.Question
		if stage == incident.StageEscalate {
			route, why, err := p.router.Route(ctx, sig.GetResource())
			if err != nil {
				return incident.StageUpdate{}, fmt.Errorf("route the escalation: %w", err)
			}
			item.Kind, item.Question, item.Route, item.RouteReason = incident.TriageEscalate, reason, route, why
			details["route"], details["route_reason"] = route, why
			summary = fmt.Sprintf("escalated to %s: %s", cmp.Or(route, "nobody (no route configured)"), reason)
		}
		details["triage_item_id"] = incident.TriageItemID(id, item.Kind)
		tk, err := p.ticketFor(ctx, id, inc, sig, cls, diag, decided{
			stage: stage, what: incident.DecisionText(check.GetDecision()) + ": " + reason, route: item.Route, routeReason: item.RouteReason,
		})
		if err != nil {
			return incident.StageUpdate{}, err
		}
		return incident.StageUpdate{Summary: truncate(summary, 300), Details: details, Triage: &item, Ticket: tk}, nil
	})
}

// question is what a clarify item asks: to confirm the recommended action,
// or whether an alert without one needs attention.
func question(reason string, diag *reasoningv1.Diagnosis) string {
	if a := diag.GetRecommendedAction(); a != nil {
		return truncate(fmt.Sprintf("%s. Run it? Answer yes to run it, no to keep it with a person.", cmp.Or(a.GetSummary(), a.GetKind()+" "+a.GetTarget())), 1000)
	}
	return truncate(reason+" Answer yes if it does, no if not.", 1000)
}

// answered resumes an incident whose clarify question a person answered:
// the confidence check runs again with the answer (stored as the answered
// stage), then the incident executes or escalates. A second clarify is
// never taken. A redelivered event finds the stages stored and runs none
// of them again. An incident resolved before the answer came is not
// resumed.
func (p *Processor) answered(ctx context.Context, log *zap.Logger, ev *signalv1.SignalEvent) error {
	t, err := tenant.Require(ctx)
	if err != nil {
		return err
	}
	if _, err := uuid.Parse(ev.GetSignalId()); err != nil {
		return Permanent(fmt.Errorf("answered event has signal_id %q, not a UUID", ev.GetSignalId()))
	}
	id := incident.IDFor(t, ev.GetSignalId())
	inc, trs, err := p.store.Get(ctx, id)
	if errors.Is(err, incident.ErrNotFound) {
		return Permanent(err)
	}
	if err != nil {
		return fmt.Errorf("load incident: %w", err)
	}
	item, err := p.store.TriageItem(ctx, ev.GetTriageItemId())
	switch {
	case errors.Is(err, incident.ErrTriageNotFound):
		return Permanent(err)
	case err != nil:
		return fmt.Errorf("load triage item: %w", err)
	case item.GetIncidentId() != id || item.GetKind() != orchestratorv1.TriageKind_TRIAGE_KIND_CLARIFY || item.GetState() != orchestratorv1.TriageState_TRIAGE_STATE_ANSWERED:
		return Permanent(fmt.Errorf("triage item %s is not an answered clarify question of incident %s", item.GetId(), id))
	}
	done := newProgress(trs)
	done.inc = inc
	if _, resumed := done.stored[incident.StageAnswered]; !resumed && (inc.Status == incident.StatusResolved || resolvedSince(trs, item.GetAnsweredAt().AsTime())) {
		// Resolved while the question waited: nothing is left to act on,
		// and acting now would act on an incident a person closed. An
		// incident reopened since is a new episode: the answer was to the
		// old one, so it does not act either.
		log.Info("answer to a resolved incident; not resumed", zap.String("incident_id", id), zap.String("triage_item_id", item.GetId()))
		return nil
	}
	cls, diag := &reasoningv1.Classification{}, &reasoningv1.Diagnosis{}
	if err := p.stage(ctx, id, done, incident.StageClassify, cls, nil); err != nil {
		return err
	}
	if err := p.stage(ctx, id, done, incident.StageBranch, diag, nil); err != nil {
		return err
	}
	check := &reasoningv1.CheckConfidenceResponse{}
	err = p.stage(ctx, id, done, incident.StageAnswered, check, func(ctx context.Context) (incident.StageUpdate, error) {
		resp, err := p.reasoning.CheckConfidence(ctx, &reasoningv1.CheckConfidenceRequest{Classification: cls, Diagnosis: diag, Clarification: item.GetAnswer()})
		if err != nil {
			return incident.StageUpdate{}, fmt.Errorf("check confidence with the answer: %w", err)
		}
		proto.Merge(check, resp)
		if check.GetDecision() == reasoningv1.Decision_DECISION_CLARIFY {
			check.Decision = reasoningv1.Decision_DECISION_ESCALATE
			check.Reason = "still unsure after the answer; " + check.GetReason()
		}
		decision := check.GetDecision()
		return incident.StageUpdate{
			Summary: truncate(fmt.Sprintf("%s answered %q; decided to %s", item.GetAnsweredBy(), item.GetAnswer(), incident.DecisionText(decision)), 300),
			Details: map[string]string{
				"decision":       incident.DecisionText(decision),
				"confidence":     formatConf(check.GetConfidence()),
				"reason":         check.GetReason(),
				"answer":         truncate(item.GetAnswer(), 1000),
				"answered_by":    item.GetAnsweredBy(),
				"triage_item_id": item.GetId(),
			},
			Decision: &decision,
		}, nil
	})
	if err != nil {
		return err
	}
	for _, st := range []incident.Stage{incident.StageExecute, incident.StageEscalate} {
		if _, ok := done.stored[st]; ok {
			return nil
		}
	}
	sig := &signalv1.Signal{Id: inc.SignalID, Title: inc.Title, Resource: inc.Resource}
	if err := p.decide(ctx, id, inc, sig, cls, diag, check, done); err != nil {
		return err
	}
	log.Info("incident decided after an answer", zap.String("incident_id", id), zap.String("decision", incident.DecisionText(check.GetDecision())))
	return nil
}

// resolvedSince reports whether trs hold a resolution stored after at.
func resolvedSince(trs []incident.Transition, at time.Time) bool {
	for _, tr := range trs {
		if tr.Stage == incident.StageResolved && tr.At.After(at) {
			return true
		}
	}
	return false
}

func (p *Processor) execute(ctx context.Context, id string, inc incident.Incident, sig *signalv1.Signal, cls *reasoningv1.Classification, diag *reasoningv1.Diagnosis, check *reasoningv1.CheckConfidenceResponse, done *progress) error {
	// The decision is stored before anything acts on it.
	if err := p.flush(ctx, id, done); err != nil {
		return err
	}
	inc = done.inc
	a := diag.GetRecommendedAction()
	key := "incident/" + id + "/execute"
	action := &actionsv1.Action{}
	return p.stage(ctx, id, done, incident.StageExecute, action, func(ctx context.Context) (incident.StageUpdate, error) {
		req := actionRequest(key, id, inc, sig, cls, diag, check)
		resp, err := p.actions.ExecuteAction(ctx, req)
		if status.Code(err) == codes.InvalidArgument {
			// The action plane refused the request for good (e.g. a
			// runbook whose schema does not accept the incident's facts):
			// a retry would be refused again, so the refusal is the
			// execute stage's outcome, recorded on the incident.
			msg := status.Convert(err).Message()
			summary := fmt.Sprintf("the action plane refused the %s action on %q: %s", a.GetKind(), a.GetTarget(), msg)
			tk, err := p.ticketFor(ctx, id, inc, sig, cls, diag, decided{stage: incident.StageExecute, what: "execute, but " + summary})
			if err != nil {
				return incident.StageUpdate{}, err
			}
			return incident.StageUpdate{
				Summary: truncate(summary, 300),
				Details: map[string]string{
					"action_status":   "REFUSED",
					"error":           truncate(msg, 1000),
					"idempotency_key": key,
					"target":          a.GetTarget(),
				},
				Ticket: tk,
			}, nil
		}
		if err != nil {
			return incident.StageUpdate{}, fmt.Errorf("execute action: %w", err)
		}
		proto.Merge(action, resp.GetAction())
		state := incident.EnumText(action.GetStatus().String(), "ACTION_STATUS_")
		summary := fmt.Sprintf("handed a %s action to %q to the action plane (%s)", a.GetKind(), a.GetTarget(), state)
		tk, err := p.ticketFor(ctx, id, inc, sig, cls, diag, decided{stage: incident.StageExecute, what: "execute: " + summary + "; " + check.GetReason()})
		if err != nil {
			return incident.StageUpdate{}, err
		}
		return incident.StageUpdate{
			Summary: summary,
			Details: map[string]string{
				"action_id":       action.GetId(),
				"action_status":   state,
				"idempotency_key": key,
				"target":          a.GetTarget(),
				"replayed":        strconv.FormatBool(resp.GetReplayed()),
			},
			Ticket: tk,
		}, nil
	})
}

// actionRequest is the action plane request that executes diag's
// recommended action for incident id under key: a webhook carries the
// incident's facts as details, a notify message says them in words, and a
// runbook gets the incident's facts as string parameters.
//
// A diagnosis names a runbook but carries no parameters for it, so the
// facts (runbookFacts) are all a runbook is given. A runbook whose schema
// accepts them (declares them as strings or allows additional properties,
// and requires nothing else) runs; any other is refused by the action
// plane with INVALID_ARGUMENT, and the execute stage records the refusal
// (action_status REFUSED) instead of acting.
func actionRequest(key, id string, inc incident.Incident, sig *signalv1.Signal, cls *reasoningv1.Classification, diag *reasoningv1.Diagnosis, check *reasoningv1.CheckConfidenceResponse) *actionsv1.ExecuteActionRequest {
	a := diag.GetRecommendedAction()
	req := &actionsv1.ExecuteActionRequest{
		IdempotencyKey: key,
		IncidentId:     id,
		Reason:         truncate(cmp.Or(a.GetSummary(), check.GetReason()), 1000),
	}
	if a.GetKind() == actionKindNotify {
		req.Kind = actionsv1.ActionKind_ACTION_KIND_NOTIFY
		req.Params = &actionsv1.ExecuteActionRequest_Notify{Notify: &actionsv1.NotifyParams{
			Target:   a.GetTarget(),
			Title:    truncate(sig.GetTitle(), 150),
			Text:     truncate(cmp.Or(diag.GetProbableCause(), sig.GetTitle(), "An incident needs attention."), 3000),
			Severity: notifySeverity[cls.GetSeverity()],
			Fields: map[string]string{
				"Resource":   truncate(cmp.Or(sig.GetResource(), "-"), 1000),
				"Confidence": formatConf(check.GetConfidence()),
				"Incident":   id,
			},
		}}
		return req
	}
	if a.GetKind() == actionKindRunbook {
		params := make(map[string]*structpb.Value, 6)
		for k, v := range map[string]string{
			"incident_id":    id,
			"title":          truncate(sig.GetTitle(), 500),
			"resource":       truncate(sig.GetResource(), 500),
			"severity":       incident.SeverityText(cls.GetSeverity()),
			"probable_cause": truncate(diag.GetProbableCause(), 1000),
			"confidence":     formatConf(check.GetConfidence()),
		} {
			params[k] = structpb.NewStringValue(v)
		}
		req.Kind = actionsv1.ActionKind_ACTION_KIND_RUNBOOK
		req.Params = &actionsv1.ExecuteActionRequest_Runbook{Runbook: &actionsv1.RunbookParams{
			Target: a.GetTarget(),
			Params: &structpb.Struct{Fields: params},
		}}
		return req
	}
	req.Kind = actionsv1.ActionKind_ACTION_KIND_WEBHOOK
	req.Params = &actionsv1.ExecuteActionRequest_Webhook{Webhook: &actionsv1.WebhookParams{
		Target: a.GetTarget(),
		Details: map[string]string{
			"incident_id":    id,
			"signal_id":      sig.GetId(),
			"title":          truncate(sig.GetTitle(), 500),
			"resource":       truncate(sig.GetResource(), 500),
			"severity":       incident.SeverityText(cls.GetSeverity()),
			"intent":         incident.IntentText(cls.GetIntent()),
			"probable_cause": truncate(diag.GetProbableCause(), 1000),
			"confidence":     formatConf(check.GetConfidence()),
			"created_at":     inc.CreatedAt.UTC().Format(time.RFC3339),
		},
	}}
	return req
}

// notifySeverity maps a classification's severity onto a message's.
var notifySeverity = map[signalv1.Severity]actionsv1.NotifySeverity{
	signalv1.Severity_SEVERITY_INFO:     actionsv1.NotifySeverity_NOTIFY_SEVERITY_INFO,
	signalv1.Severity_SEVERITY_WARNING:  actionsv1.NotifySeverity_NOTIFY_SEVERITY_WARNING,
	signalv1.Severity_SEVERITY_ERROR:    actionsv1.NotifySeverity_NOTIFY_SEVERITY_ERROR,
	signalv1.Severity_SEVERITY_CRITICAL: actionsv1.NotifySeverity_NOTIFY_SEVERITY_CRITICAL,
}

// progress is what an entry's run knows of its incident's stages: those
// stored (by this run or an earlier delivery) and those computed but not
// stored yet.
type progress struct {
	stored  map[incident.Stage]incident.Transition
	pending []incident.StageUpdate
	// inc is the incident as last stored; before anything is, as it will
	// be opened.
	inc incident.Incident
	// fresh, while set, is the signal of a run that took it for new: none
	// of its incident is stored yet, and the first flush stores the signal,
	// the incident and the pending stages together (incident.OpenFresh).
	fresh *signalv1.Signal
}

// freshProgress is the progress of a run that takes sig for new.
func freshProgress(id string, sig *signalv1.Signal) *progress {
	pr := newProgress(nil)
	pr.fresh = sig
	pr.inc = incident.Incident{
		ID: id, SignalID: sig.GetId(), Fingerprint: sig.GetFingerprint(), Source: sig.GetSource(), Title: sig.GetTitle(),
		Resource: sig.GetResource(), Status: incident.StatusOpen, Severity: sig.GetSeverity(), Stage: incident.StageReceived,
		OccurrenceCount: 1,
	}
	return pr
}

func newProgress(trs []incident.Transition) *progress {
	pr := &progress{stored: make(map[incident.Stage]incident.Transition, len(trs)+5)}
	for _, tr := range trs {
		pr.stored[tr.Stage] = tr
	}
	return pr
}

// deferrable are the stages a run may keep in memory until the next stage
// is stored: answered without a model, they cost nothing to run again.
var deferrable = map[incident.Stage]bool{
	incident.StageClassify: true, incident.StageBranch: true, incident.StageConfidence: true, incident.StageAnswered: true,
}

// stage runs one stage, or, when an earlier delivery stored it, decodes its
// stored response into out without running it. run fills out and returns
// the transition to store; out is stored with it.
//
// A stage that got an answer from a model is stored (with any stages kept
// before it) before the next begins, so a crash never repeats a model call
// that was answered (one that timed out may be tried again). A stage
// answered without one is kept in memory and stored with the next stored
// stage, in the same transaction: every decision is stored together with
// the cheap stages that led to it, in one round trip, and a crash before
// that store reruns those stages, which gives the same answers.
func (p *Processor) stage(ctx context.Context, id string, done *progress, st incident.Stage, out proto.Message, run func(context.Context) (incident.StageUpdate, error)) error {
	if tr, ok := done.stored[st]; ok {
		return decodeResponse(tr, out)
	}
	if run == nil {
		return Permanent(fmt.Errorf("incident %s has no stored %s stage to resume from", id, st))
	}
	began := time.Now()
	u, err := run(ctx)
	if err != nil {
		return err
	}
	latency := time.Since(began)
	b, err := protojson.Marshal(out)
	if err != nil {
		return fmt.Errorf("encode %s response: %w", st, err)
	}
	u.Stage = st
	if u.Details == nil {
		u.Details = map[string]string{}
	}
	u.Details[incident.DetailResponse] = string(b)
	u.Details[incident.DetailLatencyMS] = strconv.FormatInt(latency.Milliseconds(), 10)
	done.pending = append(done.pending, u)
	if deferrable[st] && !askedModel(out) {
		return nil
	}
	return p.flush(ctx, id, done)
}

// flush stores the stages a run kept in memory, in one transaction, and
// publishes them. When another delivery stored one of them first, nothing
// is stored and the entry is retried, to resume from what that delivery
// stored.
func (p *Processor) flush(ctx context.Context, id string, done *progress) error {
	if len(done.pending) == 0 && done.fresh == nil {
		return nil
	}
	var res []incident.Result
	if done.fresh != nil {
		t, err := tenant.Require(ctx)
		if err != nil {
			return err
		}
		o, err := p.fresh.Do(ctx, t, incident.Fresh{Signal: done.fresh, Stages: done.pending})
		if err == nil {
			err = o.err
		}
		if err != nil {
			return fmt.Errorf("store new incident %s with %d stage(s): %w", id, len(done.pending), err)
		}
		if !o.stored.New {
			return errStoredBefore
		}
		done.fresh, res = nil, o.stored.Results
	} else {
		var err error
		if res, err = p.store.AddStages(ctx, id, done.pending); err != nil {
			return fmt.Errorf("store %d stage(s) of incident %s: %w", len(done.pending), id, err)
		}
	}
	done.pending = nil
	for _, r := range res {
		done.stored[r.Transition.Stage] = r.Transition
	}
	if len(res) > 0 {
		done.inc = res[len(res)-1].Incident
	}
	return p.feed.Publish(ctx, res...)
}

// askedModel reports whether a stage's answer came from a model call.
func askedModel(out proto.Message) bool {
	switch m := out.(type) {
	case *reasoningv1.Classification:
		return m.GetModelCall() != nil
	case *reasoningv1.Diagnosis:
		return m.GetModelCall() != nil
	}
	return false
}

func decodeResponse(tr incident.Transition, out proto.Message) error {
	raw, ok := tr.Details[incident.DetailResponse]
	if !ok {
		return Permanent(fmt.Errorf("stored %s transition of incident %s has no response to resume from", tr.Stage, tr.IncidentID))
	}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal([]byte(raw), out); err != nil {
		return Permanent(fmt.Errorf("decode stored %s response of incident %s: %w", tr.Stage, tr.IncidentID, err))
	}
	return nil
}

// GiveUp hands a new signal's incident to a person when the consumer gives
// up on its entry (the action plane stayed unreachable past every retry,
// say): unless the incident already executed, clarified or escalated, it
// escalates, with the cause as the reason, routed and queued as any
// escalation. Nothing else happens for other events, or when the incident
// cannot be read; the entry's dead letter still records the cause.
func (p *Processor) GiveUp(ctx context.Context, e Entry, cause error) {
	ev, err := decodeEvent(e)
	if err != nil || ev.GetKind() != signalv1.EventKind_EVENT_KIND_OPENED || ev.GetSignalId() == "" {
		return
	}
	if pt := ev.GetSignal().GetTenantId(); pt != "" && pt != string(e.Tenant) {
		return
	}
	ctx = tenant.WithIdentity(ctx, tenant.Identity{Tenant: e.Tenant, Subject: SystemSubject})
	log := p.log.With(zap.String("tenant_id", string(e.Tenant)), zap.String("entry_id", e.ID), zap.String("signal_id", ev.GetSignalId()))
	id := incident.IDFor(e.Tenant, ev.GetSignalId())
	inc, trs, err := p.store.Get(ctx, id)
	if errors.Is(err, incident.ErrNotFound) {
		// A first delivery keeps its signal in memory until its first
		// stages are stored; one that failed before that left nothing, and
		// the person still gets the alert.
		if sig, serr := openedSignal(e.Tenant, ev); serr == nil {
			op, oerr := p.store.Open(ctx, sig)
			if err = oerr; err == nil {
				inc, trs = op.Incident, op.Transitions
				res := make([]incident.Result, len(trs))
				for i, tr := range trs {
					res[i] = incident.Result{Incident: inc, Transition: tr, New: true}
				}
				if perr := p.feed.Publish(ctx, res...); perr != nil {
					log.Warn("publishing the received transition of an incident given up on failed", zap.Error(perr))
				}
			}
		}
	}
	if err != nil {
		log.Warn("giving up on an entry whose incident cannot be read; it is only dead-lettered", zap.Error(err))
		return
	}
	done := newProgress(trs)
	done.inc = inc
	for _, st := range []incident.Stage{incident.StageExecute, incident.StageClarify, incident.StageEscalate} {
		if _, ok := done.stored[st]; ok {
			return
		}
	}
	// What was stored of the diagnosis goes with the escalation; a stage
	// that never finished leaves its part empty.
	cls, diag := &reasoningv1.Classification{}, &reasoningv1.Diagnosis{}
	if tr, ok := done.stored[incident.StageClassify]; ok {
		_ = decodeResponse(tr, cls)
	}
	if tr, ok := done.stored[incident.StageBranch]; ok {
		_ = decodeResponse(tr, diag)
	}
	check := &reasoningv1.CheckConfidenceResponse{
		Decision: reasoningv1.Decision_DECISION_ESCALATE,
		Reason:   truncate("the pipeline gave up on this incident ("+cause.Error()+"); a person takes over", 1000),
	}
	sig := &signalv1.Signal{Id: inc.SignalID, Title: inc.Title, Resource: inc.Resource}
	if err := p.decide(ctx, id, inc, sig, cls, diag, check, done); err != nil {
		log.Warn("could not escalate an incident the pipeline gave up on", zap.Error(err))
		return
	}
	log.Warn("pipeline gave up; incident escalated", zap.String("incident_id", id), zap.String("cause", cause.Error()))
}

// repeated counts one more occurrence of a signal for the stream entry
// entryID, once however often the entry is delivered. A signal not stored
// yet is an ordinary error: its OPENED event is still on its way (through
// another replica), so the entry is retried.
func (p *Processor) repeated(ctx context.Context, ev *signalv1.SignalEvent, entryID string) error {
	if ev.GetSignalId() == "" {
		return Permanent(errors.New("repeated event without signal_id"))
	}
	seen := time.Now()
	if ev.GetSignal().GetReceivedAt().IsValid() {
		seen = ev.GetSignal().GetReceivedAt().AsTime()
	}
	res, err := p.store.Repeat(ctx, ev.GetSignalId(), entryID, seen)
	if err != nil {
		return fmt.Errorf("count repeat: %w", err)
	}
	if !res.New {
		return nil
	}
	return p.feed.Publish(ctx, res)
}

// resolved resolves the signal named by the event, or the open signals with
// its fingerprint when the event names none (ingest's claim had expired).
func (p *Processor) resolved(ctx context.Context, ev *signalv1.SignalEvent) error {
	fp := ev.GetSignal().GetFingerprint()
	if ev.GetSignalId() == "" && fp == "" {
		return Permanent(errors.New("resolved event names neither a signal nor a fingerprint"))
	}
	at := time.Now()
	switch s := ev.GetSignal(); {
	case s.GetEndsAt().IsValid():
		at = s.GetEndsAt().AsTime()
	case s.GetReceivedAt().IsValid():
		at = s.GetReceivedAt().AsTime()
	}
	results, err := p.store.Resolve(ctx, ev.GetSignalId(), fp, at)
	if err != nil {
		return fmt.Errorf("resolve: %w", err)
	}
	for _, r := range results {
		if err := p.feed.Publish(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// withPath adds to details how a reasoning stage produced its answer: the
// path, why it fell back to the heuristic, and what the model call cost.
func withPath(details map[string]string, path reasoningv1.Path, fallback string, call *reasoningv1.ModelCall) map[string]string {
	details["path"] = incident.EnumText(path.String(), "PATH_")
	if fallback != "" {
		details["fallback_reason"] = truncate(fallback, 500)
	}
	if call != nil {
		details["model"] = truncate(call.GetModel(), 200)
		details["prompt_tokens"] = strconv.Itoa(int(call.GetPromptTokens()))
		details["completion_tokens"] = strconv.Itoa(int(call.GetCompletionTokens()))
		details["model_attempts"] = strconv.Itoa(int(call.GetAttempts()))
		details["model_latency_ms"] = strconv.FormatInt(call.GetLatencyMs(), 10)
	}
	return details
}

// thresholdRule names the threshold rule a decision applied, e.g.
// "tenant rule critical/webhook", "tenant rule any/any" or "defaults".
func thresholdRule(th *reasoningv1.Thresholds) string {
	if !th.GetTenantRule() {
		return "defaults"
	}
	sev := "any"
	if th.GetSeverity() != 0 {
		sev = incident.SeverityText(th.GetSeverity())
	}
	return "tenant rule " + sev + "/" + cmp.Or(th.GetActionKind(), "any")
}

func branchText(b reasoningv1.Branch) string { return incident.EnumText(b.String(), "BRANCH_") }

func formatConf(c float64) string { return strconv.FormatFloat(c, 'f', 2, 64) }

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string { return textlimit.Truncate(s, n) }
