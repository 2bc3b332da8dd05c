package orchestrator_test

import (
	"context"
	"crypto/rand"
	"github.com/jackc/pgx/v5"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	actionsv1 "github.com/alexus-platform/alexus/gen/alexus/actions/v1"
	knowledgev1 "github.com/alexus-platform/alexus/gen/alexus/knowledge/v1"
	orchestratorv1 "github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1"
	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/rediskey"
	"github.com/alexus-platform/alexus/internal/redistest"
	"github.com/alexus-platform/alexus/internal/rpc"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/orchestrator"
	"github.com/alexus-platform/alexus/services/orchestrator/incident"
	"github.com/alexus-platform/alexus/services/orchestrator/reasoning"
)

const (
	acme   = tenant.ID("acme")
	globex = tenant.ID("globex")
)

// fakeActions is a small ActionService that records its calls and honours
// idempotency keys the way the real one does.
type fakeActions struct {
	actionsv1.UnimplementedActionServiceServer
	mu    sync.Mutex
	calls []actionCall
	byKey map[string]*actionsv1.Action
	// failures is how many calls to fail with UNAVAILABLE before succeeding.
	failures atomic.Int32
	// refuse, when set, answers a call with its error instead, before the
	// call is recorded as an action (as the real plane refuses a request).
	refuse func(*actionsv1.ExecuteActionRequest) error
}

// setRefuse makes the plane refuse the requests fn returns an error for.
func (f *fakeActions) setRefuse(fn func(*actionsv1.ExecuteActionRequest) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refuse = fn
}

type actionCall struct {
	id  tenant.Identity
	req *actionsv1.ExecuteActionRequest
}

func (f *fakeActions) ExecuteAction(ctx context.Context, req *actionsv1.ExecuteActionRequest) (*actionsv1.ExecuteActionResponse, error) {
	id, _ := tenant.FromContext(ctx)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, actionCall{id: id, req: req})
	if f.failures.Add(-1) >= 0 {
		return nil, status.Error(codes.Unavailable, "action plane briefly down")
	}
	if f.refuse != nil {
		if err := f.refuse(req); err != nil {
			return nil, err
		}
	}
	k := string(id.Tenant) + "/" + req.GetIdempotencyKey()
	if a, ok := f.byKey[k]; ok {
		return &actionsv1.ExecuteActionResponse{Action: a, Replayed: true}, nil
	}
	a := &actionsv1.Action{Id: uuid.NewString(), IdempotencyKey: req.GetIdempotencyKey(), IncidentId: req.GetIncidentId(),
		Kind: req.GetKind(), Status: actionsv1.ActionStatus_ACTION_STATUS_PENDING, CreatedAt: timestamppb.Now(), UpdatedAt: timestamppb.Now()}
	f.byKey[k] = a
	return &actionsv1.ExecuteActionResponse{Action: a}, nil
}

func (f *fakeActions) recorded() []actionCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]actionCall(nil), f.calls...)
}

// countingReasoning counts the pipeline's reasoning calls on their way to
// the real service.
type countingReasoning struct {
	reasoningv1.ReasoningServiceClient
	classify, diagnose, check atomic.Int32
	// classifyFailures is how many classify calls fail with UNAVAILABLE
	// before they reach the service.
	classifyFailures atomic.Int32
}

func (c *countingReasoning) ClassifyIncident(ctx context.Context, in *reasoningv1.ClassifyIncidentRequest, opts ...grpc.CallOption) (*reasoningv1.ClassifyIncidentResponse, error) {
	c.classify.Add(1)
	if c.classifyFailures.Add(-1) >= 0 {
		return nil, status.Error(codes.Unavailable, "reasoning briefly down")
	}
	return c.ReasoningServiceClient.ClassifyIncident(ctx, in, opts...)
}

func (c *countingReasoning) Diagnose(ctx context.Context, in *reasoningv1.DiagnoseRequest, opts ...grpc.CallOption) (*reasoningv1.DiagnoseResponse, error) {
	c.diagnose.Add(1)
	return c.ReasoningServiceClient.Diagnose(ctx, in, opts...)
}

func (c *countingReasoning) CheckConfidence(ctx context.Context, in *reasoningv1.CheckConfidenceRequest, opts ...grpc.CallOption) (*reasoningv1.CheckConfidenceResponse, error) {
	c.check.Add(1)
	return c.ReasoningServiceClient.CheckConfidence(ctx, in, opts...)
}

type bundle struct {
	db        *store.DB
	rdb       *redis.Client
	space     rediskey.Space
	cfg       orchestrator.Config
	secret    []byte
	signer    *tenant.Signer
	addr      string
	actions   *fakeActions
	reasoning *countingReasoning
	client    orchestratorv1.OrchestratorServiceClient
	knowledge knowledgev1.KnowledgeServiceClient
}

