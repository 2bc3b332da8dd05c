package reasoning

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
)

// InProcess calls a Handler's stages directly, for a pipeline running in
// the same process as its ReasoningService: it saves the loopback gRPC
// round trip, marshalling and interceptors of every stage. The context
// must carry the verified tenant, as the interceptors would have put it.
// Call options are ignored; a panic becomes an INTERNAL error, as the
// server's recovery interceptor would make it.
type InProcess struct{ H *Handler }

// ClassifyIncident calls the handler's ClassifyIncident.
func (p InProcess) ClassifyIncident(ctx context.Context, in *reasoningv1.ClassifyIncidentRequest, _ ...grpc.CallOption) (resp *reasoningv1.ClassifyIncidentResponse, err error) {
	defer recoverStage("classify", &err)
	return p.H.ClassifyIncident(ctx, in)
}

// Diagnose calls the handler's Diagnose.
func (p InProcess) Diagnose(ctx context.Context, in *reasoningv1.DiagnoseRequest, _ ...grpc.CallOption) (resp *reasoningv1.DiagnoseResponse, err error) {
	defer recoverStage("diagnose", &err)
	return p.H.Diagnose(ctx, in)
}

// CheckConfidence calls the handler's CheckConfidence.
func (p InProcess) CheckConfidence(ctx context.Context, in *reasoningv1.CheckConfidenceRequest, _ ...grpc.CallOption) (resp *reasoningv1.CheckConfidenceResponse, err error) {
	defer recoverStage("check confidence", &err)
	return p.H.CheckConfidence(ctx, in)
}

// recoverStage turns a panic in a stage into an INTERNAL error, as the
// gRPC server's recovery interceptor would: a bug in one signal's reasoning
// fails that entry (retried, then dead-lettered), not the replica.
func recoverStage(stage string, err *error) {
	if r := recover(); r != nil {
		*err = status.Errorf(codes.Internal, "%s panicked: %v", stage, r)
	}
}
