package reasoning

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/internal/llm"
	"github.com/alexus-platform/alexus/internal/rpc"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/orchestrator/reasoning/thresholds"
)

// ThresholdRules are the tenants' confidence thresholds; thresholds.Store
// implements them over Postgres.
type ThresholdRules interface {
	Resolve(ctx context.Context, sev signalv1.Severity, kind string) (*reasoningv1.Thresholds, error)
	Set(ctx context.Context, r *reasoningv1.ThresholdRule) (*reasoningv1.ThresholdRule, error)
	List(ctx context.Context) ([]*reasoningv1.ThresholdRule, error)
	Delete(ctx context.Context, sev signalv1.Severity, kind string) (bool, error)
	Defaults() *reasoningv1.Thresholds
}

// Options are what a Handler reasons with. Only Rules is required; without
// a Model every stage takes its heuristic path, and without Knowledge CMDB
// questions are not answered from the graph.
type Options struct {
	// Rules are the tenants' thresholds, with the plane's defaults.
	Rules ThresholdRules
	// Model is the language model of the model path; nil for none.
	Model *llm.Client
	// Knowledge is the tenants' knowledge graph.
	Knowledge Knowledge
	// Catalogue lists the actions a diagnosis may recommend; required with
	// a Model.
	Catalogue Catalogue
	// Settings are the tenants' own model settings, applied to their model
	// calls and served by Get/SetModelSettings; nil for none (every tenant
	// on the Model's settings).
	Settings ModelSettings
	// StageBudget bounds a stage's whole use of the model, retries
	// included, after which the stage falls back (default 8s).
	StageBudget time.Duration
	// Log receives a line for every fallback; nil discards them.
	Log *zap.Logger
}

// Handler serves alexus.reasoning.v1.ReasoningService: each stage on the
// model path when a model is configured and its answer holds up, else on
// the heuristic path, saying which and why.
type Handler struct {
	reasoningv1.UnimplementedReasoningServiceServer
	o   Options
	log *zap.Logger
}

// NewHandler returns a Handler.
func NewHandler(o Options) (*Handler, error) {
	switch {
	case o.Rules == nil:
		return nil, errors.New("reasoning: threshold rules are required")
	case o.Model != nil && o.Catalogue == nil:
		return nil, errors.New("reasoning: a model needs an action catalogue")
	}
	log := o.Log
	if log == nil {
		log = zap.NewNop()
	}
	if o.StageBudget <= 0 {
		o.StageBudget = 8 * time.Second
	}
	return &Handler{o: o, log: log}, nil
}

// ClassifyIncident implements ReasoningService.
func (h *Handler) ClassifyIncident(ctx context.Context, req *reasoningv1.ClassifyIncidentRequest) (*reasoningv1.ClassifyIncidentResponse, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return nil, err
	}
	sig := req.GetSignal()
	if sig == nil {
		return nil, status.Error(codes.InvalidArgument, "signal is required")
	}
	if h.o.Model == nil {
		c := ClassificationToProto(Classify(SignalFromProto(sig)))
		c.FallbackReason = NoModel
		return &reasoningv1.ClassifyIncidentResponse{Classification: c}, nil
	}
	mctx, cancel := context.WithTimeout(ctx, h.o.StageBudget)
	defer cancel()
	var (
		c    *reasoningv1.Classification
		call *reasoningv1.ModelCall
	)
	o, err := h.tenantOverrides(mctx)
	if err == nil {
		c, call, err = classifyWithModel(mctx, h.o.Model, o, sig)
	}
	if err != nil {
		c = ClassificationToProto(Classify(SignalFromProto(sig)))
		c.FallbackReason, c.ModelCall = h.fellBack(t, "classify", err), call
	}
	return &reasoningv1.ClassifyIncidentResponse{Classification: c}, nil
}

