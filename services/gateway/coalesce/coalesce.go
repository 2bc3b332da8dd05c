// Package coalesce lets the gateway forward a tenant's concurrent webhook
// deliveries to the ingestion plane together.
//
// Each delivery is one small Ingest call, and under load most of what such a
// call costs, on both sides, is being a call: a stream on the HTTP/2
// connection, its headers, the identity token signed and verified, the
// interceptor chain, the frames and system calls. Client wraps the ingest
// client so that a delivery that finds its tenant with fewer than
// Config.MaxInFlight calls in flight goes out at once as its own Ingest
// call, exactly as before; one that finds them all busy waits, and every
// delivery that waits while a call is out goes with the next one, as the
// items of one IngestBatch call. Nothing is delayed to make a batch: a
// delivery waits only for a call of its own tenant to finish, and batches
// grow only as the plane falls behind.
//
// Every delivery still gets the answer an Ingest call of it alone would
// have got: its results, or the status (code, message, ErrorInfo reason
// and RetryInfo) the plane gives for each rejected item, or the status of
// the whole call when the plane refused or failed it.
package coalesce

import (
	"context"
	"errors"
	"io"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"

	ingestv1 "github.com/alexus-platform/alexus/gen/alexus/ingest/v1"
	"github.com/alexus-platform/alexus/internal/coalesce"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// ErrorDomain is the google.rpc.ErrorInfo domain of the ingest plane's
// refusals, which a rejected item's limit is reported in.
const ErrorDomain = "alexus.ingest"

// Config sets how deliveries are coalesced: MaxItems is the most
// deliveries one IngestBatch call carries (it must not exceed the ingest
// plane's ALEXUS_INGEST_MAX_BATCH_ITEMS; 1 turns coalescing off),
// MaxInFlight how many calls of one tenant may be in flight before its next
// deliveries wait to go together, and Timeout bounds one IngestBatch call (a
// lone delivery's Ingest call keeps its own request's context).
type Config = coalesce.Config

// DefaultConfig returns the defaults: 64 items, 2 calls per tenant, 30s.
func DefaultConfig() Config {
	return Config{MaxItems: 64, MaxInFlight: 2, Timeout: 30 * time.Second}
}

// Client is an ingest client whose Ingest calls are coalesced per tenant;
// its other methods are the wrapped client's.
type Client struct {
	ingestv1.IngestServiceClient
	co *coalesce.Coalescer[tenant.ID, *ingestv1.IngestRequest, outcome]
}

// outcome is one delivery's answer within a batch: its response, or the
// status an Ingest call of it alone would have failed with.
type outcome struct {
	resp *ingestv1.IngestResponse
	err  error
}

// New wraps next; cfg must be valid.
func New(next ingestv1.IngestServiceClient, cfg Config) (*Client, error) {
	if next == nil {
		return nil, errors.New("coalesce: ingest client is required")
	}
	c := &Client{IngestServiceClient: next}
	// A batch carries the tenant's identity and nothing else of the
	// delivery that happened to be first (its request's trace, say).
	cfg.BatchContext = func(first context.Context) context.Context {
		id, _ := tenant.FromContext(first)
		return tenant.WithIdentity(context.Background(), id)
	}
	co, err := coalesce.New[tenant.ID](cfg,
		func(ctx context.Context, req *ingestv1.IngestRequest) (outcome, error) {
			resp, err := next.Ingest(ctx, req)
			return outcome{resp: resp}, err
		},
		c.ingestBatch)
	if err != nil {
		return nil, err
	}
	c.co = co
	return c, nil
}

// Ingest sends req at once when its tenant has a call to spare, and
// otherwise with the tenant's next batch. A call without an identity in ctx
// goes straight through (and fails there, as it always would).
func (c *Client) Ingest(ctx context.Context, req *ingestv1.IngestRequest, opts ...grpc.CallOption) (*ingestv1.IngestResponse, error) {
	id, ok := tenant.FromContext(ctx)
	if !ok || len(opts) > 0 {
		return c.IngestServiceClient.Ingest(ctx, req, opts...)
	}
	// The batch runs under the first delivery's identity, which is the
	// tenant's: a batch never mixes tenants.
	o, err := c.co.Do(ctx, id.Tenant, req)
	switch {
	case err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()):
		// Given up before an answer came: not sent, or sent and the plane
		// may or may not take it, as with a lone Ingest whose caller hung up.
		return nil, status.FromContextError(ctx.Err()).Err()
	case err != nil:
		return nil, err
	}
	return o.resp, o.err
}

// ingestBatch sends the deliveries on one IngestBatch stream and returns
// each one's outcome, in order.
func (c *Client) ingestBatch(ctx context.Context, batch []*ingestv1.IngestRequest) ([]outcome, error) {
	stream, err := c.IngestServiceClient.IngestBatch(ctx)
	if err != nil {
		return nil, err
	}
	for _, req := range batch {
		// io.EOF means the plane ended the call early; CloseAndRecv has
		// its status.
		if err := stream.Send(&ingestv1.IngestBatchRequest{Item: req}); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, err
		}
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return nil, err
	}
	items := make([]*ingestv1.IngestBatchItem, len(batch))
	for _, it := range resp.GetItems() {
		if k := int(it.GetIndex()); k >= 0 && k < len(items) {
			items[k] = it
		}
	}
	out := make([]outcome, len(batch))
	for k, it := range items {
		switch {
		case it == nil:
			out[k].err = status.Error(codes.Internal, "ingest answered no verdict for the delivery")
		case it.GetRejectedCode() != 0 || it.GetRejectedReason() != "":
			out[k].err = rejection(it)
		default:
			out[k].resp = &ingestv1.IngestResponse{Results: it.GetResults()}
		}
	}
	return out, nil
}

// rejection is the status an Ingest call of the item alone would have
// failed with.
func rejection(it *ingestv1.IngestBatchItem) error {
	code := codes.Code(it.GetRejectedCode())
	if code == codes.OK {
		code = codes.InvalidArgument
	}
	st := status.New(code, it.GetRejectedReason())
	var details []protoadapt.MessageV1
	if it.GetRejectedLimit() != "" {
		details = append(details, &errdetails.ErrorInfo{Reason: it.GetRejectedLimit(), Domain: ErrorDomain})
	}
	if it.GetRetryAfter() != nil {
		details = append(details, &errdetails.RetryInfo{RetryDelay: it.GetRetryAfter()})
	}
	if len(details) == 0 {
		return st.Err()
	}
	withDetails, err := st.WithDetails(details...)
	if err != nil {
		return st.Err()
	}
	return withDetails.Err()
}

// Waiting returns how many deliveries of tenant t wait for a call.
func (c *Client) Waiting(t tenant.ID) int { return c.co.Waiting(t) }
