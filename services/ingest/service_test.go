package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	ingestv1 "github.com/alexus-platform/alexus/gen/alexus/ingest/v1"
	orchestratorv1 "github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1"
	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/internal/rediskey"
	"github.com/alexus-platform/alexus/internal/redistest"
	"github.com/alexus-platform/alexus/internal/rpc"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/orchestrator/incident"
)

var secret = []byte("ingest-test-secret-0123456789abcdef")

type bundle struct {
	client  ingestv1.IngestServiceClient
	sources ingestv1.SourceServiceClient
	// signals is the real orchestrator's incident store on the same
	// database, which PreviewFingerprintOverride reads through its RPC.
	signals *incident.Store
	db      *store.DB
	addr    string
	rdb     *redis.Client
	space   rediskey.Space
	svc     *Service
}

type option func(*Config, *Deps)

// withRedis points the plane at rdb instead of the test's real Redis, which
// the bundle still reads.
func withRedis(rdb *redis.Client) option { return func(_ *Config, d *Deps) { d.Redis = rdb } }

func withConfig(f func(*Config)) option { return func(c *Config, _ *Deps) { f(c) } }

// setup starts the plane on a real port against real Redis and returns a
// client that signs the context's identity into every call.
func setup(t testing.TB, opts ...option) *bundle {
	t.Helper()
	rdb, space := redistest.New(t)
	verifier, err := tenant.NewVerifier(secret)
	require.NoError(t, err)
	signer, err := tenant.NewSigner(secret, time.Minute)
	require.NoError(t, err)

	db := storetest.New(t).DB
	signals := incident.NewStore(db)
	orch := startOrchestratorQueries(t, verifier, signer, signals, rdb, space)

	cfg := DefaultConfig()
	cfg.Namespace = space
	deps := Deps{Log: zap.NewNop(), Redis: rdb, Verifier: verifier, DB: db, Orchestrator: orch}
	for _, o := range opts {
		o(&cfg, &deps)
	}
	svc, err := New(cfg, deps)
	require.NoError(t, err)

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx, lis) }()

	cc, err := rpc.Dial(lis.Addr().String(), signer)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = cc.Close()
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after its context was cancelled")
		}
	})
	return &bundle{
		client: ingestv1.NewIngestServiceClient(cc), sources: ingestv1.NewSourceServiceClient(cc),
		signals: signals, db: db, addr: lis.Addr().String(), rdb: rdb, space: space, svc: svc,
	}
}

// startOrchestratorQueries serves the orchestrator's real query handler
// over signals on a real port and returns a client for it.
func startOrchestratorQueries(t testing.TB, verifier *tenant.Verifier, signer *tenant.Signer, signals *incident.Store, rdb *redis.Client, space rediskey.Space) orchestratorv1.OrchestratorServiceClient {
	t.Helper()
	srv, _, err := rpc.NewServer(zap.NewNop(), verifier)
	require.NoError(t, err)
	done := make(chan struct{})
	orchestratorv1.RegisterOrchestratorServiceServer(srv, incident.NewHandler(signals, incident.NewFeed(rdb, space), zap.NewNop(), done, 4))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- rpc.Serve(ctx, srv, lis) }()
	cc, err := rpc.Dial(lis.Addr().String(), signer)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = cc.Close()
		close(done)
		cancel()
		<-served
	})
	return orchestratorv1.NewOrchestratorServiceClient(cc)
}

func as(t tenant.ID) context.Context {
	return tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: t, Subject: "test"})
}

type alert struct {
	status, fingerprint string
	labels              map[string]string
}

// payload writes an Alertmanager webhook (version 4) holding alerts.
func payload(t *testing.T, alerts ...alert) []byte {
	t.Helper()
	items := make([]map[string]any, len(alerts))
	for i, a := range alerts {
		items[i] = map[string]any{
			"status":       a.status,
			"labels":       a.labels,
			"annotations":  map[string]string{"summary": a.labels["alertname"] + " summary"},
			"startsAt":     "2026-03-01T11:00:00Z",
			"endsAt":       "0001-01-01T00:00:00Z",
			"generatorURL": "http://prometheus.example/graph",
			"fingerprint":  a.fingerprint,
		}
	}
	b, err := json.Marshal(map[string]any{
		"version": "4", "groupKey": "g", "status": alerts[0].status, "receiver": "alexus",
		"groupLabels": map[string]string{}, "commonLabels": map[string]string{},
		"commonAnnotations": map[string]string{}, "externalURL": "http://am.example", "alerts": items,
	})
	require.NoError(t, err)
	return b
}

