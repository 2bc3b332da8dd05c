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
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"

	ingestv1 "github.com/alexus-platform/alexus/gen/alexus/ingest/v1"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// ErrorDomain is the google.rpc.ErrorInfo domain of the ingest plane's
// refusals, which a rejected item's limit is reported in.
const ErrorDomain = "alexus.ingest"

// Config sets how deliveries are coalesced.
type Config struct {
	// MaxItems is the most deliveries one IngestBatch call carries. It must
	// not exceed the ingest plane's ALEXUS_INGEST_MAX_BATCH_ITEMS. 1 turns
	// coalescing off: every delivery is its own Ingest call.
	MaxItems int
	// MaxInFlight is how many calls of one tenant may be in flight before
	// its next deliveries wait to go together.
	MaxInFlight int
	// Timeout bounds one IngestBatch call. A lone delivery's Ingest call
	// keeps its own request's context instead.
	Timeout time.Duration
}

// DefaultConfig returns the defaults: 64 items, 2 calls per tenant, 30s.
func DefaultConfig() Config {
	return Config{MaxItems: 64, MaxInFlight: 2, Timeout: 30 * time.Second}
}

// Validate names the first bad field.
func (c Config) Validate() error {
	switch {
	case c.MaxItems < 1:
		return fmt.Errorf("coalesce: max items %d must be at least 1", c.MaxItems)
	case c.MaxInFlight < 1:
		return fmt.Errorf("coalesce: max in flight %d must be at least 1", c.MaxInFlight)
	case c.Timeout <= 0:
		return fmt.Errorf("coalesce: timeout %s must be positive", c.Timeout)
	}
	return nil
}

// Client is an ingest client whose Ingest calls are coalesced per tenant;
// its other methods are the wrapped client's.
type Client struct {
	ingestv1.IngestServiceClient
	cfg Config

	mu      sync.Mutex
	tenants map[tenant.ID]*queue
}

// queue is one tenant's calls in flight and deliveries waiting.
type queue struct {
	inFlight int
	waiting  []*delivery
}

// A delivery's state: waiting to be sent, sent, or given up by its caller
// before it was sent (and then never sent).
const (
	stateWaiting int32 = iota
	stateSent
	stateAbandoned
)

// delivery is one Ingest call waiting for, or riding on, a batch.
type delivery struct {
	ctx   context.Context
	id    tenant.Identity
	req   *ingestv1.IngestRequest
	state atomic.Int32
	// done is closed once resp and err are set.
	done chan struct{}
	resp *ingestv1.IngestResponse
	err  error
}

// New wraps next; cfg must be valid.
func New(next ingestv1.IngestServiceClient, cfg Config) (*Client, error) {
	if next == nil {
		return nil, errors.New("coalesce: ingest client is required")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Client{IngestServiceClient: next, cfg: cfg, tenants: make(map[tenant.ID]*queue)}, nil
}

// Ingest sends req at once when its tenant has a call to spare, and
// otherwise with the tenant's next batch. A call without an identity in ctx
// goes straight through (and fails there, as it always would).
func (c *Client) Ingest(ctx context.Context, req *ingestv1.IngestRequest, opts ...grpc.CallOption) (*ingestv1.IngestResponse, error) {
	id, ok := tenant.FromContext(ctx)
	if !ok || c.cfg.MaxItems == 1 || len(opts) > 0 {
		return c.IngestServiceClient.Ingest(ctx, req, opts...)
	}
	c.mu.Lock()
	q := c.tenants[id.Tenant]
	if q == nil {
		q = &queue{}
		c.tenants[id.Tenant] = q
	}
	if q.inFlight < c.cfg.MaxInFlight {
		q.inFlight++
		c.mu.Unlock()
		defer c.finished(id.Tenant)
		return c.IngestServiceClient.Ingest(ctx, req)
	}
	d := &delivery{ctx: ctx, id: id, req: req, done: make(chan struct{})}
	q.waiting = append(q.waiting, d)
	var full []*delivery
	if len(q.waiting) >= c.cfg.MaxItems {
		// A full batch goes now, even above MaxInFlight: the plane's own
		// in-flight bound then refuses it explicitly rather than this
		// queue growing without bound.
		full, q.waiting = q.waiting, nil
		q.inFlight++
	}
	c.mu.Unlock()
	if full != nil {
		go c.run(id.Tenant, full)
	}
	select {
	case <-d.done:
		return d.resp, d.err
	case <-ctx.Done():
		// Not sent yet: it never will be. Already sent: the plane may or may
		// not take it, as with a lone Ingest whose caller hung up; the
		// batch's answer for it is dropped.
		d.state.CompareAndSwap(stateWaiting, stateAbandoned)
		return nil, status.FromContextError(ctx.Err()).Err()
	}
}

// finished ends one call of tenant t and sends whatever waited for it.
func (c *Client) finished(t tenant.ID) {
	c.mu.Lock()
	q := c.tenants[t]
	q.inFlight--
	var next []*delivery
	switch {
	case len(q.waiting) > 0:
		next, q.waiting = q.waiting, nil
		q.inFlight++
	case q.inFlight == 0:
		delete(c.tenants, t)
	}
	c.mu.Unlock()
	if next != nil {
		go c.run(t, next)
	}
}

// run sends the deliveries of batch that are still wanted as one call and
// answers each.
func (c *Client) run(t tenant.ID, batch []*delivery) {
	defer c.finished(t)
	live := batch[:0]
	for _, d := range batch {
		if d.state.CompareAndSwap(stateWaiting, stateSent) {
			live = append(live, d)
		}
	}
	switch len(live) {
	case 0:
		return
	case 1:
		d := live[0]
		d.resp, d.err = c.IngestServiceClient.Ingest(d.ctx, d.req)
		close(d.done)
		return
	}
	ctx, cancel := context.WithTimeout(tenant.WithIdentity(context.Background(), live[0].id), c.cfg.Timeout)
	defer cancel()
	items, err := c.ingestBatch(ctx, live)
	for k, d := range live {
		switch {
		case err != nil:
			d.err = err
		case items[k] == nil:
			d.err = status.Error(codes.Internal, "ingest answered no verdict for the delivery")
		case items[k].GetRejectedCode() != 0 || items[k].GetRejectedReason() != "":
			d.err = rejection(items[k])
		default:
			d.resp = &ingestv1.IngestResponse{Results: items[k].GetResults()}
		}
		close(d.done)
	}
}

// ingestBatch sends the deliveries on one IngestBatch stream and returns
// the plane's item for each, in order (nil where the plane answered none).
func (c *Client) ingestBatch(ctx context.Context, batch []*delivery) ([]*ingestv1.IngestBatchItem, error) {
	stream, err := c.IngestServiceClient.IngestBatch(ctx)
	if err != nil {
		return nil, err
	}
	for _, d := range batch {
		// io.EOF means the plane ended the call early; CloseAndRecv has
		// its status.
		if err := stream.Send(&ingestv1.IngestBatchRequest{Item: d.req}); err != nil {
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
	return items, nil
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
func (c *Client) Waiting(t tenant.ID) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if q := c.tenants[t]; q != nil {
		return len(q.waiting)
	}
	return 0
}