// setup starts an orchestrator on a fresh database and Redis namespace,
// with acme and globex provisioned and a recording ActionService, and stops
// it when the test ends. mutate adjusts the config before start.
func setup(t *testing.T, mutate ...func(*orchestrator.Config)) *bundle {
	t.Helper()
	log := zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	db := storetest.New(t).DB
	rdb, space := redistest.New(t)
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	signer, err := tenant.NewSigner(secret, 0)
	require.NoError(t, err)
	verifier, err := tenant.NewVerifier(secret)
	require.NoError(t, err)
	for _, tn := range []tenant.ID{acme, globex} {
		_, err := provision.EnsureTenant(as(tn), db, provision.TenantOptions{})
		require.NoError(t, err)
	}

	actions := &fakeActions{byKey: map[string]*actionsv1.Action{}}
	actionsSrv, _, err := rpc.NewServer(log, verifier)
	require.NoError(t, err)
	actionsv1.RegisterActionServiceServer(actionsSrv, actions)
	actionsLis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = actionsSrv.Serve(actionsLis) }()
	t.Cleanup(actionsSrv.Stop)
	actionsConn, err := rpc.Dial(actionsLis.Addr().String(), signer)
	require.NoError(t, err)
	t.Cleanup(func() { _ = actionsConn.Close() })

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	conn, err := rpc.Dial(lis.Addr().String(), signer)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })

	cfg := orchestrator.DefaultConfig()
	cfg.Namespace = space
	cfg.Consumer = "live"
	cfg.Concurrency = 8
	cfg.Block = 100 * time.Millisecond
	cfg.DiscoverInterval = 50 * time.Millisecond
	cfg.ClaimInterval = 50 * time.Millisecond
	cfg.ClaimMinIdle = 5 * time.Second
	cfg.EntryTimeout = 2 * time.Second
	for _, m := range mutate {
		m(&cfg)
	}
	reasoning := &countingReasoning{ReasoningServiceClient: reasoningv1.NewReasoningServiceClient(conn)}
	svc, err := orchestrator.New(cfg, orchestrator.Deps{
		Log:       log,
		DB:        db,
		Redis:     rdb,
		Verifier:  verifier,
		Reasoning: reasoning,
		Actions:   actionsv1.NewActionServiceClient(actionsConn),
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx, lis) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	return &bundle{
		db: db, rdb: rdb, space: space, cfg: cfg, secret: secret, signer: signer, addr: lis.Addr().String(),
		actions: actions, reasoning: reasoning, client: orchestratorv1.NewOrchestratorServiceClient(conn),
		knowledge: knowledgev1.NewKnowledgeServiceClient(conn),
	}
}

// as is a context acting for tn, as the gateway would establish it.
func as(tn tenant.ID) context.Context {
	return tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: tn, Subject: "user:test"})
}

// alert is a firing Alertmanager alert as ingest normalises it.
func alert(tn tenant.ID) *signalv1.Signal {
	return &signalv1.Signal{
		Id:          uuid.NewString(),
		TenantId:    string(tn),
		Source:      "alertmanager",
		Fingerprint: "fp-" + uuid.NewString()[:8],
		Status:      signalv1.Status_STATUS_FIRING,
		Severity:    signalv1.Severity_SEVERITY_CRITICAL,
		Title:       "High error rate on checkout",
		Resource:    "checkout-1:8080",
		Labels:      map[string]string{"alertname": "HighErrorRate", "severity": "critical", "instance": "checkout-1:8080"},
		Annotations: map[string]string{"summary": "High error rate on checkout", "runbook_url": "https://runbooks.example.com/checkout"},
		StartsAt:    timestamppb.New(time.Now().Add(-time.Minute)),
		ReceivedAt:  timestamppb.Now(),
		RawPayload:  []byte(`{"version":"4"}`),
	}
}

func event(kind signalv1.EventKind, sig *signalv1.Signal) *signalv1.SignalEvent {
	return &signalv1.SignalEvent{Kind: kind, SignalId: sig.GetId(), Signal: sig}
}

// publish appends ev to tn's stream the way ingest does and returns the
// entry ID.
func (b *bundle) publish(t *testing.T, tn tenant.ID, ev *signalv1.SignalEvent) string {
	t.Helper()
	raw, err := proto.Marshal(ev)
	require.NoError(t, err)
	return b.publishRaw(t, tn, raw)
}

func (b *bundle) publishRaw(t *testing.T, tn tenant.ID, raw []byte) string {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, b.rdb.SAdd(ctx, b.space.Global(rediskey.StreamRegistry), string(tn)).Err())
	id, err := b.rdb.XAdd(ctx, &redis.XAddArgs{Stream: b.space.Tenant(tn, rediskey.SignalStream), Values: map[string]any{"event": raw}}).Result()
	require.NoError(t, err)
	return id
}

// waitSettled waits until the group has delivered entry id of tn's stream
// and nothing is pending: the entry was processed and acknowledged (or
// dead-lettered).
func (b *bundle) waitSettled(t *testing.T, tn tenant.ID, id string) {
	t.Helper()
	stream := b.space.Tenant(tn, rediskey.SignalStream)
	require.Eventually(t, func() bool {
		groups, err := b.rdb.XInfoGroups(context.Background(), stream).Result()
		if err != nil || len(groups) != 1 {
			return false
		}
		g := groups[0]
		return g.Pending == 0 && !streamIDLess(g.LastDeliveredID, id)
	}, 15*time.Second, 10*time.Millisecond)
}