func firing(fp string) alert {
	return alert{status: "firing", fingerprint: fp, labels: map[string]string{"alertname": "HighLatency", "instance": fp}}
}

func resolved(fp string) alert {
	a := firing(fp)
	a.status = "resolved"
	return a
}

func (b *bundle) ingest(t *testing.T, ten tenant.ID, p []byte) []*ingestv1.IngestResult {
	t.Helper()
	resp, err := b.client.Ingest(as(ten), &ingestv1.IngestRequest{Source: "alertmanager", Payload: p})
	require.NoError(t, err)
	return resp.GetResults()
}

func (b *bundle) events(t *testing.T, ten tenant.ID) []*signalv1.SignalEvent {
	t.Helper()
	msgs, err := b.rdb.XRange(context.Background(), b.space.Tenant(ten, rediskey.SignalStream), "-", "+").Result()
	require.NoError(t, err)
	out := make([]*signalv1.SignalEvent, len(msgs))
	for i, m := range msgs {
		raw, ok := m.Values["event"].(string)
		require.True(t, ok, "entry %s has no event field", m.ID)
		out[i] = &signalv1.SignalEvent{}
		require.NoError(t, proto.Unmarshal([]byte(raw), out[i]))
	}
	return out
}

func (b *bundle) claimExists(t *testing.T, ten tenant.ID, fp string) bool {
	t.Helper()
	n, err := b.rdb.Exists(context.Background(), b.space.Tenant(ten, rediskey.Dedup, fp)).Result()
	require.NoError(t, err)
	return n == 1
}

func TestIngestDedupLifecycle(t *testing.T) {
	t.Parallel()
	b := setup(t)

	first := b.ingest(t, "acme", payload(t, firing("aaaa0001")))
	require.Len(t, first, 1)
	require.Equal(t, ingestv1.Verdict_VERDICT_ACCEPTED, first[0].GetVerdict())
	require.Equal(t, "am:aaaa0001", first[0].GetFingerprint())
	require.Equal(t, "HighLatency summary", first[0].GetTitle())
	id := first[0].GetSignalId()
	require.Len(t, id, 36)

	repeat := b.ingest(t, "acme", payload(t, firing("aaaa0001")))
	require.Equal(t, ingestv1.Verdict_VERDICT_DUPLICATE, repeat[0].GetVerdict())
	require.Equal(t, id, repeat[0].GetSignalId())

	res := b.ingest(t, "acme", payload(t, resolved("aaaa0001")))
	require.Equal(t, ingestv1.Verdict_VERDICT_RESOLVED, res[0].GetVerdict())
	require.Equal(t, id, res[0].GetSignalId())
	require.False(t, b.claimExists(t, "acme", "am:aaaa0001"), "resolving releases the claim")

	again := b.ingest(t, "acme", payload(t, firing("aaaa0001")))
	require.Equal(t, ingestv1.Verdict_VERDICT_ACCEPTED, again[0].GetVerdict())
	require.NotEqual(t, id, again[0].GetSignalId())

	evs := b.events(t, "acme")
	require.Len(t, evs, 4)
	wantKinds := []signalv1.EventKind{
		signalv1.EventKind_EVENT_KIND_OPENED, signalv1.EventKind_EVENT_KIND_REPEATED,
		signalv1.EventKind_EVENT_KIND_RESOLVED, signalv1.EventKind_EVENT_KIND_OPENED,
	}
	wantIDs := []string{id, id, id, again[0].GetSignalId()}
	for i, ev := range evs {
		require.Equal(t, wantKinds[i], ev.GetKind(), "event %d", i)
		require.Equal(t, wantIDs[i], ev.GetSignalId(), "event %d", i)
		require.Equal(t, wantIDs[i], ev.GetSignal().GetId(), "event %d", i)
		require.Equal(t, "acme", ev.GetSignal().GetTenantId())
		require.Equal(t, "am:aaaa0001", ev.GetSignal().GetFingerprint())
		require.Equal(t, "alertmanager", ev.GetSignal().GetSource())
		require.NotNil(t, ev.GetSignal().GetReceivedAt())
	}
	require.Equal(t, signalv1.Status_STATUS_RESOLVED, evs[2].GetSignal().GetStatus())

	registry, err := b.rdb.SMembers(context.Background(), b.space.Global(rediskey.StreamRegistry)).Result()
	require.NoError(t, err)
	require.Equal(t, []string{"acme"}, registry)
}