// Diagnose implements ReasoningService. Incidents go to the incident agent
// (retrieval, then the model, grounded), CMDB questions to the CMDB agent
// (graph traversal, the model only wording the answer); noise and change
// notices are diagnosed by the heuristic alone, as there is nothing to act
// on.
func (h *Handler) Diagnose(ctx context.Context, req *reasoningv1.DiagnoseRequest) (*reasoningv1.DiagnoseResponse, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return nil, err
	}
	sig, cls := req.GetSignal(), req.GetClassification()
	if sig == nil || cls == nil {
		return nil, status.Error(codes.InvalidArgument, "signal and classification are required")
	}
	heuristic := func(reason string) *reasoningv1.DiagnoseResponse {
		d := DiagnosisToProto(Diagnose(SignalFromProto(sig), ClassificationFromProto(cls)))
		d.FallbackReason = reason
		return &reasoningv1.DiagnoseResponse{Diagnosis: d}
	}
	switch cls.GetIntent() {
	case reasoningv1.Intent_INTENT_CMDB_QUESTION:
		return h.answer(ctx, t, sig, cls, heuristic)
	case reasoningv1.Intent_INTENT_INCIDENT:
	default:
		return heuristic("noise and change notices are diagnosed without a model"), nil
	}
	if h.o.Model == nil {
		return heuristic(NoModel), nil
	}
	ctx, cancel := context.WithTimeout(ctx, h.o.StageBudget)
	defer cancel()
	docs := []document{{ID: signalDocID(sig), Kind: "signal", Title: clipText(sig.GetTitle()), Why: "the alert itself"}}
	if h.o.Knowledge != nil {
		if docs, err = retrieve(ctx, h.o.Knowledge, sig); err != nil {
			return heuristic(h.fellBack(t, "diagnose", fmt.Errorf("knowledge retrieval failed: %w", err))), nil
		}
	}
	catalogue, err := h.o.Catalogue.Actions(ctx)
	if err != nil {
		return heuristic(h.fellBack(t, "diagnose", err)), nil
	}
	o, err := h.tenantOverrides(ctx)
	if err != nil {
		return heuristic(h.fellBack(t, "diagnose", err)), nil
	}
	d, call, err := diagnoseWithModel(ctx, h.o.Model, o, sig, docs, catalogue)
	if err != nil {
		resp := heuristic(h.fellBack(t, "diagnose", err))
		resp.Diagnosis.ModelCall = call
		return resp, nil
	}
	return &reasoningv1.DiagnoseResponse{Diagnosis: d}, nil
}

// answer is the CMDB branch: the graph's facts, worded by the model when
// there is one.
func (h *Handler) answer(ctx context.Context, t tenant.ID, sig *signalv1.Signal, cls *reasoningv1.Classification, heuristic func(string) *reasoningv1.DiagnoseResponse) (*reasoningv1.DiagnoseResponse, error) {
	if h.o.Knowledge == nil {
		return heuristic("no knowledge graph is configured"), nil
	}
	d, facts, err := answerCMDB(ctx, h.o.Knowledge, sig, cls)
	if err != nil {
		return heuristic(h.fellBack(t, "diagnose", fmt.Errorf("the configuration graph could not be read: %w", err))), nil
	}
	switch {
	case h.o.Model == nil:
		d.FallbackReason = NoModel
	case len(facts) == 0:
		d.FallbackReason = "the graph found no facts to word"
	default:
		mctx, cancel := context.WithTimeout(ctx, h.o.StageBudget)
		defer cancel()
		o, err := h.tenantOverrides(mctx)
		if err != nil {
			d.FallbackReason = h.fellBack(t, "diagnose", err)
			break
		}
		answer, call, err := phraseWithModel(mctx, h.o.Model, o, cmpOr(sig.GetDescription(), sig.GetTitle()), facts)
		d.ModelCall = call
		if err != nil {
			d.FallbackReason = h.fellBack(t, "diagnose", err)
			break
		}
		d.Answer, d.Path = answer, reasoningv1.Path_PATH_MODEL
	}
	return &reasoningv1.DiagnoseResponse{Diagnosis: d}, nil
}