// streamIDLess orders stream entry IDs ("<ms>-<seq>"); an ID that does not
// parse counts as less, so waiting goes on.
func streamIDLess(a, b string) bool {
	pa, okA := parseStreamID(a)
	pb, okB := parseStreamID(b)
	if !okA || !okB {
		return true
	}
	return pa[0] < pb[0] || (pa[0] == pb[0] && pa[1] < pb[1])
}

func parseStreamID(id string) ([2]uint64, bool) {
	ms, seq, ok := strings.Cut(id, "-")
	m, err1 := strconv.ParseUint(ms, 10, 64)
	s, err2 := strconv.ParseUint(seq, 10, 64)
	return [2]uint64{m, s}, ok && err1 == nil && err2 == nil
}

// getIncident polls until the incident of sig has reached stage.
func (b *bundle) waitStage(t *testing.T, tn tenant.ID, sigID string, stage orchestratorv1.Stage) *orchestratorv1.GetIncidentResponse {
	t.Helper()
	var got *orchestratorv1.GetIncidentResponse
	require.Eventually(t, func() bool {
		resp, err := b.client.GetIncident(as(tn), &orchestratorv1.GetIncidentRequest{Id: incident.IDFor(tn, sigID)})
		if err != nil {
			return false
		}
		for _, tr := range resp.GetTransitions() {
			if tr.GetStage() == stage {
				got = resp
				return true
			}
		}
		return false
	}, 15*time.Second, 10*time.Millisecond)
	return got
}

func stages(trs []*orchestratorv1.Transition) []orchestratorv1.Stage {
	var out []orchestratorv1.Stage
	for _, tr := range trs {
		out = append(out, tr.GetStage())
	}
	return out
}

var pipelineStages = []orchestratorv1.Stage{
	orchestratorv1.Stage_STAGE_RECEIVED,
	orchestratorv1.Stage_STAGE_CLASSIFY,
	orchestratorv1.Stage_STAGE_BRANCH,
	orchestratorv1.Stage_STAGE_CONFIDENCE,
	orchestratorv1.Stage_STAGE_EXECUTE,
}

func (b *bundle) watch(t *testing.T, tn tenant.ID, incidentID string) grpc.ServerStreamingClient[orchestratorv1.WatchIncidentsResponse] {
	t.Helper()
	ctx, cancel := context.WithCancel(as(tn))
	t.Cleanup(cancel)
	stream, err := b.client.WatchIncidents(ctx, &orchestratorv1.WatchIncidentsRequest{IncidentId: incidentID})
	require.NoError(t, err)
	// The first message, without a transition, says the subscription is live.
	first, err := stream.Recv()
	require.NoError(t, err)
	require.Nil(t, first.GetTransition(), "the first message is the subscribed marker")
	return stream
}

func TestOpenedAlertRunsPipelineToExecute(t *testing.T) {
	t.Parallel()
	b := setup(t)
	acmeWatch := b.watch(t, acme, "")
	globexWatch := b.watch(t, globex, "")

	sig := alert(acme)
	b.publish(t, acme, event(signalv1.EventKind_EVENT_KIND_OPENED, sig))
	incID := incident.IDFor(acme, sig.GetId())

	// The watcher of the same tenant sees every stage, in order.
	for i, want := range pipelineStages {
		msg, err := acmeWatch.Recv()
		require.NoError(t, err)
		require.Equal(t, want, msg.GetTransition().GetStage(), "transition %d", i)
		require.Equal(t, int64(i+1), msg.GetTransition().GetSequence())
		require.Equal(t, incID, msg.GetIncident().GetId())
	}

	resp := b.waitStage(t, acme, sig.GetId(), orchestratorv1.Stage_STAGE_EXECUTE)
	require.Equal(t, pipelineStages, stages(resp.GetTransitions()))
	inc := resp.GetIncident()
	require.Equal(t, reasoningv1.Intent_INTENT_INCIDENT, inc.GetIntent())
	require.Equal(t, signalv1.Severity_SEVERITY_CRITICAL, inc.GetSeverity())
	require.Equal(t, reasoningv1.Decision_DECISION_EXECUTE, inc.GetDecision())
	require.Equal(t, orchestratorv1.Stage_STAGE_EXECUTE, inc.GetStage())
	require.Equal(t, orchestratorv1.IncidentStatus_INCIDENT_STATUS_OPEN, inc.GetStatus())
	require.Equal(t, int64(1), inc.GetOccurrenceCount())
	require.Equal(t, sig.GetFingerprint(), inc.GetFingerprint())
	confidence := resp.GetTransitions()[3].GetDetails()
	require.Equal(t, "execute", confidence["decision"])
	require.Equal(t, "0.80", confidence["execute_at"])
	require.Equal(t, "0.50", confidence["clarify_at"])
	require.Equal(t, "defaults", confidence["thresholds"])
	// Every reasoning stage records its path, why it took it, and its
	// latency; the branch also its runbook.
	for _, tr := range resp.GetTransitions()[1:4] {
		_, err := strconv.Atoi(tr.GetDetails()["latency_ms"])
		require.NoError(t, err, "stage %s records its latency: %v", tr.GetStage(), tr.GetDetails())
	}
	for _, tr := range resp.GetTransitions()[1:3] {
		require.Equal(t, "heuristic", tr.GetDetails()["path"])
		require.Equal(t, reasoning.NoModel, tr.GetDetails()["fallback_reason"])
	}
	require.Equal(t, "https://runbooks.example.com/checkout", resp.GetTransitions()[2].GetDetails()["runbook"])

	calls := b.actions.recorded()
	require.Len(t, calls, 1)
	require.Equal(t, "incident/"+incID+"/execute", calls[0].req.GetIdempotencyKey())
	require.Equal(t, actionsv1.ActionKind_ACTION_KIND_WEBHOOK, calls[0].req.GetKind())
	require.Equal(t, "default", calls[0].req.GetWebhook().GetTarget())
	require.Equal(t, incID, calls[0].req.GetIncidentId())
	require.Equal(t, acme, calls[0].id.Tenant, "the action is signed for the stream's tenant")
	require.Equal(t, "system:orchestrator", calls[0].id.Subject)
	require.Equal(t, resp.GetTransitions()[4].GetDetails()["action_id"], b.actions.byKey["acme/"+calls[0].req.GetIdempotencyKey()].GetId())

	// Globex's watcher saw none of it: the first thing it receives is its
	// own incident, published after all of acme's transitions.
	other := alert(globex)
	b.publish(t, globex, event(signalv1.EventKind_EVENT_KIND_OPENED, other))
	msg, err := globexWatch.Recv()
	require.NoError(t, err)
	require.Equal(t, incident.IDFor(globex, other.GetId()), msg.GetIncident().GetId())
	require.Equal(t, orchestratorv1.Stage_STAGE_RECEIVED, msg.GetTransition().GetStage())
}