func TestIngestGroupedPayload(t *testing.T) {
	t.Parallel()
	b := setup(t)
	results := b.ingest(t, "acme", payload(t, firing("g1"), resolved("g2"), firing("g3")))
	require.Len(t, results, 3)
	require.Equal(t, "am:g1", results[0].GetFingerprint())
	require.Equal(t, ingestv1.Verdict_VERDICT_ACCEPTED, results[0].GetVerdict())
	require.Equal(t, ingestv1.Verdict_VERDICT_RESOLVED, results[1].GetVerdict())
	require.Empty(t, results[1].GetSignalId(), "a resolve without a claim names no signal")
	require.Equal(t, "am:g3", results[2].GetFingerprint())
	require.Len(t, b.events(t, "acme"), 3)
}

func TestIngestConcurrentSameAlert(t *testing.T) {
	t.Parallel()
	const n = 50
	// Every call must run at once to race for the claim, so the dispatcher
	// must not turn any away.
	b := setup(t, withConfig(func(c *Config) { c.MaxInFlight, c.MaxInFlightPerTenant = n, n }))
	p := payload(t, firing("race0001"))

	results := make([]*ingestv1.IngestResult, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			resp, err := b.client.Ingest(as("acme"), &ingestv1.IngestRequest{Source: "alertmanager", Payload: p})
			errs[i] = err
			if err == nil {
				results[i] = resp.GetResults()[0]
			}
		})
	}
	wg.Wait()

	accepted := 0
	for i := range n {
		require.NoError(t, errs[i])
		if results[i].GetVerdict() == ingestv1.Verdict_VERDICT_ACCEPTED {
			accepted++
		} else {
			require.Equal(t, ingestv1.Verdict_VERDICT_DUPLICATE, results[i].GetVerdict())
		}
		require.Equal(t, results[0].GetSignalId(), results[i].GetSignalId())
	}
	require.Equal(t, 1, accepted)

	opened := 0
	evs := b.events(t, "acme")
	require.Len(t, evs, n)
	for _, ev := range evs {
		if ev.GetKind() == signalv1.EventKind_EVENT_KIND_OPENED {
			opened++
		}
	}
	require.Equal(t, 1, opened)
}

func TestIngestTenantsAreSeparate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := payload(t, firing("same0001"))
	a := b.ingest(t, "tenant-a", p)
	c := b.ingest(t, "tenant-b", p)
	require.Equal(t, ingestv1.Verdict_VERDICT_ACCEPTED, a[0].GetVerdict())
	require.Equal(t, ingestv1.Verdict_VERDICT_ACCEPTED, c[0].GetVerdict(), "one tenant's claim does not deduplicate another's alert")
	require.NotEqual(t, a[0].GetSignalId(), c[0].GetSignalId())

	for ten, id := range map[tenant.ID]string{"tenant-a": a[0].GetSignalId(), "tenant-b": c[0].GetSignalId()} {
		evs := b.events(t, ten)
		require.Len(t, evs, 1)
		require.Equal(t, string(ten), evs[0].GetSignal().GetTenantId())
		require.Equal(t, id, evs[0].GetSignalId())
		require.True(t, b.claimExists(t, ten, "am:same0001"))
	}
	registry, err := b.rdb.SMembers(context.Background(), b.space.Global(rediskey.StreamRegistry)).Result()
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"tenant-a", "tenant-b"}, registry)
}

func TestIngestRedisDown(t *testing.T) {
	t.Parallel()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := lis.Addr().String()
	require.NoError(t, lis.Close())
	down := redis.NewClient(&redis.Options{Addr: closed, MaxRetries: -1, DialerRetries: 1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = down.Close() })

	// With the rate limit on, its check is the first to fail and fails
	// closed; with it off, recording fails. Both answer the same.
	for _, rate := range []int{DefaultConfig().RatePerSecond, 0} {
		b := setup(t, withRedis(down), withConfig(func(c *Config) { c.RatePerSecond = rate }))

		_, err = b.client.Ingest(as("acme"), &ingestv1.IngestRequest{Source: "alertmanager", Payload: payload(t, firing("down0001"), firing("down0002"))})
		st := status.Convert(err)
		require.Equal(t, codes.Unavailable, st.Code(), "rate %d", rate)
		require.Equal(t, "signal store unavailable, retry", st.Message())
		require.Len(t, st.Details(), 1)
		require.IsType(t, &errdetails.RetryInfo{}, st.Details()[0])

		_, err = b.batch(t, "acme", payload(t, firing("down0003")))
		require.Equal(t, codes.Unavailable, status.Code(err), "rate %d", rate)

		require.Empty(t, b.events(t, "acme"))
		require.False(t, b.claimExists(t, "acme", "am:down0001"))
	}
}

func TestIngestRejectsBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t, withConfig(func(c *Config) { c.MaxPayloadBytes = 2048 }))
	cases := []struct {
		name   string
		req    *ingestv1.IngestRequest
		substr string
	}{
		{"unknown source", &ingestv1.IngestRequest{Source: "nagios", Payload: payload(t, firing("x"))}, "known sources are alertmanager"},
		{"not json", &ingestv1.IngestRequest{Source: "alertmanager", Payload: []byte("hello")}, "not a JSON Alertmanager notification"},
		{"no labels", &ingestv1.IngestRequest{Source: "alertmanager", Payload: []byte(`{"version":"4","alerts":[{"status":"firing"}]}`)}, "alert has no labels"},
		{"too large", &ingestv1.IngestRequest{Source: "alertmanager", Payload: []byte(strings.Repeat(" ", 4096))}, "payload too large"},
		{"bad source name", &ingestv1.IngestRequest{Source: "Alert Manager", Payload: payload(t, firing("x"))}, "source"},
		{"empty payload", &ingestv1.IngestRequest{Source: "alertmanager"}, "payload"},
	}
	for _, tc := range cases {
		_, err := b.client.Ingest(as("acme"), tc.req)
		require.Equal(t, codes.InvalidArgument, status.Code(err), tc.name)
		require.Contains(t, status.Convert(err).Message(), tc.substr, tc.name)
	}
	require.Empty(t, b.events(t, "acme"))
}

func TestIngestRawPayloadCap(t *testing.T) {
	t.Parallel()
	b := setup(t, withConfig(func(c *Config) { c.RawPayloadCap = 16 }))
	b.ingest(t, "acme", payload(t, firing("cap00001")))
	evs := b.events(t, "acme")
	require.Len(t, evs, 1)
	require.Len(t, evs[0].GetSignal().GetRawPayload(), 16)
	require.True(t, evs[0].GetSignal().GetRawTruncated())
}

func TestIngestRefusesCallsWithoutIdentity(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// A plain client: rpc.Dial would refuse to send a call without identity.
	cc, err := grpc.NewClient(b.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = cc.Close() })
	plain := ingestv1.NewIngestServiceClient(cc)

	_, err = plain.Ingest(context.Background(), &ingestv1.IngestRequest{Source: "alertmanager", Payload: payload(t, firing("x"))})
	require.Equal(t, codes.Unauthenticated, status.Code(err))

	stream, err := plain.IngestBatch(context.Background())
	require.NoError(t, err)
	_, err = stream.CloseAndRecv()
	require.Equal(t, codes.Unauthenticated, status.Code(err))
	require.Empty(t, b.events(t, "acme"))
}

func TestIngestBatch(t *testing.T) {
	t.Parallel()
	b := setup(t)
	stream, err := b.client.IngestBatch(as("acme"))
	require.NoError(t, err)
	items := []*ingestv1.IngestRequest{
		{Source: "alertmanager", Payload: payload(t, firing("b1"))},
		{Source: "alertmanager", Payload: []byte(`{"version":"2","alerts":[]}`)},
		{Source: "", Payload: payload(t, firing("b9"))},
		{Source: "alertmanager", Payload: payload(t, firing("b1"), firing("b2"), resolved("b3"))},
	}
	for _, it := range items {
		require.NoError(t, stream.Send(&ingestv1.IngestBatchRequest{Item: it}))
	}
	resp, err := stream.CloseAndRecv()
	require.NoError(t, err)

	got := resp.GetItems()
	require.Len(t, got, 4)
	for i, it := range got {
		require.Equal(t, int32(i), it.GetIndex())
	}
	require.Empty(t, got[0].GetRejectedReason())
	require.Len(t, got[0].GetResults(), 1)
	require.Equal(t, ingestv1.Verdict_VERDICT_ACCEPTED, got[0].GetResults()[0].GetVerdict())

	require.Contains(t, got[1].GetRejectedReason(), `version "2" is not supported`)
	require.Empty(t, got[1].GetResults())
	require.Contains(t, got[2].GetRejectedReason(), "source")
	require.Empty(t, got[2].GetResults())
	// Each rejection carries the code an Ingest of the item alone would
	// have failed with; a taken item carries none.
	require.EqualValues(t, codes.InvalidArgument, got[1].GetRejectedCode(), "normaliser refusal")
	require.EqualValues(t, codes.InvalidArgument, got[2].GetRejectedCode(), "validation refusal")
	require.Zero(t, got[0].GetRejectedCode())

	last := got[3].GetResults()
	require.Len(t, last, 3)
	require.Equal(t, ingestv1.Verdict_VERDICT_DUPLICATE, last[0].GetVerdict(), "the batch's own earlier item counts for dedup")
	require.Equal(t, got[0].GetResults()[0].GetSignalId(), last[0].GetSignalId())
	require.Equal(t, ingestv1.Verdict_VERDICT_ACCEPTED, last[1].GetVerdict())
	require.Equal(t, ingestv1.Verdict_VERDICT_RESOLVED, last[2].GetVerdict())

	evs := b.events(t, "acme")
	require.Len(t, evs, 4)
	for _, ev := range evs {
		require.NotEqual(t, "am:b9", ev.GetSignal().GetFingerprint(), "a rejected item is not stored")
	}
}

