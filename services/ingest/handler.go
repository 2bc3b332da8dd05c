package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"go.uber.org/zap"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	ingestv1 "github.com/alexus-platform/alexus/gen/alexus/ingest/v1"
	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/internal/rpc"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/ingest/dedup"
	"github.com/alexus-platform/alexus/services/ingest/limit"
	"github.com/alexus-platform/alexus/services/ingest/normalise"
)

// retryAfter is the delay suggested to callers when Redis is unavailable;
// the gateway turns it into a Retry-After header.
const retryAfter = 5 * time.Second

// ErrorDomain is the google.rpc.ErrorInfo domain of the plane's refusals;
// their reasons are limit.ReasonRateLimited, limit.ReasonIngestBusy and
// limit.ReasonTenantBusy.
const ErrorDomain = "alexus.ingest"

// handler adapts IngestService to the Ingester.
type handler struct {
	ingestv1.UnimplementedIngestServiceServer
	log      *zap.Logger
	ing      *Ingester
	disp     *limit.Dispatcher
	maxItems int
}

// admit takes one of the dispatcher's slots for the call's tenant; the
// caller gives it back with the returned function when the call ends.
func (h *handler) admit(ctx context.Context) (func(), error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return nil, err
	}
	return h.disp.Acquire(ctx, t)
}

// Ingest implements IngestService.Ingest.
func (h *handler) Ingest(ctx context.Context, req *ingestv1.IngestRequest) (*ingestv1.IngestResponse, error) {
	release, err := h.admit(ctx)
	if err != nil {
		return nil, h.toStatus(ctx, "ingest", err)
	}
	defer release()
	res, err := h.ing.Ingest(ctx, req.GetSource(), req.GetPayload(), req.GetHeaders())
	if err != nil {
		return nil, h.toStatus(ctx, "ingest", err)
	}
	return &ingestv1.IngestResponse{Results: toProtoResults(res)}, nil
}

// IngestBatch implements IngestService.IngestBatch. The whole stream holds
// one dispatcher slot. Items that fail request validation or normalisation,
// or that the tenant's rate no longer covers, are rejected one by one; a
// Redis failure or an over-long stream fails the call, and so does a rate
// that covers none of the batch. Items before the failure may then already
// be recorded, so a retry of the whole batch sees them as duplicates.
func (h *handler) IngestBatch(stream grpc.ClientStreamingServer[ingestv1.IngestBatchRequest, ingestv1.IngestBatchResponse]) error {
	ctx := stream.Context()
	release, err := h.admit(ctx)
	if err != nil {
		return h.toStatus(ctx, "ingest batch", err)
	}
	defer release()
	b := h.ing.NewBatch()
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if b.Len() >= h.maxItems && (err == nil || status.Code(err) == codes.InvalidArgument) {
			return batchTooLarge(h.maxItems)
		}
		if err != nil {
			// The validation interceptor consumes the message and reports
			// INVALID_ARGUMENT from Recv; the stream itself is still fine.
			if st, ok := status.FromError(err); ok && st.Code() == codes.InvalidArgument {
				b.Reject(st.Message())
				continue
			}
			return err
		}
		item := req.GetItem()
		if err := b.Add(ctx, item.GetSource(), item.GetPayload(), item.GetHeaders()); err != nil {
			return h.toStatus(ctx, "ingest batch", err)
		}
	}
	items, err := b.Finish(ctx)
	if err != nil {
		return h.toStatus(ctx, "ingest batch", err)
	}
	resp := &ingestv1.IngestBatchResponse{Items: make([]*ingestv1.IngestBatchItem, len(items))}
	for k, it := range items {
		item := &ingestv1.IngestBatchItem{
			Index:          int32(k),
			Results:        toProtoResults(it.Results),
			RejectedReason: it.Rejected,
		}
		if it.Rejected != "" {
			h.rejection(ctx, item, it.Err)
		}
		resp.Items[k] = item
	}
	return stream.SendAndClose(resp)
}

// rejection fills in the code, limit and retry delay an Ingest call of the
// item alone would have failed with, so callers (the gateway, answering
// each webhook it batched) can answer each item as its own call. err nil
// means the item failed request validation.
func (h *handler) rejection(ctx context.Context, item *ingestv1.IngestBatchItem, err error) {
	if err == nil {
		item.RejectedCode = int32(codes.InvalidArgument)
		return
	}
	st := status.Convert(statusOf(ctx, h.log, "ingest batch item", err))
	item.RejectedCode = int32(st.Code())
	// The status's message, not the error's: for some refusals (an SNS
	// confirmation, an unexpected failure) they differ, and only the
	// message is meant for the caller.
	item.RejectedReason = st.Message()
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			item.RejectedLimit = d.GetReason()
		case *errdetails.RetryInfo:
			item.RetryAfter = d.GetRetryDelay()
		}
	}
}

