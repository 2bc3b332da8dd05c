package pipeline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"go.uber.org/zap"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	actionsv1 "github.com/alexus-platform/alexus/gen/alexus/actions/v1"
	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/orchestrator/incident"
)

// SystemSubject is the subject of the identity the pipeline acts under, so
// downstream planes and the audit log can tell its calls from a person's.
const SystemSubject = "system:orchestrator"

// EventField is the stream entry field holding the SignalEvent.
const EventField = "event"

// Processor is the stage machine: it turns one signal-stream entry into
// stored, published incident transitions.
type Processor struct {
	store     *incident.Store
	feed      *incident.Feed
	reasoning reasoningv1.ReasoningServiceClient
	actions   actionsv1.ActionServiceClient
	log       *zap.Logger
}

// NewProcessor returns a Processor.
func NewProcessor(store *incident.Store, feed *incident.Feed, reasoning reasoningv1.ReasoningServiceClient, actions actionsv1.ActionServiceClient, log *zap.Logger) *Processor {
	return &Processor{store: store, feed: feed, reasoning: reasoning, actions: actions, log: log}
}

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
		return p.opened(ctx, log, ev)
	case signalv1.EventKind_EVENT_KIND_REPEATED:
		return p.repeated(ctx, ev, e.ID)
	case signalv1.EventKind_EVENT_KIND_RESOLVED:
		return p.resolved(ctx, ev)
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
// the next starts; a stage found already stored (an earlier delivery got
// that far) is not run again, and its stored response feeds the next stage.
func (p *Processor) opened(ctx context.Context, log *zap.Logger, ev *signalv1.SignalEvent) error {
	t, err := tenant.Require(ctx)
	if err != nil {
		return err
	}
	if _, err := uuid.Parse(ev.GetSignalId()); err != nil {
		return Permanent(fmt.Errorf("opened event has signal_id %q, not a UUID", ev.GetSignalId()))
	}
	if ev.GetSignal() == nil {
		return Permanent(errors.New("opened event carries no signal"))
	}
	sig := proto.CloneOf(ev.GetSignal())
	if sig.GetId() != "" && sig.GetId() != ev.GetSignalId() {
		return Permanent(fmt.Errorf("opened event's signal id %q differs from its signal_id %q", sig.GetId(), ev.GetSignalId()))
	}
	sig.Id, sig.TenantId = ev.GetSignalId(), string(t)

	op, err := p.store.Open(ctx, sig)
	if err != nil {
		return fmt.Errorf("open incident: %w", err)
	}
	id := op.Incident.ID
	log = log.With(zap.String("incident_id", id))
	done := make(map[incident.Stage]incident.Transition, len(op.Transitions))
	for _, tr := range op.Transitions {
		done[tr.Stage] = tr
		// Transitions stored by an earlier delivery are published again, as
		// that delivery may have stopped before publishing them; watchers
		// drop repeats by incident ID and sequence.
		if err := p.feed.Publish(ctx, incident.Result{Incident: op.Incident, Transition: tr}); err != nil {
			return err
		}
	}

	cls := &reasoningv1.Classification{}
	err = p.stage(ctx, id, done, incident.StageClassify, cls, func(ctx context.Context) (incident.StageUpdate, error) {
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
		if _, ok := done[st]; ok {
			return nil
		}
	}
	if err := p.decide(ctx, id, op.Incident, sig, cls, diag, check, done); err != nil {
		return err
	}
	log.Info("incident decided", zap.String("decision", incident.DecisionText(check.GetDecision())))
	return nil
}

// webhookTarget is the shape of a target name the action plane accepts.
var webhookTarget = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// decide runs the decision's stage: execute hands the recommended action to
// the action plane under a key derived from the incident, so a retried
// execute performs the action once; clarify and escalate record why.
func (p *Processor) decide(ctx context.Context, id string, inc incident.Incident, sig *signalv1.Signal, cls *reasoningv1.Classification, diag *reasoningv1.Diagnosis, check *reasoningv1.CheckConfidenceResponse, done map[incident.Stage]incident.Transition) error {
	reason := check.GetReason()
	stage := incident.StageEscalate
	switch check.GetDecision() {
	case reasoningv1.Decision_DECISION_EXECUTE:
		a := diag.GetRecommendedAction()
		switch {
		case a == nil:
			reason = "execute was decided but the diagnosis recommends no action"
		case a.GetKind() != "webhook":
			reason = fmt.Sprintf("execute was decided but action kind %q is not supported", a.GetKind())
		case !webhookTarget.MatchString(a.GetTarget()):
			reason = fmt.Sprintf("execute was decided but webhook target %q is not a valid target name", a.GetTarget())
		default:
			return p.execute(ctx, id, inc, sig, cls, diag, check, done)
		}
	case reasoningv1.Decision_DECISION_CLARIFY:
		stage = incident.StageClarify
	}
	resp := &reasoningv1.CheckConfidenceResponse{Decision: check.GetDecision(), Reason: reason}
	return p.stage(ctx, id, done, stage, resp, func(context.Context) (incident.StageUpdate, error) {
		return incident.StageUpdate{
			Summary: truncate(string(stage)+": "+reason, 300),
			Details: map[string]string{"reason": reason},
		}, nil
	})
}

func (p *Processor) execute(ctx context.Context, id string, inc incident.Incident, sig *signalv1.Signal, cls *reasoningv1.Classification, diag *reasoningv1.Diagnosis, check *reasoningv1.CheckConfidenceResponse, done map[incident.Stage]incident.Transition) error {
	a := diag.GetRecommendedAction()
	key := "incident/" + id + "/execute"
	action := &actionsv1.Action{}
	return p.stage(ctx, id, done, incident.StageExecute, action, func(ctx context.Context) (incident.StageUpdate, error) {
		resp, err := p.actions.ExecuteAction(ctx, &actionsv1.ExecuteActionRequest{
			IdempotencyKey: key,
			IncidentId:     id,
			Kind:           actionsv1.ActionKind_ACTION_KIND_WEBHOOK,
			Reason:         truncate(cmp.Or(a.GetSummary(), check.GetReason()), 1000),
			Params: &actionsv1.ExecuteActionRequest_Webhook{Webhook: &actionsv1.WebhookParams{
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
			}},
		})
		if err != nil {
			return incident.StageUpdate{}, fmt.Errorf("execute action: %w", err)
		}
		proto.Merge(action, resp.GetAction())
		status := incident.EnumText(action.GetStatus().String(), "ACTION_STATUS_")
		return incident.StageUpdate{
			Summary: fmt.Sprintf("handed a %s action to %q to the action plane (%s)", a.GetKind(), a.GetTarget(), status),
			Details: map[string]string{
				"action_id":       action.GetId(),
				"action_status":   status,
				"idempotency_key": key,
				"target":          a.GetTarget(),
				"replayed":        strconv.FormatBool(resp.GetReplayed()),
			},
		}, nil
	})
}

// stage stores and publishes one stage, or, when an earlier delivery stored
// it, decodes its stored response into out without running it. run fills
// out and returns the transition to store; out is stored with it.
func (p *Processor) stage(ctx context.Context, id string, done map[incident.Stage]incident.Transition, st incident.Stage, out proto.Message, run func(context.Context) (incident.StageUpdate, error)) error {
	if tr, ok := done[st]; ok {
		return decodeResponse(tr, out)
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
	res, err := p.store.AddStage(ctx, id, u)
	if err != nil {
		return fmt.Errorf("store %s of incident %s: %w", st, id, err)
	}
	done[st] = res.Transition
	if !res.New {
		// Another delivery stored this stage first; carry on from its
		// result so both agree on what happened.
		proto.Reset(out)
		return decodeResponse(res.Transition, out)
	}
	return p.feed.Publish(ctx, res)
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
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