func TestWatchFiltersByIncident(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first, second := alert(acme), alert(acme)
	w := b.watch(t, acme, incident.IDFor(acme, second.GetId()))
	b.publish(t, acme, event(signalv1.EventKind_EVENT_KIND_OPENED, first))
	b.publish(t, acme, event(signalv1.EventKind_EVENT_KIND_OPENED, second))
	for range pipelineStages {
		msg, err := w.Recv()
		require.NoError(t, err)
		require.Equal(t, incident.IDFor(acme, second.GetId()), msg.GetTransition().GetIncidentId())
	}
}

func TestWatchersPerTenantAreLimited(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *orchestrator.Config) { c.MaxWatchersPerTenant = 2 })
	// open starts a watch for tn and returns the function that ends it and
	// the error of its first answer.
	open := func(tn tenant.ID) (context.CancelFunc, error) {
		ctx, cancel := context.WithCancel(as(tn))
		t.Cleanup(cancel)
		stream, err := b.client.WatchIncidents(ctx, &orchestratorv1.WatchIncidentsRequest{})
		if err == nil {
			_, err = stream.Recv()
		}
		return cancel, err
	}
	first, err := open(acme)
	require.NoError(t, err)
	_, err = open(acme)
	require.NoError(t, err)

	_, err = open(acme)
	require.Equal(t, codes.ResourceExhausted, status.Code(err), "%v", err)
	require.Contains(t, status.Convert(err).Message(), "too many watchers for tenant")
	_, err = open(globex)
	require.NoError(t, err, "the limit is per tenant")

	// Ending a watch frees its slot; the server notices the cancellation
	// shortly after the client.
	first()
	var last error
	require.Eventually(t, func() bool {
		cancel, err := open(acme)
		if err != nil {
			cancel()
		}
		last = err
		return err == nil
	}, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, last)
}

func TestRepeatedAndResolved(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sig := alert(acme)
	b.publish(t, acme, event(signalv1.EventKind_EVENT_KIND_OPENED, sig))
	b.waitStage(t, acme, sig.GetId(), orchestratorv1.Stage_STAGE_EXECUTE)

	rep := proto.CloneOf(sig)
	rep.ReceivedAt = timestamppb.New(time.Now().Add(time.Second))
	b.publish(t, acme, event(signalv1.EventKind_EVENT_KIND_REPEATED, rep))
	resp := b.waitStage(t, acme, sig.GetId(), orchestratorv1.Stage_STAGE_REPEATED)
	require.Equal(t, int64(2), resp.GetIncident().GetOccurrenceCount())
	require.Equal(t, orchestratorv1.Stage_STAGE_EXECUTE, resp.GetIncident().GetStage(), "a repeat is counted, not a stage reached")

	res := proto.CloneOf(sig)
	res.Status = signalv1.Status_STATUS_RESOLVED
	res.EndsAt = timestamppb.Now()
	resolvedEntry := b.publish(t, acme, event(signalv1.EventKind_EVENT_KIND_RESOLVED, res))
	resp = b.waitStage(t, acme, sig.GetId(), orchestratorv1.Stage_STAGE_RESOLVED)
	require.Equal(t, orchestratorv1.IncidentStatus_INCIDENT_STATUS_RESOLVED, resp.GetIncident().GetStatus())
	require.Equal(t, orchestratorv1.Stage_STAGE_RESOLVED, resp.GetIncident().GetStage())
	require.NotNil(t, resp.GetIncident().GetResolvedAt())
	b.waitSettled(t, acme, resolvedEntry)

	// A second resolved notification, this time by fingerprint only (the
	// dedup claim had expired), is a no-op.
	byFP := event(signalv1.EventKind_EVENT_KIND_RESOLVED, res)
	byFP.SignalId = ""
	b.waitSettled(t, acme, b.publish(t, acme, byFP))
	got, err := b.client.GetIncident(as(acme), &orchestratorv1.GetIncidentRequest{Id: resp.GetIncident().GetId()})
	require.NoError(t, err)
	require.Len(t, got.GetTransitions(), len(resp.GetTransitions()))
	require.Equal(t, int64(2), got.GetIncident().GetOccurrenceCount())
}

