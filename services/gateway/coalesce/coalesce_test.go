package coalesce_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	ingestv1 "github.com/alexus-platform/alexus/gen/alexus/ingest/v1"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/gateway/coalesce"
)

// plane stands in for the ingest plane's client. Ingest answers with the
// payload as the signal id; a payload "bad" is rejected, "limited" is rate
// limited. Ingest calls block until release is closed (when set), so tests
// can hold a tenant's calls in flight.
type plane struct {
	ingestv1.IngestServiceClient
	release chan struct{}
	// batchErr fails every IngestBatch call with it.
	batchErr error

	mu      sync.Mutex
	singles []string
	batches [][]string
	tenants []tenant.ID
}

func (p *plane) Ingest(ctx context.Context, req *ingestv1.IngestRequest, _ ...grpc.CallOption) (*ingestv1.IngestResponse, error) {
	id, _ := tenant.FromContext(ctx)
	p.mu.Lock()
	p.singles = append(p.singles, string(req.GetPayload()))
	p.tenants = append(p.tenants, id.Tenant)
	p.mu.Unlock()
	if p.release != nil {
		select {
		case <-p.release:
		case <-ctx.Done():
			return nil, status.FromContextError(ctx.Err()).Err()
		}
	}
	it := answer(0, req)
	if it.GetRejectedCode() != 0 {
		return nil, status.Error(codes.Code(it.GetRejectedCode()), it.GetRejectedReason())
	}
	return &ingestv1.IngestResponse{Results: it.GetResults()}, nil
}

func answer(k int, req *ingestv1.IngestRequest) *ingestv1.IngestBatchItem {
	it := &ingestv1.IngestBatchItem{Index: int32(k)}
	switch p := string(req.GetPayload()); p {
	case "bad":
		it.RejectedCode, it.RejectedReason = int32(codes.InvalidArgument), "normalise payload: not JSON"
	case "limited":
		it.RejectedCode, it.RejectedReason = int32(codes.ResourceExhausted), "tenant over its rate"
		it.RejectedLimit, it.RetryAfter = "RATE_LIMITED", durationpb.New(1500*time.Millisecond)
	default:
		it.Results = []*ingestv1.IngestResult{{SignalId: p, Verdict: ingestv1.Verdict_VERDICT_ACCEPTED}}
	}
	return it
}

func (p *plane) IngestBatch(ctx context.Context, _ ...grpc.CallOption) (grpc.ClientStreamingClient[ingestv1.IngestBatchRequest, ingestv1.IngestBatchResponse], error) {
	id, _ := tenant.FromContext(ctx)
	return &stream{p: p, ctx: ctx, tenant: id.Tenant}, nil
}

type stream struct {
	grpc.ClientStream
	p      *plane
	ctx    context.Context
	tenant tenant.ID
	reqs   []*ingestv1.IngestRequest
}

func (s *stream) Send(req *ingestv1.IngestBatchRequest) error {
	s.reqs = append(s.reqs, req.GetItem())
	return nil
}

func (s *stream) CloseAndRecv() (*ingestv1.IngestBatchResponse, error) {
	var payloads []string
	resp := &ingestv1.IngestBatchResponse{}
	for k, r := range s.reqs {
		payloads = append(payloads, string(r.GetPayload()))
		resp.Items = append(resp.Items, answer(k, r))
	}
	s.p.mu.Lock()
	s.p.batches = append(s.p.batches, payloads)
	s.p.tenants = append(s.p.tenants, s.tenant)
	s.p.mu.Unlock()
	if s.p.batchErr != nil {
		return nil, s.p.batchErr
	}
	return resp, nil
}

func (s *stream) Context() context.Context     { return s.ctx }
func (s *stream) Header() (metadata.MD, error) { return nil, nil }
func (s *stream) CloseSend() error             { return nil }
func (s *stream) Trailer() metadata.MD         { return nil }
func (s *stream) SendMsg(any) error            { return errors.New("unused") }
func (s *stream) RecvMsg(any) error            { return io.EOF }
func (p *plane) counts() (singles, batches int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.singles), len(p.batches)
}
func (p *plane) batch(k int) []string { p.mu.Lock(); defer p.mu.Unlock(); return p.batches[k] }
func (p *plane) tenantsSeen() []tenant.ID {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]tenant.ID(nil), p.tenants...)
}
func ctxFor(t tenant.ID) context.Context {
	return tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: t, Subject: "integration:generic"})
}
func req(payload string) *ingestv1.IngestRequest {
	return &ingestv1.IngestRequest{Source: "generic", Payload: []byte(payload)}
}