func toProtoResults(res []Result) []*ingestv1.IngestResult {
	out := make([]*ingestv1.IngestResult, len(res))
	for k, r := range res {
		out[k] = &ingestv1.IngestResult{
			SignalId:    r.SignalID,
			Fingerprint: r.Fingerprint,
			Verdict:     verdict(r.Kind),
			Title:       r.Title,
		}
	}
	return out
}

func verdict(k signalv1.EventKind) ingestv1.Verdict {
	switch k {
	case signalv1.EventKind_EVENT_KIND_OPENED:
		return ingestv1.Verdict_VERDICT_ACCEPTED
	case signalv1.EventKind_EVENT_KIND_REPEATED:
		return ingestv1.Verdict_VERDICT_DUPLICATE
	case signalv1.EventKind_EVENT_KIND_RESOLVED:
		return ingestv1.Verdict_VERDICT_RESOLVED
	default:
		return ingestv1.Verdict_VERDICT_UNSPECIFIED
	}
}

// toStatus maps the Ingester's own errors onto gRPC codes (see statusOf).
func (h *handler) toStatus(ctx context.Context, op string, err error) error {
	return statusOf(ctx, h.log, op, err)
}

// statusOf maps the Ingester's own errors onto gRPC codes and leaves
// everything else (cancellation, errors already carrying a status, anything
// unexpected) to rpc.StatusOf, which logs what is the server's fault.
func statusOf(ctx context.Context, log *zap.Logger, op string, err error) error {
	var refusal *limit.Refusal
	switch {
	case errors.As(err, &refusal):
		return refusedStatus(refusal)
	case errors.Is(err, normalise.ErrUnknownSource),
		errors.Is(err, normalise.ErrInvalidPayload),
		errors.Is(err, ErrPayloadTooLarge),
		errors.Is(err, ErrPayloadTooDeep),
		errors.Is(err, ErrPayloadNotUTF8):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, ErrBrokenRule):
		// The rule was valid when saved; the tenant must fix it.
		return status.Error(codes.FailedPrecondition, err.Error())
	case errors.Is(err, normalise.ErrSNSControl):
		// Confirming a subscription means fetching a URL the message names,
		// which only the gateway does, after verifying the SNS signature;
		// a confirmation that reached ingest another way is refused.
		return status.Error(codes.FailedPrecondition,
			"SNS subscription and unsubscribe confirmations are not ingested; post them to the gateway's "+
				"/v1/webhooks/sns endpoint, which verifies their signature and confirms the subscription")
	case errors.Is(err, dedup.ErrUnavailable), errors.Is(err, limit.ErrUnavailable), errors.Is(err, ErrSourcesUnavailable):
		// A rate that cannot be checked fails closed: the signal store is
		// the same Redis, so the call could not have been recorded either.
		// The Ingester has logged the cause; the caller learns how long to
		// wait.
		st, derr := status.New(codes.Unavailable, "signal store unavailable, retry").
			WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(retryAfter)})
		if derr != nil {
			return status.Error(codes.Unavailable, "signal store unavailable, retry")
		}
		return st.Err()
	}
	return rpc.StatusOf(ctx, log, op, err)
}

// ReasonBatchTooLarge is the ErrorInfo reason of a batch above the item
// cap: unlike the other RESOURCE_EXHAUSTED reasons, retrying the same batch
// never helps, so it carries no RetryInfo.
const ReasonBatchTooLarge = "BATCH_TOO_LARGE"

func batchTooLarge(maxItems int) error {
	msg := fmt.Sprintf("batch has more than %d items; split it into smaller batches", maxItems)
	st, err := status.New(codes.ResourceExhausted, msg).WithDetails(&errdetails.ErrorInfo{Reason: ReasonBatchTooLarge, Domain: ErrorDomain})
	if err != nil {
		return status.Error(codes.ResourceExhausted, msg)
	}
	return st.Err()
}

// refusedStatus is RESOURCE_EXHAUSTED naming the limit that refused the call
// (ErrorInfo) and when to retry (RetryInfo), which the gateway turns into
// 429 or 503 with Retry-After.
func refusedStatus(r *limit.Refusal) error {
	st, err := status.New(codes.ResourceExhausted, r.Error()).WithDetails(
		&errdetails.ErrorInfo{Reason: r.Reason, Domain: ErrorDomain},
		&errdetails.RetryInfo{RetryDelay: durationpb.New(r.RetryAfter)},
	)
	if err != nil {
		return status.Error(codes.ResourceExhausted, r.Error())
	}
	return st.Err()
}