func TestResolvedByFingerprint(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sig := alert(acme)
	b.publish(t, acme, event(signalv1.EventKind_EVENT_KIND_OPENED, sig))
	b.waitStage(t, acme, sig.GetId(), orchestratorv1.Stage_STAGE_EXECUTE)

	res := proto.CloneOf(sig)
	res.Id, res.Status = "", signalv1.Status_STATUS_RESOLVED
	b.publish(t, acme, &signalv1.SignalEvent{Kind: signalv1.EventKind_EVENT_KIND_RESOLVED, Signal: res})
	resp := b.waitStage(t, acme, sig.GetId(), orchestratorv1.Stage_STAGE_RESOLVED)
	require.Equal(t, orchestratorv1.IncidentStatus_INCIDENT_STATUS_RESOLVED, resp.GetIncident().GetStatus())
}

// The same OPENED event in a second stream entry (which ingest never
// writes, but a person replaying a stream might) is taken for new on its
// first delivery: its stages are answered again in memory, and then, as
// the signal is found stored, nothing is stored or executed twice.
func TestDuplicateOpenedEntryStoresAndExecutesNothingTwice(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sig := alert(acme)
	ev := event(signalv1.EventKind_EVENT_KIND_OPENED, sig)
	b.publish(t, acme, ev)
	first := b.waitStage(t, acme, sig.GetId(), orchestratorv1.Stage_STAGE_EXECUTE)
	require.Equal(t, int32(1), b.reasoning.classify.Load())

	b.waitSettled(t, acme, b.publish(t, acme, ev))

	again, err := b.client.GetIncident(as(acme), &orchestratorv1.GetIncidentRequest{Id: first.GetIncident().GetId()})
	require.NoError(t, err)
	require.Equal(t, pipelineStages, stages(again.GetTransitions()), "no duplicate transitions")
	require.Len(t, b.actions.recorded(), 1, "no second ExecuteAction")
	require.Equal(t, int32(2), b.reasoning.classify.Load(), "answered again in memory, stored once")
	require.Equal(t, int32(2), b.reasoning.check.Load())
}

func TestFailedExecuteResumesWithoutRerunningStages(t *testing.T) {
	t.Parallel()
	// The entry timeout leaves room for a slow Postgres under -race on a
	// busy machine: a stage whose result could not be stored in time is
	// not finished, and would rightly run again.
	b := setup(t, func(c *orchestrator.Config) {
		c.ClaimMinIdle, c.EntryTimeout = 2100*time.Millisecond, time.Second
	})
	b.actions.failures.Store(1)
	sig := alert(acme)
	b.publish(t, acme, event(signalv1.EventKind_EVENT_KIND_OPENED, sig))

	resp := b.waitStage(t, acme, sig.GetId(), orchestratorv1.Stage_STAGE_EXECUTE)
	require.Equal(t, pipelineStages, stages(resp.GetTransitions()))
	calls := b.actions.recorded()
	require.Len(t, calls, 2, "one failed call, one retried")
	require.Equal(t, calls[0].req.GetIdempotencyKey(), calls[1].req.GetIdempotencyKey())
	require.Equal(t, int32(1), b.reasoning.classify.Load(), "finished stages are not run again")
	require.Equal(t, int32(1), b.reasoning.diagnose.Load())
	require.Equal(t, int32(1), b.reasoning.check.Load())
}

func TestPoisonEntriesAreDeadLettered(t *testing.T) {
	t.Parallel()
	b := setup(t)
	garbage := b.publishRaw(t, acme, []byte("\xff\xfe this is not a signal event"))
	foreign := alert(globex)
	mismatch := b.publish(t, acme, event(signalv1.EventKind_EVENT_KIND_OPENED, foreign))
	b.waitSettled(t, acme, mismatch)

	dead, err := b.rdb.XRange(context.Background(), b.space.Tenant(acme, rediskey.DeadLetters), "-", "+").Result()
	require.NoError(t, err)
	require.Len(t, dead, 2)
	// The two entries went to different workers, so either may be first.
	errs := map[any]any{}
	for _, d := range dead {
		errs[d.Values["entry_id"]] = d.Values["error"]
	}
	require.Contains(t, errs[garbage], "decode signal event")
	require.Contains(t, errs[mismatch], `names tenant "globex"`)

	_, err = b.client.GetIncident(as(globex), &orchestratorv1.GetIncidentRequest{Id: incident.IDFor(globex, foreign.GetId())})
	require.Equal(t, codes.NotFound, status.Code(err), "nothing was stored for either tenant")
	_, err = b.client.GetIncident(as(acme), &orchestratorv1.GetIncidentRequest{Id: incident.IDFor(acme, foreign.GetId())})
	require.Equal(t, codes.NotFound, status.Code(err))
}

