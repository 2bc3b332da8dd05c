package webhook_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/actions/action"
	"github.com/alexus-platform/alexus/services/actions/webhook"
)

func TestSignAndVerify(t *testing.T) {
	t.Parallel()
	secret := []byte("0123456789abcdef0123456789abcdef")
	body := []byte(`{"action_id":"a"}`)
	sig := webhook.Sign(secret, "1700000000", body)
	require.Regexp(t, `^sha256=[0-9a-f]{64}$`, sig)
	require.True(t, webhook.Verify(secret, "1700000000", body, sig))

	require.False(t, webhook.Verify(secret, "1700000001", body, sig), "the timestamp is signed")
	require.False(t, webhook.Verify(secret, "1700000000", []byte(`{"action_id":"b"}`), sig), "the body is signed")
	require.False(t, webhook.Verify([]byte("another secret of thirty-two by"), "1700000000", body, sig))
	require.False(t, webhook.Verify(secret, "1700000000", body, sig[len("sha256="):]), "the prefix is required")
	require.False(t, webhook.Verify(secret, "1700000000", body, "sha256=zz"))
}

type bundle struct {
	ctx        context.Context
	store      *action.Store
	worker     *webhook.Worker
	deliveries *atomic.Int32
}

func setup(t *testing.T) *bundle {
	t.Helper()
	sb := storetest.New(t)
	var deliveries atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		deliveries.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)

	ctx := tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: "acme", Subject: "user:alice"})
	_, err := provision.EnsureTenant(ctx, sb.DB, provision.TenantOptions{DefaultWebhookURL: srv.URL})
	require.NoError(t, err)

	// The job queue is not under test here: recording an action enqueues
	// nothing, and the worker is called directly.
	st := action.NewStore(sb.DB, func(context.Context, pgx.Tx, action.Action) error { return nil })
	w := webhook.NewWorker(webhook.WorkerConfig{Secret: make([]byte, 32), Timeout: 5 * time.Second},
		zaptest.NewLogger(t), sb.DB, st)
	return &bundle{ctx: ctx, store: st, worker: w, deliveries: &deliveries}
}

func job(actionID string, attempt int) *river.Job[webhook.Args] {
	return &river.Job[webhook.Args]{
		JobRow: &rivertype.JobRow{ID: 1, Attempt: attempt, MaxAttempts: 5},
		Args:   webhook.Args{Tenant: "acme", ActionID: actionID},
	}
}

// A job redelivered after its action was recorded as succeeded (the process
// died before River marked the job done) must not post a second time.
func TestWorkerDoesNotDeliverAFinishedActionAgain(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a, _, err := b.store.Execute(b.ctx, action.Request{
		IdempotencyKey: "k1", Kind: action.KindWebhook, Webhook: &action.WebhookParams{},
	})
	require.NoError(t, err)

	require.NoError(t, b.worker.Work(context.Background(), job(a.ID, 1)))
	require.EqualValues(t, 1, b.deliveries.Load())
	got, err := b.store.Get(b.ctx, a.ID)
	require.NoError(t, err)
	require.Equal(t, action.StatusSucceeded, got.Status)

	require.NoError(t, b.worker.Work(context.Background(), job(a.ID, 2)))
	require.EqualValues(t, 1, b.deliveries.Load(), "a finished action is not delivered again")
	got, err = b.store.Get(b.ctx, a.ID)
	require.NoError(t, err)
	require.Equal(t, 1, got.Attempts, "the redelivery is not counted as an attempt")
}

// A job whose action does not exist for its tenant (for instance a job
// naming another tenant's action) is cancelled, not retried.
func TestWorkerCancelsJobForMissingAction(t *testing.T) {
	t.Parallel()
	b := setup(t)
	err := b.worker.Work(context.Background(), job("00000000-0000-0000-0000-000000000000", 1))
	var cancel *rivertype.JobCancelError
	require.ErrorAs(t, err, &cancel)
	require.Zero(t, b.deliveries.Load())

	bad := job("00000000-0000-0000-0000-000000000000", 1)
	bad.Args.Tenant = "Not A Tenant"
	require.ErrorAs(t, b.worker.Work(context.Background(), bad), &cancel)
}
