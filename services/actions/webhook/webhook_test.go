package webhook_test

import (
	"context"
	"github.com/alexus-platform/alexus/internal/egress"
	"github.com/alexus-platform/alexus/internal/store"
	"net/http"
	"net/http/httptest"
	"net/netip"
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
	"github.com/alexus-platform/alexus/services/actions/audit"
	actionjob "github.com/alexus-platform/alexus/services/actions/job"
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
	db         *store.DB
	store      *action.Store
	log        *audit.Log
	worker     *webhook.Worker
	deliveries *atomic.Int32
	// status is what the receiver answers; 200 unless a test sets it.
	status *atomic.Int32
}

func setup(t *testing.T) *bundle {
	t.Helper()
	sb := storetest.New(t)
	var deliveries, answer atomic.Int32
	answer.Store(http.StatusOK)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		deliveries.Add(1)
		w.WriteHeader(int(answer.Load()))
	}))
	t.Cleanup(srv.Close)

	ctx := tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: "acme", Subject: "user:alice"})
	_, err := provision.EnsureTenant(ctx, sb.DB, provision.TenantOptions{DefaultWebhookURL: srv.URL})
	require.NoError(t, err)
	// The receiver listens on loopback, which the tenant may reach only by
	// its egress allow-list.
	require.NoError(t, provision.AllowEgress(ctx, sb.DB, netip.MustParsePrefix("127.0.0.0/8"), false))

	// The job queue is not under test here: recording an action enqueues
	// nothing, and the worker is called directly.
	st := action.NewStore(sb.DB, func(context.Context, pgx.Tx, action.Action) error { return nil })
	b := &bundle{ctx: ctx, db: sb.DB, store: st, log: audit.NewLog(sb.DB), deliveries: &deliveries, status: &answer}
	b.worker = b.newWorker(t)
	return b
}

// newWorker is a worker that reads the tenant's egress allow-list afresh.
func (b *bundle) newWorker(t *testing.T) *webhook.Worker {
	t.Helper()
	return webhook.NewWorker(webhook.WorkerConfig{
		Secret: make([]byte, 32), Timeout: 5 * time.Second,
		Egress: &egress.Policy{TenantAllow: webhook.TenantNetworks(b.db)},
	}, zaptest.NewLogger(t), b.db, b.store)
}

// maxAttempts is the MaxAttempts of the jobs job makes.
const maxAttempts = 5

func job(actionID string, attempt int) *river.Job[webhook.Args] {
	return &river.Job[webhook.Args]{
		JobRow: &rivertype.JobRow{ID: 1, Attempt: attempt, MaxAttempts: maxAttempts},
		Args:   webhook.Args{Ref: actionjob.Ref{Tenant: "acme", ActionID: actionID}},
	}
}

// execute records a pending webhook action to the default target.
func (b *bundle) execute(t *testing.T, key string) action.Action {
	t.Helper()
	a, _, err := b.store.Execute(b.ctx, action.Request{
		IdempotencyKey: key, Kind: action.KindWebhook, Webhook: &action.WebhookParams{},
	})
	require.NoError(t, err)
	return a
}

// events returns the audit events about a, oldest first.
func (b *bundle) events(t *testing.T, a action.Action) []string {
	t.Helper()
	page, err := b.log.List(b.ctx, audit.Query{Subject: a.Subject()})
	require.NoError(t, err)
	out := make([]string, len(page.Entries))
	for i, e := range page.Entries {
		out[len(out)-1-i] = e.Event
	}
	return out
}

// roundTripFunc lets a test wrap the worker's HTTP transport.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

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

// A shutdown that cancels the job just after the receiver accepted the
// delivery must not lose that answer: the outcome is recorded anyway, so
// River does not retry and the receiver is not posted to again.
func TestWorkerRecordsAcceptedDeliveryWhenCancelledAfterwards(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.execute(t, "k1")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.worker.SetTransport(roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(r)
		// The receiver has answered; the shutdown comes before the worker
		// records that answer.
		cancel()
		return resp, err
	}))

	require.NoError(t, b.worker.Work(ctx, job(a.ID, 1)))
	require.EqualValues(t, 1, b.deliveries.Load())
	got, err := b.store.Get(b.ctx, a.ID)
	require.NoError(t, err)
	require.Equal(t, action.StatusSucceeded, got.Status)
	require.Equal(t, "HTTP 200", got.Result)
	require.Equal(t, 1, got.Attempts)
	require.Equal(t, []string{action.EventRequested, action.EventSucceeded}, b.events(t, a))

	require.NoError(t, b.worker.Work(context.Background(), job(a.ID, 2)))
	require.EqualValues(t, 1, b.deliveries.Load(), "a recorded delivery is not posted again")
	require.Equal(t, []string{action.EventRequested, action.EventSucceeded}, b.events(t, a))
}