func TestFailingEntryDeadLetteredAfterMaxDeliveries(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *orchestrator.Config) {
		c.ClaimMinIdle, c.EntryTimeout = 400*time.Millisecond, 150*time.Millisecond
		c.ClaimInterval = 20 * time.Millisecond
		c.MaxDeliveries = 2
	})
	// A repeat of a signal that was never opened can never succeed.
	orphan := alert(acme)
	b.publish(t, acme, event(signalv1.EventKind_EVENT_KIND_REPEATED, orphan))

	stream := b.space.Tenant(acme, rediskey.DeadLetters)
	require.Eventually(t, func() bool {
		n, err := b.rdb.XLen(context.Background(), stream).Result()
		return err == nil && n == 1
	}, 15*time.Second, 10*time.Millisecond)
	dead, err := b.rdb.XRange(context.Background(), stream, "-", "+").Result()
	require.NoError(t, err)
	require.Equal(t, "2", dead[0].Values["deliveries"])
	require.Contains(t, dead[0].Values["error"], "signal not found")
	p, err := b.rdb.XPending(context.Background(), b.space.Tenant(acme, rediskey.SignalStream), b.cfg.Group).Result()
	require.NoError(t, err)
	require.Zero(t, p.Count)
}

// A first delivery keeps its new signal in memory until its first stages
// are stored. When it fails before that and the consumer gives up on the
// entry, the signal is stored then, and its incident still escalates to a
// person.
func TestGivingUpOnANewSignalNeverStoredStillEscalatesIt(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *orchestrator.Config) {
		c.ClaimMinIdle, c.EntryTimeout = 400*time.Millisecond, 150*time.Millisecond
		c.ClaimInterval = 20 * time.Millisecond
		c.MaxDeliveries = 1
	})
	b.reasoning.classifyFailures.Store(1)
	sig := alert(acme)
	b.publish(t, acme, event(signalv1.EventKind_EVENT_KIND_OPENED, sig))

	resp := b.waitStage(t, acme, sig.GetId(), orchestratorv1.Stage_STAGE_ESCALATE)
	require.Equal(t, []orchestratorv1.Stage{orchestratorv1.Stage_STAGE_RECEIVED, orchestratorv1.Stage_STAGE_ESCALATE},
		stages(resp.GetTransitions()))
	require.Contains(t, resp.GetTransitions()[1].GetSummary(), "reasoning briefly down")
	require.Empty(t, b.actions.recorded(), "nothing executed")
	require.Eventually(t, func() bool {
		n, err := b.rdb.XLen(context.Background(), b.space.Tenant(acme, rediskey.DeadLetters)).Result()
		return err == nil && n == 1
	}, 5*time.Second, 10*time.Millisecond, "the entry is dead-lettered after the escalation")
}

func TestEntriesOfDeadConsumerAreReclaimed(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *orchestrator.Config) {
		c.ClaimMinIdle, c.EntryTimeout = 700*time.Millisecond, 300*time.Millisecond
	})
	ctx := context.Background()
	stream := b.space.Tenant(acme, rediskey.SignalStream)
	// The stream is not registered yet, so the live consumer cannot see it
	// while a replica named "dead" reads the entry and dies without acking.
	require.NoError(t, b.rdb.XGroupCreateMkStream(ctx, stream, b.cfg.Group, "0").Err())
	sig := alert(acme)
	raw, err := proto.Marshal(event(signalv1.EventKind_EVENT_KIND_OPENED, sig))
	require.NoError(t, err)
	id, err := b.rdb.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: map[string]any{"event": raw}}).Result()
	require.NoError(t, err)
	read, err := b.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: b.cfg.Group, Consumer: "dead", Streams: []string{stream, ">"}, Count: 10}).Result()
	require.NoError(t, err)
	require.Len(t, read[0].Messages, 1)

	// Registering the stream lets the live consumer find it; reading new
	// entries gives it nothing, so only a reclaim can process the entry.
	require.NoError(t, b.rdb.SAdd(ctx, b.space.Global(rediskey.StreamRegistry), string(acme)).Err())
	resp := b.waitStage(t, acme, sig.GetId(), orchestratorv1.Stage_STAGE_EXECUTE)
	require.Equal(t, pipelineStages, stages(resp.GetTransitions()))
	b.waitSettled(t, acme, id)
}

func TestListIncidentsNewestFirst(t *testing.T) {
	t.Parallel()
	b := setup(t)
	st := incident.NewStore(b.db)
	var ids []string
	for range 5 {
		sig := alert(acme)
		op, err := st.Open(as(acme), sig)
		require.NoError(t, err)
		ids = append(ids, op.Incident.ID)
	}
	_, err := st.Open(as(globex), alert(globex))
	require.NoError(t, err)

	var got []string
	token := ""
	for page := 0; ; page++ {
		require.Less(t, page, 5, "pagination must end")
		resp, err := b.client.ListIncidents(as(acme), &orchestratorv1.ListIncidentsRequest{PageSize: 2, PageToken: token})
		require.NoError(t, err)
		require.LessOrEqual(t, len(resp.GetIncidents()), 2)
		for _, inc := range resp.GetIncidents() {
			got = append(got, inc.GetId())
		}
		token = resp.GetNextPageToken()
		if token == "" {
			break
		}
	}
	want := make([]string, len(ids))
	for i, id := range ids {
		want[len(ids)-1-i] = id
	}
	require.Equal(t, want, got, "newest first, each once")

	all, err := b.client.ListIncidents(as(acme), &orchestratorv1.ListIncidentsRequest{})
	require.NoError(t, err)
	require.Len(t, all.GetIncidents(), 5, "page_size 0 means the default page")
	require.Empty(t, all.GetNextPageToken())

	other, err := b.client.ListIncidents(as(globex), &orchestratorv1.ListIncidentsRequest{})
	require.NoError(t, err)
	require.Len(t, other.GetIncidents(), 1, "globex sees only its own")

	_, err = b.client.ListIncidents(as(acme), &orchestratorv1.ListIncidentsRequest{PageToken: "not-a-token"})
	require.Equal(t, codes.InvalidArgument, status.Code(err))
}

