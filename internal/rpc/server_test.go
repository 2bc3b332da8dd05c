package rpc_test

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/internal/rpc"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// echoReasoning answers ClassifyIncident with the caller's tenant, and
// panics on Diagnose, to exercise the chain.
type echoReasoning struct {
	reasoningv1.UnimplementedReasoningServiceServer
}

func (echoReasoning) ClassifyIncident(ctx context.Context, _ *reasoningv1.ClassifyIncidentRequest) (*reasoningv1.ClassifyIncidentResponse, error) {
	id, err := tenant.Require(ctx)
	if err != nil {
		return nil, err
	}
	return &reasoningv1.ClassifyIncidentResponse{Classification: &reasoningv1.Classification{Rationale: string(id)}}, nil
}

func (echoReasoning) Diagnose(context.Context, *reasoningv1.DiagnoseRequest) (*reasoningv1.DiagnoseResponse, error) {
	panic("boom")
}

type bundle struct {
	logs   *observer.ObservedLogs
	client reasoningv1.ReasoningServiceClient
	raw    *grpc.ClientConn
}

func setup(t *testing.T) *bundle {
	t.Helper()
	secret := []byte(strings.Repeat("k", 32))
	verifier, err := tenant.NewVerifier(secret)
	require.NoError(t, err)
	signer, err := tenant.NewSigner(secret, 0)
	require.NoError(t, err)
	core, logs := observer.New(zap.DebugLevel)
	srv, hs, err := rpc.NewServer(zap.New(core), verifier)
	require.NoError(t, err)
	reasoningv1.RegisterReasoningServiceServer(srv, echoReasoning{})
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rpc.Serve(ctx, srv, lis) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	cc, err := rpc.Dial(lis.Addr().String(), signer)
	require.NoError(t, err)
	t.Cleanup(func() { cc.Close() })
	raw, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { raw.Close() })
	return &bundle{logs: logs, client: reasoningv1.NewReasoningServiceClient(cc), raw: raw}
}

func as(t tenant.ID) context.Context {
	return tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: t, Subject: "test"})
}

var validReq = &reasoningv1.ClassifyIncidentRequest{Signal: &signalv1.Signal{Title: "x"}}

func TestChainPutsVerifiedTenantInContextAndLogs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	res, err := b.client.ClassifyIncident(as("acme"), validReq)
	require.NoError(t, err)
	require.Equal(t, "acme", res.GetClassification().GetRationale())

	lines := b.logs.FilterMessage("finished call").All()
	require.NotEmpty(t, lines)
	require.Equal(t, "acme", lines[len(lines)-1].ContextMap()["tenant_id"], "the call's log line names the tenant")
}

func TestChainRefusesBeforeValidatingAndLogsRefusal(t *testing.T) {
	t.Parallel()
	b := setup(t)
	raw := reasoningv1.NewReasoningServiceClient(b.raw)

	// No identity: refused before the (invalid) request is looked at.
	_, err := raw.ClassifyIncident(context.Background(), &reasoningv1.ClassifyIncidentRequest{})
	require.Equal(t, codes.Unauthenticated, status.Code(err))
	require.Equal(t, 1, b.logs.FilterMessage("call refused").Len())

	// With identity, the same invalid request fails validation.
	_, err = b.client.ClassifyIncident(as("acme"), &reasoningv1.ClassifyIncidentRequest{})
	require.Equal(t, codes.InvalidArgument, status.Code(err))

	// A client without an identity in its context refuses to send at all.
	_, err = b.client.ClassifyIncident(context.Background(), validReq)
	require.Equal(t, codes.Unauthenticated, status.Code(err))
}

func TestChainTurnsPanicIntoInternal(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.client.Diagnose(as("acme"), &reasoningv1.DiagnoseRequest{Signal: &signalv1.Signal{}, Classification: &reasoningv1.Classification{}})
	require.Equal(t, codes.Internal, status.Code(err))
	// The server is still up.
	_, err = b.client.ClassifyIncident(as("acme"), validReq)
	require.NoError(t, err)
}

func TestHealthNeedsNoToken(t *testing.T) {
	t.Parallel()
	b := setup(t)
	res, err := healthpb.NewHealthClient(b.raw).Check(context.Background(), &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	require.Equal(t, healthpb.HealthCheckResponse_SERVING, res.GetStatus())
}

// A unary call's line has go-grpc-middleware's fields and levels: a failed
// call is logged at its code's level with the error, a successful one at
// debug.
func TestUnaryCallLineFieldsAndLevels(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.client.ClassifyIncident(as("acme"), &reasoningv1.ClassifyIncidentRequest{})
	require.Equal(t, codes.InvalidArgument, status.Code(err))
	_, err = b.client.ClassifyIncident(as("acme"), validReq)
	require.NoError(t, err)

	lines := b.logs.FilterMessage("finished call").All()
	require.Len(t, lines, 2)
	failed, ok := lines[0], lines[1]
	require.Equal(t, zap.InfoLevel, failed.Level)
	require.Equal(t, zap.DebugLevel, ok.Level)
	fields := failed.ContextMap()
	for k, v := range map[string]any{
		"tenant_id":        "acme",
		"protocol":         "grpc",
		"grpc.component":   "server",
		"grpc.service":     "alexus.reasoning.v1.ReasoningService",
		"grpc.method":      "ClassifyIncident",
		"grpc.method_type": "unary",
		"grpc.code":        "InvalidArgument",
	} {
		require.Equal(t, v, fields[k], k)
	}
	for _, k := range []string{"peer.address", "grpc.start_time", "grpc.error", "grpc.time_ms"} {
		require.NotEmpty(t, fields[k], k)
	}
	require.NotContains(t, ok.ContextMap(), "grpc.error")
}