// fellBack logs why a stage left the model path and returns the reason.
func (h *Handler) fellBack(t tenant.ID, stage string, err error) string {
	reason := fallbackReason(err)
	h.log.Info("reasoning fell back to the heuristic", zap.String("tenant_id", string(t)), zap.String("stage", stage), zap.String("reason", reason))
	return reason
}

// CheckConfidence implements ReasoningService: the tenant's most specific
// threshold rule for the classification's severity and the recommended
// action's kind applies.
func (h *Handler) CheckConfidence(ctx context.Context, req *reasoningv1.CheckConfidenceRequest) (*reasoningv1.CheckConfidenceResponse, error) {
	if _, err := tenant.Require(ctx); err != nil {
		return nil, err
	}
	cls, diag := req.GetClassification(), req.GetDiagnosis()
	if cls == nil || diag == nil {
		return nil, status.Error(codes.InvalidArgument, "classification and diagnosis are required")
	}
	th, err := h.o.Rules.Resolve(ctx, cls.GetSeverity(), diag.GetRecommendedAction().GetKind())
	if err != nil {
		return nil, rpc.StatusOf(ctx, h.log, "read confidence thresholds", err)
	}
	c, dg, limits := ClassificationFromProto(cls), DiagnosisFromProto(diag), Thresholds{ExecuteAt: th.GetExecuteAt(), ClarifyAt: th.GetClarifyAt()}
	d := Decide(c, dg, limits)
	if a := strings.TrimSpace(req.GetClarification()); a != "" {
		d = DecideAnswered(c, dg, a, limits)
	}
	return &reasoningv1.CheckConfidenceResponse{Decision: d.Decision, Confidence: d.Confidence, Thresholds: th, Reason: d.Reason}, nil
}

// SetThresholdRule implements ReasoningService.
func (h *Handler) SetThresholdRule(ctx context.Context, req *reasoningv1.SetThresholdRuleRequest) (*reasoningv1.SetThresholdRuleResponse, error) {
	if _, err := tenant.Require(ctx); err != nil {
		return nil, err
	}
	if req.GetRule() == nil {
		return nil, status.Error(codes.InvalidArgument, "rule is required")
	}
	r, err := h.o.Rules.Set(ctx, req.GetRule())
	if err != nil {
		return nil, h.ruleStatus(ctx, "set threshold rule", err)
	}
	return &reasoningv1.SetThresholdRuleResponse{Rule: r}, nil
}

// ListThresholdRules implements ReasoningService.
func (h *Handler) ListThresholdRules(ctx context.Context, _ *reasoningv1.ListThresholdRulesRequest) (*reasoningv1.ListThresholdRulesResponse, error) {
	if _, err := tenant.Require(ctx); err != nil {
		return nil, err
	}
	rules, err := h.o.Rules.List(ctx)
	if err != nil {
		return nil, h.ruleStatus(ctx, "list threshold rules", err)
	}
	return &reasoningv1.ListThresholdRulesResponse{Rules: rules, Defaults: h.o.Rules.Defaults()}, nil
}

// DeleteThresholdRule implements ReasoningService.
func (h *Handler) DeleteThresholdRule(ctx context.Context, req *reasoningv1.DeleteThresholdRuleRequest) (*reasoningv1.DeleteThresholdRuleResponse, error) {
	if _, err := tenant.Require(ctx); err != nil {
		return nil, err
	}
	ok, err := h.o.Rules.Delete(ctx, req.GetSeverity(), req.GetActionKind())
	if err != nil {
		return nil, h.ruleStatus(ctx, "delete threshold rule", err)
	}
	return &reasoningv1.DeleteThresholdRuleResponse{Deleted: ok}, nil
}