func newClient(t *testing.T, p *plane, cfg coalesce.Config) *coalesce.Client {
	t.Helper()
	c, err := coalesce.New(p, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type result struct {
	resp *ingestv1.IngestResponse
	err  error
}

// waitFor polls cond; coalescing happens on other goroutines.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// hold starts a lone Ingest that blocks in the plane, so the tenant's one
// call is in flight; the returned channel gets its result.
func hold(t *testing.T, c *coalesce.Client, p *plane, tn tenant.ID, payload string) chan result {
	t.Helper()
	before, _ := p.counts()
	out := make(chan result, 1)
	go func() {
		resp, err := c.Ingest(ctxFor(tn), req(payload))
		out <- result{resp, err}
	}()
	waitFor(t, "the held call to reach the plane", func() bool { n, _ := p.counts(); return n == before+1 })
	return out
}

func TestLoneDeliveryIsItsOwnIngestCall(t *testing.T) {
	p := &plane{}
	c := newClient(t, p, coalesce.DefaultConfig())
	resp, err := c.Ingest(ctxFor("acme"), req("a1"))
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.GetResults()[0].GetSignalId(); got != "a1" {
		t.Fatalf("signal id %q, want a1", got)
	}
	if singles, batches := p.counts(); singles != 1 || batches != 0 {
		t.Fatalf("%d Ingest and %d IngestBatch calls, want 1 and 0", singles, batches)
	}
}

func TestDeliveriesWaitingForABusyTenantGoTogether(t *testing.T) {
	p := &plane{release: make(chan struct{})}
	cfg := coalesce.DefaultConfig()
	cfg.MaxInFlight = 1
	c := newClient(t, p, cfg)
	first := hold(t, c, p, "acme", "a0")

	payloads := []string{"a1", "bad", "a2", "limited", "a3"}
	results := make([]chan result, len(payloads))
	for k, pl := range payloads {
		results[k] = make(chan result, 1)
		go func() {
			resp, err := c.Ingest(ctxFor("acme"), req(pl))
			results[k] <- result{resp, err}
		}()
	}
	// Every delivery is queued before the held call ends.
	waitFor(t, "the deliveries to queue", func() bool { return c.Waiting("acme") == len(payloads) })
	if singles, batches := p.counts(); singles != 1 || batches != 0 {
		t.Fatalf("before the held call ended: %d Ingest and %d IngestBatch calls, want 1 and 0", singles, batches)
	}
	close(p.release)
	if r := <-first; r.err != nil || r.resp.GetResults()[0].GetSignalId() != "a0" {
		t.Fatalf("held call: %v, %v", r.resp, r.err)
	}
	got := map[string]result{}
	for k, pl := range payloads {
		got[pl] = <-results[k]
	}
	if singles, batches := p.counts(); singles != 1 || batches != 1 {
		t.Fatalf("%d Ingest and %d IngestBatch calls, want 1 and 1", singles, batches)
	}
	if n := len(p.batch(0)); n != len(payloads) {
		t.Fatalf("the batch carried %d deliveries, want %d", n, len(payloads))
	}
	for _, pl := range []string{"a1", "a2", "a3"} {
		if r := got[pl]; r.err != nil || r.resp.GetResults()[0].GetSignalId() != pl {
			t.Fatalf("%s: %v, %v; want its own result", pl, r.resp, r.err)
		}
	}
	if st := status.Convert(got["bad"].err); st.Code() != codes.InvalidArgument || st.Message() != "normalise payload: not JSON" {
		t.Fatalf("bad payload: %v, want INVALID_ARGUMENT with the plane's message", got["bad"].err)
	}
	st := status.Convert(got["limited"].err)
	if st.Code() != codes.ResourceExhausted {
		t.Fatalf("limited payload: %v, want RESOURCE_EXHAUSTED", got["limited"].err)
	}
	var reason string
	var retry time.Duration
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			if d.GetDomain() != coalesce.ErrorDomain {
				t.Fatalf("ErrorInfo domain %q, want %q", d.GetDomain(), coalesce.ErrorDomain)
			}
			reason = d.GetReason()
		case *errdetails.RetryInfo:
			retry = d.GetRetryDelay().AsDuration()
		}
	}
	if reason != "RATE_LIMITED" || retry != 1500*time.Millisecond {
		t.Fatalf("limited payload: reason %q, retry %s; want RATE_LIMITED and 1.5s", reason, retry)
	}
}

func TestAFailedBatchFailsEachOfItsDeliveries(t *testing.T) {
	p := &plane{release: make(chan struct{}), batchErr: status.Error(codes.Unavailable, "signal store unavailable, retry")}
	cfg := coalesce.DefaultConfig()
	cfg.MaxInFlight = 1
	c := newClient(t, p, cfg)
	first := hold(t, c, p, "acme", "a0")
	results := make(chan error, 3)
	for k := range 3 {
		go func() {
			_, err := c.Ingest(ctxFor("acme"), req(fmt.Sprintf("b%d", k)))
			results <- err
		}()
	}
	waitFor(t, "the deliveries to queue", func() bool { return c.Waiting("acme") == 3 })
	close(p.release)
	<-first
	for range 3 {
		if err := <-results; status.Code(err) != codes.Unavailable {
			t.Fatalf("delivery of a failed batch: %v, want UNAVAILABLE", err)
		}
	}
}