func TestGetIncidentOfAnotherTenantIsNotFound(t *testing.T) {
	t.Parallel()
	b := setup(t)
	op, err := incident.NewStore(b.db).Open(as(acme), alert(acme))
	require.NoError(t, err)

	got, err := b.client.GetIncident(as(acme), &orchestratorv1.GetIncidentRequest{Id: op.Incident.ID})
	require.NoError(t, err)
	require.Equal(t, op.Incident.ID, got.GetIncident().GetId())

	_, err = b.client.GetIncident(as(globex), &orchestratorv1.GetIncidentRequest{Id: op.Incident.ID})
	require.Equal(t, codes.NotFound, status.Code(err))
	_, err = b.client.GetIncident(as(acme), &orchestratorv1.GetIncidentRequest{Id: uuid.NewString()})
	require.Equal(t, codes.NotFound, status.Code(err))
	_, err = b.client.GetIncident(as(acme), &orchestratorv1.GetIncidentRequest{Id: "not-a-uuid"})
	require.Equal(t, codes.InvalidArgument, status.Code(err))
}

func TestConfigValidateNamesField(t *testing.T) {
	t.Parallel()
	require.NoError(t, orchestrator.DefaultConfig().Validate())
	tests := map[string]func(*orchestrator.Config){
		"concurrency":    func(c *orchestrator.Config) { c.Concurrency = 0 },
		"max deliveries": func(c *orchestrator.Config) { c.MaxDeliveries = 0 },
		"clarify at":     func(c *orchestrator.Config) { c.ClarifyAt = 0.9 },
		"execute at":     func(c *orchestrator.Config) { c.ExecuteAt = 1.5 },
		"namespace":      func(c *orchestrator.Config) { c.Namespace = "a{b" },
		"claim min idle": func(c *orchestrator.Config) { c.ClaimMinIdle = 0 },
		"claim min idle 1m0s must be more than twice entry timeout 30s": func(c *orchestrator.Config) { c.ClaimMinIdle = 2 * c.EntryTimeout },
		"entry timeout":           func(c *orchestrator.Config) { c.EntryTimeout = 0 },
		"max watchers per tenant": func(c *orchestrator.Config) { c.MaxWatchersPerTenant = 0 },
		"quality gate delay":      func(c *orchestrator.Config) { c.QualityGate.Delay = 0 },
		"quality gate workers":    func(c *orchestrator.Config) { c.QualityGate.Workers = 0 },
	}
	for field, mutate := range tests {
		c := orchestrator.DefaultConfig()
		mutate(&c)
		err := c.Validate()
		require.Error(t, err, field)
		require.Contains(t, err.Error(), field)
	}
}