func (h *Handler) ruleStatus(ctx context.Context, op string, err error) error {
	if errors.Is(err, thresholds.ErrInvalid) {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	return rpc.StatusOf(ctx, h.log, op, err)
}

// SignalFromProto returns what the heuristics read of s.
func SignalFromProto(s *signalv1.Signal) Signal {
	return Signal{
		Firing:      s.GetStatus() == signalv1.Status_STATUS_FIRING || s.GetStatus() == signalv1.Status_STATUS_UNSPECIFIED,
		Severity:    s.GetSeverity(),
		Title:       s.GetTitle(),
		Description: s.GetDescription(),
		Resource:    s.GetResource(),
		Labels:      s.GetLabels(),
		Annotations: s.GetAnnotations(),
		Link:        s.GetLink(),
	}
}

// ClassificationToProto converts c, marking it as produced by the heuristics.
func ClassificationToProto(c Classification) *reasoningv1.Classification {
	return &reasoningv1.Classification{
		Intent:     c.Intent,
		Severity:   c.Severity,
		Confidence: c.Confidence,
		Rationale:  c.Rationale,
		Path:       reasoningv1.Path_PATH_HEURISTIC,
	}
}

// ClassificationFromProto converts c.
func ClassificationFromProto(c *reasoningv1.Classification) Classification {
	return Classification{
		Intent:     c.GetIntent(),
		Severity:   c.GetSeverity(),
		Confidence: c.GetConfidence(),
		Rationale:  c.GetRationale(),
	}
}

// DiagnosisToProto converts d, marking it as produced by the heuristics.
func DiagnosisToProto(d Diagnosis) *reasoningv1.Diagnosis {
	out := &reasoningv1.Diagnosis{
		Branch:        d.Branch,
		ProbableCause: d.ProbableCause,
		Confidence:    d.Confidence,
		Answer:        d.Answer,
		Runbook:       d.Runbook,
		Path:          reasoningv1.Path_PATH_HEURISTIC,
	}
	for _, e := range d.Evidence {
		out.Evidence = append(out.Evidence, &reasoningv1.Evidence{Summary: e})
	}
	if d.Action != nil {
		out.RecommendedAction = &reasoningv1.RecommendedAction{Kind: d.Action.Kind, Target: d.Action.Target, Summary: d.Action.Summary}
	}
	return out
}

// DiagnosisFromProto converts d.
func DiagnosisFromProto(d *reasoningv1.Diagnosis) Diagnosis {
	out := Diagnosis{
		Branch:        d.GetBranch(),
		ProbableCause: d.GetProbableCause(),
		Confidence:    d.GetConfidence(),
		Answer:        d.GetAnswer(),
		Runbook:       d.GetRunbook(),
	}
	for _, e := range d.GetEvidence() {
		out.Evidence = append(out.Evidence, e.GetSummary())
	}
	if a := d.GetRecommendedAction(); a != nil {
		out.Action = &Action{Kind: a.GetKind(), Target: a.GetTarget(), Summary: a.GetSummary()}
	}
	return out
}

// FixedThresholds are ThresholdRules without tenant rules: the same
// thresholds apply to every signal and no rule can be stored. They serve
// evaluation runs and tests that have no database.
type FixedThresholds Thresholds

// Resolve implements ThresholdRules.
func (f FixedThresholds) Resolve(context.Context, signalv1.Severity, string) (*reasoningv1.Thresholds, error) {
	return f.Defaults(), nil
}

// Set implements ThresholdRules; it always fails.
func (f FixedThresholds) Set(context.Context, *reasoningv1.ThresholdRule) (*reasoningv1.ThresholdRule, error) {
	return nil, errFixed
}

// List implements ThresholdRules: there are no rules.
func (f FixedThresholds) List(context.Context) ([]*reasoningv1.ThresholdRule, error) { return nil, nil }

// Delete implements ThresholdRules: there is nothing to delete.
func (f FixedThresholds) Delete(context.Context, signalv1.Severity, string) (bool, error) {
	return false, nil
}

// Defaults implements ThresholdRules.
func (f FixedThresholds) Defaults() *reasoningv1.Thresholds {
	return &reasoningv1.Thresholds{ExecuteAt: f.ExecuteAt, ClarifyAt: f.ClarifyAt}
}

var errFixed = status.Error(codes.FailedPrecondition, "this reasoning handler has fixed thresholds; tenant rules cannot be stored")
