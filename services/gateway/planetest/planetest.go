// Package planetest runs stand-in planes for the gateway's tests: a real
// internal gRPC server (rpc.NewServer, so the internal token is verified
// exactly as in production) whose services answer with the identity they
// saw, and fail on request with a chosen status.
//
// Answers carry the identity as "<tenant>/<subject>" in a string field, so
// tests assert what the plane saw without sharing state with it:
//   - Ingest: IngestResult.title; the forwarded header names, sorted and
//     comma-joined, in fingerprint; the source in signal_id.
//   - IngestBatch: one item per message received, rejected_reason = identity.
//   - ListIncidents, ListAuditLog: next_page_token = identity.
//   - CheckConfidence: reason = identity.
//   - WatchIncidents: transitions whose summary is the identity.
package planetest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	actionsv1 "github.com/alexus-platform/alexus/gen/alexus/actions/v1"
	ingestv1 "github.com/alexus-platform/alexus/gen/alexus/ingest/v1"
	knowledgev1 "github.com/alexus-platform/alexus/gen/alexus/knowledge/v1"
	orchestratorv1 "github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1"
	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
	"github.com/alexus-platform/alexus/internal/rpc"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// Secret is the internal-token secret the stand-in planes trust.
var Secret = []byte("planetest-internal-secret-0123456789")

// WatchForever, as WatchIncidentsRequest.incident_id, makes WatchIncidents
// send one transition and then hold the stream open until it is cancelled.
// Any other id gets WatchCount transitions and a clean end.
const WatchForever = "00000000-0000-4000-8000-00000000f0f0"

// WatchCount is how many transitions a finite watch sends.
const WatchCount = 3

// FailPageToken, as page_token of ListIncidents, makes it fail with
// NOT_FOUND, FailMessage and an ErrorInfo detail with reason FailReason.
const (
	FailPageToken = "fail"
	FailMessage   = "page token names no page"
	FailReason    = "PAGE_GONE"
)

// Planes are clients to the stand-in planes, dialled with rpc.Dial.
type Planes struct {
	Signer       *tenant.Signer
	Ingest       ingestv1.IngestServiceClient
	Sources      ingestv1.SourceServiceClient
	Orchestrator orchestratorv1.OrchestratorServiceClient
	Reasoning    reasoningv1.ReasoningServiceClient
	Actions      actionsv1.ActionServiceClient
	Knowledge    knowledgev1.KnowledgeServiceClient
	// WatchEnded receives the identity of every WatchIncidents call when
	// the plane's side of it ends.
	WatchEnded <-chan string
}

// Start runs the planes for t and returns clients to them.
func Start(t testing.TB) *Planes {
	t.Helper()
	verifier, err := tenant.NewVerifier(Secret)
	if err != nil {
		t.Fatalf("internal verifier: %v", err)
	}
	signer, err := tenant.NewSigner(Secret, 0)
	if err != nil {
		t.Fatalf("internal signer: %v", err)
	}
	srv, _, err := rpc.NewServer(zap.NewNop(), verifier)
	if err != nil {
		t.Fatalf("plane server: %v", err)
	}
	ended := make(chan string, 16)
	ingestv1.RegisterIngestServiceServer(srv, ingestPlane{})
	ingestv1.RegisterSourceServiceServer(srv, sourcesPlane{})
	orchestratorv1.RegisterOrchestratorServiceServer(srv, orchestratorPlane{ended: ended})
	reasoningv1.RegisterReasoningServiceServer(srv, reasoningPlane{})
	actionsv1.RegisterActionServiceServer(srv, actionsPlane{})
	knowledgev1.RegisterKnowledgeServiceServer(srv, knowledgePlane{})

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = rpc.Serve(ctx, srv, lis)
	}()
	cc, err := rpc.Dial(lis.Addr().String(), signer)
	if err != nil {
		t.Fatalf("dial planes: %v", err)
	}
	t.Cleanup(func() {
		_ = cc.Close()
		cancel()
		<-done
	})
	return &Planes{
		Signer:       signer,
		Ingest:       ingestv1.NewIngestServiceClient(cc),
		Sources:      ingestv1.NewSourceServiceClient(cc),
		Orchestrator: orchestratorv1.NewOrchestratorServiceClient(cc),
		Reasoning:    reasoningv1.NewReasoningServiceClient(cc),
		Actions:      actionsv1.NewActionServiceClient(cc),
		Knowledge:    knowledgev1.NewKnowledgeServiceClient(cc),
		WatchEnded:   ended,
	}
}

// Failure is the JSON payload that makes Ingest fail with the gRPC code
// Fail, attaching a RetryInfo detail when RetryAfterSeconds is positive.
type Failure struct {
	Fail              codes.Code `json:"fail"`
	RetryAfterSeconds int        `json:"retry_after_seconds,omitempty"`
}

// FailPayload returns an Ingest payload that fails with code.
func FailPayload(code codes.Code, retryAfterSeconds int) []byte {
	b, _ := json.Marshal(Failure{Fail: code, RetryAfterSeconds: retryAfterSeconds})
	return b
}

// Who formats an identity as the planes report it.
func Who(id tenant.Identity) string { return string(id.Tenant) + "/" + id.Subject }