// On its last attempt every way a run can fail leaves the action failed
// with an audit entry, because River discards the job afterwards; on an
// earlier attempt a run cut short records nothing and River retries.
func TestWorkerLastAttemptFailureRecordsFailed(t *testing.T) {
	t.Parallel()
	cancelled := func() context.Context {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		return ctx
	}
	for _, tc := range []struct {
		name string
		// prepare returns the context the run gets.
		prepare func(b *bundle) context.Context
		result  string
	}{{
		name: "receiver refuses",
		prepare: func(b *bundle) context.Context {
			b.status.Store(http.StatusServiceUnavailable)
			return context.Background()
		},
		result: "HTTP 503",
	}, {
		name: "shutdown during delivery",
		prepare: func(b *bundle) context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			b.worker.SetTransport(roundTripFunc(func(r *http.Request) (*http.Response, error) {
				cancel()
				return nil, r.Context().Err()
			}))
			return ctx
		},
		result: "gave up on the last attempt: the delivery was interrupted by a shutdown or the job timeout",
	}, {
		name:    "shutdown before the run",
		prepare: func(*bundle) context.Context { return cancelled() },
		result:  "gave up on the last attempt: the action could not be loaded",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			a := b.execute(t, "k1")
			ctx := tc.prepare(b)

			require.Error(t, b.worker.Work(ctx, job(a.ID, maxAttempts-1)))
			got, err := b.store.Get(b.ctx, a.ID)
			require.NoError(t, err)
			require.Equal(t, action.StatusPending, got.Status, "River retries an earlier attempt")

			ctx = tc.prepare(b)
			require.Error(t, b.worker.Work(ctx, job(a.ID, maxAttempts)))
			got, err = b.store.Get(b.ctx, a.ID)
			require.NoError(t, err)
			require.Equal(t, action.StatusFailed, got.Status)
			require.Equal(t, tc.result, got.Result)
			events := b.events(t, a)
			require.Equal(t, action.EventFailed, events[len(events)-1])
		})
	}
}

// A target on an address the tenant may not reach (loopback, private,
// link-local, ...) fails at once, without a connection and without
// retries; allowing its network for the tenant lets the next action
// through, and the change is audited.
func TestWorkerRefusesAddressesOutsideTheEgressPolicy(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.NoError(t, provision.AllowEgress(b.ctx, b.db, netip.MustParsePrefix("127.0.0.0/8"), true))
	// The allow-list is read at most every few seconds; a fresh worker
	// reads it now.
	b.worker = b.newWorker(t)

	a := b.execute(t, "k1")
	err := b.worker.Work(context.Background(), job(a.ID, 1))
	var cancel *rivertype.JobCancelError
	require.ErrorAs(t, err, &cancel, "a refusal is not retried")
	require.EqualValues(t, 0, b.deliveries.Load(), "nothing reached the receiver")
	got, err := b.store.Get(b.ctx, a.ID)
	require.NoError(t, err)
	require.Equal(t, action.StatusFailed, got.Status)
	require.Equal(t, "refused: 127.0.0.1 is a loopback address this tenant may not reach", got.Result)

	require.NoError(t, provision.AllowEgress(b.ctx, b.db, netip.MustParsePrefix("127.0.0.1/32"), false))
	b.worker = b.newWorker(t)
	a = b.execute(t, "k2")
	require.NoError(t, b.worker.Work(context.Background(), job(a.ID, 1)))
	require.EqualValues(t, 1, b.deliveries.Load())

	page, err := b.log.List(b.ctx, audit.Query{Subject: "egress/127.0.0.1/32"})
	require.NoError(t, err)
	require.Len(t, page.Entries, 1)
	require.Equal(t, provision.EventEgressAllowed, page.Entries[0].Event)
}