func TestEveryRPCRequiresAVerifiedIdentity(t *testing.T) {
	t.Parallel()
	b := setup(t)
	conn, err := grpc.NewClient(b.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })

	otherKey := make([]byte, 32)
	_, _ = rand.Read(otherKey)
	foreignSigner, err := tenant.NewSigner(otherKey, 0)
	require.NoError(t, err)
	foreign, err := foreignSigner.Sign(tenant.Identity{Tenant: acme, Subject: "user:test"})
	require.NoError(t, err)
	expired, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"tenant_id": string(acme),
		"iss":       "alexus",
		"aud":       []string{"alexus-internal"},
		"sub":       "user:test",
		"iat":       time.Now().Add(-10 * time.Minute).Unix(),
		"nbf":       time.Now().Add(-10 * time.Minute).Unix(),
		"exp":       time.Now().Add(-5 * time.Minute).Unix(),
	}).SignedString(b.secret)
	require.NoError(t, err)

	reasoningClient := reasoningv1.NewReasoningServiceClient(conn)
	orchClient := orchestratorv1.NewOrchestratorServiceClient(conn)
	sig := alert(acme)
	cls := &reasoningv1.Classification{Intent: reasoningv1.Intent_INTENT_INCIDENT}
	diag := &reasoningv1.Diagnosis{Branch: reasoningv1.Branch_BRANCH_INCIDENT}
	rpcs := map[string]func(context.Context) error{
		"ClassifyIncident": func(ctx context.Context) error {
			_, err := reasoningClient.ClassifyIncident(ctx, &reasoningv1.ClassifyIncidentRequest{Signal: sig})
			return err
		},
		"Diagnose": func(ctx context.Context) error {
			_, err := reasoningClient.Diagnose(ctx, &reasoningv1.DiagnoseRequest{Signal: sig, Classification: cls})
			return err
		},
		"CheckConfidence": func(ctx context.Context) error {
			_, err := reasoningClient.CheckConfidence(ctx, &reasoningv1.CheckConfidenceRequest{Classification: cls, Diagnosis: diag})
			return err
		},
		"GetIncident": func(ctx context.Context) error {
			_, err := orchClient.GetIncident(ctx, &orchestratorv1.GetIncidentRequest{Id: uuid.NewString()})
			return err
		},
		"ListIncidents": func(ctx context.Context) error {
			_, err := orchClient.ListIncidents(ctx, &orchestratorv1.ListIncidentsRequest{})
			return err
		},
		"SetIncidentStatus": func(ctx context.Context) error {
			_, err := orchClient.SetIncidentStatus(ctx, &orchestratorv1.SetIncidentStatusRequest{IncidentId: uuid.NewString(), Status: orchestratorv1.IncidentStatus_INCIDENT_STATUS_RESOLVED})
			return err
		},
		"WatchIncidents": func(ctx context.Context) error {
			stream, err := orchClient.WatchIncidents(ctx, &orchestratorv1.WatchIncidentsRequest{})
			if err != nil {
				return err
			}
			_, err = stream.Recv()
			return err
		},
	}
	tokens := map[string]string{"no token": "", "foreign key": foreign, "expired": expired}
	for name, call := range rpcs {
		for kind, tok := range tokens {
			ctx := context.Background()
			if tok != "" {
				ctx = metadata.AppendToOutgoingContext(ctx, tenant.MetadataKey, tok)
			}
			require.Equal(t, codes.Unauthenticated, status.Code(call(ctx)), "%s with %s", name, kind)
		}
		// The same call with a valid token gets past authentication.
		ctx, cancel := context.WithTimeout(as(acme), 200*time.Millisecond)
		valid, err := b.signer.Sign(tenant.Identity{Tenant: acme, Subject: "user:test"})
		require.NoError(t, err)
		err = call(metadata.AppendToOutgoingContext(ctx, tenant.MetadataKey, valid))
		cancel()
		require.NotEqual(t, codes.Unauthenticated, status.Code(err), "%s with a valid token: %v", name, err)
	}
}

// A tenant's threshold rule, set through the API, decides its incidents
// and is named in the decision; another tenant keeps the defaults.
func TestTenantThresholdRuleDecides(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.reasoning.SetThresholdRule(as(acme), &reasoningv1.SetThresholdRuleRequest{Rule: &reasoningv1.ThresholdRule{
		Severity: signalv1.Severity_SEVERITY_CRITICAL, ActionKind: "webhook", ExecuteAt: 0.99, ClarifyAt: 0.2,
	}})
	require.NoError(t, err)
	_, err = b.reasoning.SetThresholdRule(as(acme), &reasoningv1.SetThresholdRuleRequest{Rule: &reasoningv1.ThresholdRule{ExecuteAt: 0.3, ClarifyAt: 0.4}})
	require.Equal(t, codes.InvalidArgument, status.Code(err), "clarify_at above execute_at: %v", err)

	sig := alert(acme)
	b.publish(t, acme, event(signalv1.EventKind_EVENT_KIND_OPENED, sig))
	resp := b.waitStage(t, acme, sig.GetId(), orchestratorv1.Stage_STAGE_CLARIFY)
	confidence := resp.GetTransitions()[3].GetDetails()
	require.Equal(t, "clarify", confidence["decision"])
	require.Equal(t, "0.99", confidence["execute_at"])
	require.Equal(t, "tenant rule critical/webhook", confidence["thresholds"])

	other := alert(globex)
	b.publish(t, globex, event(signalv1.EventKind_EVENT_KIND_OPENED, other))
	resp = b.waitStage(t, globex, other.GetId(), orchestratorv1.Stage_STAGE_EXECUTE)
	require.Equal(t, "defaults", resp.GetTransitions()[3].GetDetails()["thresholds"])

	list, err := b.reasoning.ListThresholdRules(as(globex), &reasoningv1.ListThresholdRulesRequest{})
	require.NoError(t, err)
	require.Empty(t, list.GetRules(), "acme's rule is not globex's")
	require.Equal(t, 0.8, list.GetDefaults().GetExecuteAt())

	// The change is in acme's audit log, made by its caller; the refused
	// one is not.
	require.Contains(t, b.audited(t, acme), "user:test threshold_rule.set threshold_rule/critical/webhook")
	require.NotContains(t, b.audited(t, acme), "user:test threshold_rule.set threshold_rule/any/any")
	require.NotContains(t, b.audited(t, globex), "user:test threshold_rule.set threshold_rule/critical/webhook")
}

// audited lists tn's audit entries, oldest first, as "actor event subject".
func (b *bundle) audited(t *testing.T, tn tenant.ID) []string {
	t.Helper()
	var out []string
	err := b.db.WithTenant(as(tn), func(tx pgx.Tx) error {
		rows, err := tx.Query(context.Background(), `SELECT actor || ' ' || event || ' ' || subject FROM audit_log ORDER BY id`)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	require.NoError(t, err)
	return out
}