func TestIngestBatchTooManyItems(t *testing.T) {
	t.Parallel()
	b := setup(t, withConfig(func(c *Config) { c.MaxBatchItems = 2 }))
	stream, err := b.client.IngestBatch(as("acme"))
	require.NoError(t, err)
	for i := range 3 {
		// Send may already see the server's early answer; CloseAndRecv has it.
		if err := stream.Send(&ingestv1.IngestBatchRequest{Item: &ingestv1.IngestRequest{
			Source: "alertmanager", Payload: payload(t, firing(fmt.Sprintf("many%d", i))),
		}}); err != nil {
			break
		}
	}
	_, err = stream.CloseAndRecv()
	require.Equal(t, codes.ResourceExhausted, status.Code(err))
	require.Contains(t, status.Convert(err).Message(), "more than 2 items")
	var reason string
	for _, d := range status.Convert(err).Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok {
			reason = ei.GetReason()
		}
	}
	require.Equal(t, ReasonBatchTooLarge, reason, "the gateway turns this reason into 413, not a retry")
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	require.NoError(t, DefaultConfig().Validate())
	bad := DefaultConfig()
	bad.Namespace = "a{b}"
	bad.DedupWindow = 0
	bad.MaxPayloadBytes = 2 << 20
	bad.MaxJSONDepth = 0
	bad.RateBurst = 0
	bad.MaxInFlight = 8
	bad.MaxInFlightPerTenant = 9
	bad.InFlightWait = time.Minute
	err := bad.Validate()
	require.ErrorContains(t, err, "Namespace")
	require.ErrorContains(t, err, "DedupWindow")
	require.ErrorContains(t, err, "MaxPayloadBytes")
	require.ErrorContains(t, err, "MaxJSONDepth")
	require.ErrorContains(t, err, "RateBurst")
	require.ErrorContains(t, err, "MaxInFlightPerTenant 9 must be between 1 and MaxInFlight (8)")
	require.ErrorContains(t, err, "InFlightWait")
	require.NotContains(t, err.Error(), "RawPayloadCap")

	off := DefaultConfig()
	off.RatePerSecond, off.RateBurst = 0, 0
	require.NoError(t, off.Validate(), "a zero rate disables the limit, burst and all")
	off.RatePerSecond = -1
	require.ErrorContains(t, off.Validate(), "RatePerSecond")

	_, err = New(DefaultConfig(), Deps{})
	require.ErrorContains(t, err, "Deps.Redis is nil")
}

// An SNS subscription confirmation is not a signal: it is refused with
// FAILED_PRECONDITION saying what to do, and nothing is stored.
func TestIngestSNSConfirmationIsNotIngested(t *testing.T) {
	t.Parallel()
	b := setup(t)
	confirm := `{"Type": "SubscriptionConfirmation", "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
		"Token": "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad02428b09ceece29417f1f02d609c582afbacc99c583a916b9981dd2728f4ae6fdb82efd087cc3b7849e05798d2d2785c03b0879594eeac82c01f235d0e717736",
		"TopicArn": "arn:aws:sns:us-west-2:123456789012:MyTopic",
		"Message": "You have chosen to subscribe to the topic arn:aws:sns:us-west-2:123456789012:MyTopic.",
		"SubscribeURL": "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-west-2:123456789012:MyTopic&Token=2336412f37",
		"Timestamp": "2012-04-26T20:45:04.751Z", "SignatureVersion": "1", "Signature": "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=",
		"SigningCertURL": "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem"}`
	_, err := b.client.Ingest(as("acme"), &ingestv1.IngestRequest{
		Source: "sns", Payload: []byte(confirm), Headers: map[string]string{"x-amz-sns-message-type": "SubscriptionConfirmation"},
	})
	require.Equal(t, codes.FailedPrecondition, status.Code(err))
	require.Contains(t, status.Convert(err).Message(), "/v1/webhooks/sns")
	require.Empty(t, b.events(t, "acme"))
}
