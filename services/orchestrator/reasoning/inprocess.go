package reasoning

import (
	"context"

	"google.golang.org/grpc"

	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
)

// InProcess calls a Handler's stages directly, for a pipeline running in
// the same process as its ReasoningService: it saves the loopback gRPC
// round trip, marshalling and interceptors of every stage. The context
// must carry the verified tenant, as the interceptors would have put it.
// Call options are ignored.
type InProcess struct{ H *Handler }

// ClassifyIncident calls the handler's ClassifyIncident.
func (p InProcess) ClassifyIncident(ctx context.Context, in *reasoningv1.ClassifyIncidentRequest, _ ...grpc.CallOption) (*reasoningv1.ClassifyIncidentResponse, error) {
	return p.H.ClassifyIncident(ctx, in)
}

// Diagnose calls the handler's Diagnose.
func (p InProcess) Diagnose(ctx context.Context, in *reasoningv1.DiagnoseRequest, _ ...grpc.CallOption) (*reasoningv1.DiagnoseResponse, error) {
	return p.H.Diagnose(ctx, in)
}

// CheckConfidence calls the handler's CheckConfidence.
func (p InProcess) CheckConfidence(ctx context.Context, in *reasoningv1.CheckConfidenceRequest, _ ...grpc.CallOption) (*reasoningv1.CheckConfidenceResponse, error) {
	return p.H.CheckConfidence(ctx, in)
}
