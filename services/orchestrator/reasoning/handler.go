package reasoning

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// Handler serves alexus.reasoning.v1.ReasoningService with the heuristics.
type Handler struct {
	reasoningv1.UnimplementedReasoningServiceServer
	thresholds Thresholds
}

// NewHandler returns a Handler deciding against th. Per-tenant thresholds
// replace th when tenant settings exist.
func NewHandler(th Thresholds) *Handler {
	return &Handler{thresholds: th}
}

// ClassifyIncident implements ReasoningService.
func (h *Handler) ClassifyIncident(ctx context.Context, req *reasoningv1.ClassifyIncidentRequest) (*reasoningv1.ClassifyIncidentResponse, error) {
	if _, err := tenant.Require(ctx); err != nil {
		return nil, err
	}
	if req.GetSignal() == nil {
		return nil, status.Error(codes.InvalidArgument, "signal is required")
	}
	c := Classify(SignalFromProto(req.GetSignal()))
	return &reasoningv1.ClassifyIncidentResponse{Classification: ClassificationToProto(c)}, nil
}

// Diagnose implements ReasoningService.
func (h *Handler) Diagnose(ctx context.Context, req *reasoningv1.DiagnoseRequest) (*reasoningv1.DiagnoseResponse, error) {
	if _, err := tenant.Require(ctx); err != nil {
		return nil, err
	}
	if req.GetSignal() == nil || req.GetClassification() == nil {
		return nil, status.Error(codes.InvalidArgument, "signal and classification are required")
	}
	d := Diagnose(SignalFromProto(req.GetSignal()), ClassificationFromProto(req.GetClassification()))
	return &reasoningv1.DiagnoseResponse{Diagnosis: DiagnosisToProto(d)}, nil
}

// CheckConfidence implements ReasoningService.
func (h *Handler) CheckConfidence(ctx context.Context, req *reasoningv1.CheckConfidenceRequest) (*reasoningv1.CheckConfidenceResponse, error) {
	if _, err := tenant.Require(ctx); err != nil {
		return nil, err
	}
	if req.GetClassification() == nil || req.GetDiagnosis() == nil {
		return nil, status.Error(codes.InvalidArgument, "classification and diagnosis are required")
	}
	d := Decide(ClassificationFromProto(req.GetClassification()), DiagnosisFromProto(req.GetDiagnosis()), h.thresholds)
	return &reasoningv1.CheckConfidenceResponse{
		Decision:   d.Decision,
		Confidence: d.Confidence,
		Thresholds: &reasoningv1.Thresholds{ExecuteAt: d.Thresholds.ExecuteAt, ClarifyAt: d.Thresholds.ClarifyAt},
		Reason:     d.Reason,
	}, nil
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
	}
	for _, e := range d.GetEvidence() {
		out.Evidence = append(out.Evidence, e.GetSummary())
	}
	if a := d.GetRecommendedAction(); a != nil {
		out.Action = &Action{Kind: a.GetKind(), Target: a.GetTarget(), Summary: a.GetSummary()}
	}
	return out
}