func who(ctx context.Context) string {
	id, _ := tenant.FromContext(ctx)
	return Who(id)
}

func failure(payload []byte) error {
	var f Failure
	if json.Unmarshal(payload, &f) != nil || f.Fail == codes.OK {
		return nil
	}
	st := status.New(f.Fail, "planetest: asked to fail with "+f.Fail.String())
	if f.RetryAfterSeconds > 0 {
		withInfo, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(time.Duration(f.RetryAfterSeconds) * time.Second)})
		if err == nil {
			st = withInfo
		}
	}
	return st.Err()
}

// sourcesPlane answers ListMappingRules with one rule whose title names
// the caller; the other methods are unimplemented.
type sourcesPlane struct {
	ingestv1.UnimplementedSourceServiceServer
}

func (sourcesPlane) ListMappingRules(ctx context.Context, _ *ingestv1.ListMappingRulesRequest) (*ingestv1.ListMappingRulesResponse, error) {
	return &ingestv1.ListMappingRulesResponse{Rules: []*ingestv1.MappingRule{{Name: "echo", Title: who(ctx)}}}, nil
}

// knowledgePlane answers GetNode with a node titled after the caller; the
// other methods are unimplemented.
type knowledgePlane struct {
	knowledgev1.UnimplementedKnowledgeServiceServer
}

func (knowledgePlane) GetNode(ctx context.Context, req *knowledgev1.GetNodeRequest) (*knowledgev1.GetNodeResponse, error) {
	return &knowledgev1.GetNodeResponse{Node: &knowledgev1.Node{Id: req.GetId(), Title: who(ctx)}}, nil
}

type ingestPlane struct {
	ingestv1.UnimplementedIngestServiceServer
}

func (ingestPlane) Ingest(ctx context.Context, req *ingestv1.IngestRequest) (*ingestv1.IngestResponse, error) {
	if err := failure(req.GetPayload()); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(req.GetHeaders()))
	for k := range req.GetHeaders() {
		names = append(names, k)
	}
	slices.Sort(names)
	return &ingestv1.IngestResponse{Results: []*ingestv1.IngestResult{{
		SignalId:    "sig-" + req.GetSource(),
		Fingerprint: strings.Join(names, ","),
		Verdict:     ingestv1.Verdict_VERDICT_ACCEPTED,
		Title:       who(ctx),
	}}}, nil
}

func (ingestPlane) IngestBatch(stream grpc.ClientStreamingServer[ingestv1.IngestBatchRequest, ingestv1.IngestBatchResponse]) error {
	var res ingestv1.IngestBatchResponse
	for i := int32(0); ; i++ {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return stream.SendAndClose(&res)
		}
		if err != nil {
			return err
		}
		if err := failure(req.GetItem().GetPayload()); err != nil {
			return err
		}
		res.Items = append(res.Items, &ingestv1.IngestBatchItem{Index: i, RejectedReason: who(stream.Context())})
	}
}

type orchestratorPlane struct {
	orchestratorv1.UnimplementedOrchestratorServiceServer
	ended chan<- string
}

func (orchestratorPlane) ListIncidents(ctx context.Context, req *orchestratorv1.ListIncidentsRequest) (*orchestratorv1.ListIncidentsResponse, error) {
	if req.GetPageToken() == FailPageToken {
		st, err := status.New(codes.NotFound, FailMessage).WithDetails(&errdetails.ErrorInfo{Reason: FailReason, Domain: "planetest"})
		if err != nil {
			return nil, err
		}
		return nil, st.Err()
	}
	return &orchestratorv1.ListIncidentsResponse{NextPageToken: who(ctx)}, nil
}

func (p orchestratorPlane) WatchIncidents(req *orchestratorv1.WatchIncidentsRequest, stream grpc.ServerStreamingServer[orchestratorv1.WatchIncidentsResponse]) error {
	ctx := stream.Context()
	defer func() {
		select {
		case p.ended <- who(ctx):
		default:
		}
	}()
	n := WatchCount
	if req.GetIncidentId() == WatchForever {
		n = 1
	}
	for i := range n {
		if err := stream.Send(&orchestratorv1.WatchIncidentsResponse{Transition: &orchestratorv1.Transition{
			Sequence: int64(i + 1),
			Stage:    orchestratorv1.Stage_STAGE_CLASSIFY,
			Summary:  who(ctx),
		}}); err != nil {
			return err
		}
	}
	if req.GetIncidentId() == WatchForever {
		<-ctx.Done()
		return status.FromContextError(ctx.Err()).Err()
	}
	return nil
}

type reasoningPlane struct {
	reasoningv1.UnimplementedReasoningServiceServer
}

func (reasoningPlane) CheckConfidence(ctx context.Context, _ *reasoningv1.CheckConfidenceRequest) (*reasoningv1.CheckConfidenceResponse, error) {
	return &reasoningv1.CheckConfidenceResponse{Reason: who(ctx)}, nil
}

type actionsPlane struct {
	actionsv1.UnimplementedActionServiceServer
}

func (actionsPlane) ListAuditLog(ctx context.Context, _ *actionsv1.ListAuditLogRequest) (*actionsv1.ListAuditLogResponse, error) {
	return &actionsv1.ListAuditLogResponse{NextPageToken: who(ctx)}, nil
}
