package e2e_test

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	actionsv1 "github.com/alexus-platform/alexus/gen/alexus/actions/v1"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/services/actions/webhook"
)

// TestActionCompletesOnceAcrossWorkerKill kills a real `alexus actions`
// process with SIGKILL while its webhook job is in the middle of a
// delivery, restarts it, and shows that the action completes exactly once:
// River rescues the stuck job and runs it again, the redelivery carries the
// same idempotency key so the receiver applies the effect once, the action
// is SUCCEEDED once with one action.succeeded audit entry, and 1,000
// duplicate ExecuteAction calls made before, during and after the kill all
// name that one action. killRig.runKill describes the kill and the rescue.
func TestActionCompletesOnceAcrossWorkerKill(t *testing.T) {
	t.Parallel()
	webhookSecret := killRandBytes(t, 32)
	recv := newOnceReceiver(t, webhookSecret)
	rig := newKillRig(t, provision.TenantOptions{DefaultWebhookURL: recv.srv.URL})

	plane, cc := rig.startablePlane(t,
		// The secret the receiver checks signatures with, in place of the
		// rig's fresh one.
		"ALEXUS_ACTIONS_WEBHOOK_SECRET=base64:"+base64.StdEncoding.EncodeToString(webhookSecret),
		// Long enough that the first delivery cannot time out before the
		// test kills the process; the rescue does not depend on it, since
		// attempted_at is moved back past every timeout.
		"ALEXUS_ACTIONS_WEBHOOK_TIMEOUT=10s",
		"ALEXUS_ACTIONS_WORKERS=4",
	)
	calls := &duplicateCalls{client: actionsv1.NewActionServiceClient(cc), ctx: rig.acme, req: webhookRequest}

	// The receiver holds the first delivery open until the plane is dead,
	// and then gets it again from the rescued job.
	actionID, jobID := rig.runKill(t, killScenario{
		plane:     plane,
		health:    healthpb.NewHealthClient(cc),
		calls:     calls,
		kind:      webhookKind,
		held:      recv.inFlight,
		afterKill: recv.releaseFirst,
	})
	result := rig.requireCompletedOnce(t, calls, webhookKind, actionID, jobID)
	require.Equal(t, "HTTP 200", result)

	// The receiver got the delivery twice (the killed one and the
	// redelivery), under one idempotency key, and applied it once.
	deliveries, effects, badSignatures := recv.counts()
	require.Zero(t, badSignatures)
	require.Len(t, effects, 1)
	for key, n := range effects {
		require.Equal(t, 1, n, "effect of %s", key)
		require.Equal(t, 2, deliveries[key], "deliveries of %s", key)
	}

	// One action.succeeded entry in the whole audit log.
	var succeeded int
	require.NoError(t, rig.admin.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE event = 'action.succeeded'`).Scan(&succeeded))
	require.Equal(t, 1, succeeded)
}

// onceReceiver is a tenant's webhook endpoint that applies each effect
// once, deduplicating by the idempotency key the worker sends. It holds the
// first delivery open, after applying it, until releaseFirst: the worker is
// killed before it hears the answer, the case that makes a redelivery.
type onceReceiver struct {
	srv      *httptest.Server
	secret   []byte
	inFlight chan struct{}
	release  chan struct{}
	first    atomic.Bool
	once     sync.Once

	mu            sync.Mutex
	deliveries    map[string]int // idempotency key → requests
	effects       map[string]int // idempotency key → effects applied
	badSignatures int
}

func newOnceReceiver(t *testing.T, secret []byte) *onceReceiver {
	t.Helper()
	r := &onceReceiver{
		secret:     secret,
		inFlight:   make(chan struct{}),
		release:    make(chan struct{}),
		deliveries: map[string]int{},
		effects:    map[string]int{},
	}
	r.srv = httptest.NewServer(r)
	// Cleanups run last first: the held request is released before Close
	// waits for it.
	t.Cleanup(r.srv.Close)
	t.Cleanup(r.releaseFirst)
	return r
}

func (r *onceReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	key := req.Header.Get(webhook.HeaderIdempotencyKey)
	r.mu.Lock()
	if !webhook.Verify(r.secret, req.Header.Get(webhook.HeaderTimestamp), body, req.Header.Get(webhook.HeaderSignature)) {
		r.badSignatures++
	}
	r.deliveries[key]++
	if r.effects[key] == 0 {
		r.effects[key]++
	}
	r.mu.Unlock()
	if r.first.CompareAndSwap(false, true) {
		close(r.inFlight)
		select {
		case <-r.release:
		case <-req.Context().Done():
		}
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (r *onceReceiver) releaseFirst() { r.once.Do(func() { close(r.release) }) }

// counts returns copies of the deliveries and effects by key, and how many
// requests were badly signed.
func (r *onceReceiver) counts() (deliveries, effects map[string]int, badSignatures int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	deliveries, effects = map[string]int{}, map[string]int{}
	for k, v := range r.deliveries {
		deliveries[k] = v
	}
	for k, v := range r.effects {
		effects[k] = v
	}
	return deliveries, effects, r.badSignatures
}

// webhookRequest is the webhook action of TestActionCompletesOnceAcrossWorkerKill.
var webhookRequest = &actionsv1.ExecuteActionRequest{
	IdempotencyKey: "incident/7/restart-payments",
	Kind:           actionsv1.ActionKind_ACTION_KIND_WEBHOOK,
	Reason:         "restart the payment service",
	Params: &actionsv1.ExecuteActionRequest_Webhook{Webhook: &actionsv1.WebhookParams{
		Details: map[string]string{"runbook": "restart-payments"},
	}},
}

// webhookKind is the River job kind of webhook actions; the plane runs
// jobs of other kinds too (e.g. its periodic ones).
var webhookKind = webhook.Args{}.Kind()