func TestAFullBatchGoesWithoutWaiting(t *testing.T) {
	p := &plane{release: make(chan struct{})}
	cfg := coalesce.DefaultConfig()
	cfg.MaxInFlight, cfg.MaxItems = 1, 3
	c := newClient(t, p, cfg)
	first := hold(t, c, p, "acme", "a0")
	results := make(chan error, 3)
	for k := range 3 {
		go func() {
			_, err := c.Ingest(ctxFor("acme"), req(fmt.Sprintf("f%d", k)))
			results <- err
		}()
	}
	// The held call is still in flight, yet the full batch is answered.
	for range 3 {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}
	if _, batches := p.counts(); batches != 1 {
		t.Fatalf("%d IngestBatch calls, want 1", batches)
	}
	close(p.release)
	<-first
}

func TestACallerThatGivesUpIsNotSent(t *testing.T) {
	p := &plane{release: make(chan struct{})}
	cfg := coalesce.DefaultConfig()
	cfg.MaxInFlight = 1
	c := newClient(t, p, cfg)
	first := hold(t, c, p, "acme", "a0")

	ctx, cancel := context.WithCancel(ctxFor("acme"))
	gaveUp := make(chan error, 1)
	go func() {
		_, err := c.Ingest(ctx, req("gone"))
		gaveUp <- err
	}()
	kept := make(chan error, 2)
	for _, pl := range []string{"k1", "k2"} {
		go func() {
			_, err := c.Ingest(ctxFor("acme"), req(pl))
			kept <- err
		}()
	}
	waitFor(t, "the deliveries to queue", func() bool { return c.Waiting("acme") == 3 })
	cancel()
	if err := <-gaveUp; status.Code(err) != codes.Canceled {
		t.Fatalf("caller that gave up: %v, want CANCELED", err)
	}
	close(p.release)
	<-first
	for range 2 {
		if err := <-kept; err != nil {
			t.Fatal(err)
		}
	}
	if _, batches := p.counts(); batches != 1 {
		t.Fatalf("%d IngestBatch calls, want 1", batches)
	}
	for _, pl := range p.batch(0) {
		if pl == "gone" {
			t.Fatal("the delivery whose caller gave up was sent")
		}
	}
}

func TestTenantsDoNotWaitForEachOther(t *testing.T) {
	p := &plane{release: make(chan struct{})}
	cfg := coalesce.DefaultConfig()
	cfg.MaxInFlight = 1
	c := newClient(t, p, cfg)
	first := hold(t, c, p, "acme", "a0")
	// globex has nothing in flight: its delivery goes at once, as its own
	// call, under its own identity.
	second := hold(t, c, p, "globex", "g0")
	close(p.release)
	for _, ch := range []chan result{first, second} {
		if r := <-ch; r.err != nil {
			t.Fatal(r.err)
		}
	}
	seen := p.tenantsSeen()
	if len(seen) != 2 || seen[0] != "acme" || seen[1] != "globex" {
		t.Fatalf("calls made for tenants %v, want [acme globex]", seen)
	}
}

func TestBatchesCarryTheirTenant(t *testing.T) {
	p := &plane{release: make(chan struct{})}
	cfg := coalesce.DefaultConfig()
	cfg.MaxInFlight = 1
	c := newClient(t, p, cfg)
	heldA := hold(t, c, p, "acme", "a0")
	heldG := hold(t, c, p, "globex", "g0")
	var wg sync.WaitGroup
	for _, tn := range []tenant.ID{"acme", "globex", "acme", "globex"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := c.Ingest(ctxFor(tn), req(string(tn)+"-x"))
			if err != nil || resp.GetResults()[0].GetSignalId() != string(tn)+"-x" {
				t.Errorf("%s: %v, %v", tn, resp, err)
			}
		}()
	}
	waitFor(t, "the deliveries to queue", func() bool { return c.Waiting("acme") == 2 && c.Waiting("globex") == 2 })
	close(p.release)
	<-heldA
	<-heldG
	wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.batches) != 2 {
		t.Fatalf("%d IngestBatch calls, want one per tenant", len(p.batches))
	}
	for k, b := range p.batches {
		tn := p.tenants[len(p.singles)+k]
		for _, pl := range b {
			if pl != string(tn)+"-x" {
				t.Fatalf("a batch of tenant %s carried %q", tn, pl)
			}
		}
	}
}

func TestConfigIsValidated(t *testing.T) {
	for _, cfg := range []coalesce.Config{
		{MaxItems: 0, MaxInFlight: 4, Timeout: time.Second},
		{MaxItems: 64, MaxInFlight: 0, Timeout: time.Second},
		{MaxItems: 64, MaxInFlight: 4, Timeout: 0},
	} {
		if _, err := coalesce.New(&plane{}, cfg); err == nil {
			t.Fatalf("config %+v accepted", cfg)
		}
	}
}
