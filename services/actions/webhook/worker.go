package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"go.uber.org/zap"

	"github.com/alexus-platform/alexus/internal/egress"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/internal/tenantcache"
	"github.com/alexus-platform/alexus/services/actions/action"
	"github.com/alexus-platform/alexus/services/actions/job"
)

// SystemSubject is the identity the worker acts under; it is the actor of
// every audit entry the worker writes.
const SystemSubject = job.SystemSubject

// jobSlack is how much longer than the HTTP timeout a job may run, for the
// database work around the request.
const jobSlack = 30 * time.Second

// maxResponseDrain bounds how much of a receiver's answer is read (and
// discarded) so the connection can be reused without trusting its size.
const maxResponseDrain = 64 << 10

// WorkerConfig configures the worker.
type WorkerConfig struct {
	// Secret is the HMAC-SHA256 key deliveries are signed with.
	Secret []byte
	// Timeout bounds one HTTP delivery, connection to last header.
	Timeout time.Duration
	// Egress decides which addresses a delivery may connect to, when it
	// dials; nil refuses every non-public address.
	Egress *egress.Policy
}

// Worker delivers webhook actions.
type Worker struct {
	river.WorkerDefaults[Args]

	log     *zap.Logger
	db      *store.DB
	actions *action.Store
	secret  []byte
	timeout time.Duration
	http    *egress.Clients
}

// NewWorker returns a Worker that reads targets through db and records
// outcomes through actions.
func NewWorker(cfg WorkerConfig, log *zap.Logger, db *store.DB, actions *action.Store) *Worker {
	return &Worker{
		log:     log,
		db:      db,
		actions: actions,
		secret:  cfg.Secret,
		timeout: cfg.Timeout,
		http:    egress.NewClients(cfg.Egress, cfg.Timeout),
	}
}

// Timeout lets a job run for the HTTP timeout plus the database work around
// it, rather than River's one-minute default, which a long WebhookTimeout
// would exceed.
func (w *Worker) Timeout(*river.Job[Args]) time.Duration { return w.timeout + jobSlack }

// payload is the JSON body a receiver gets.
type payload struct {
	ActionID       string            `json:"action_id"`
	IdempotencyKey string            `json:"idempotency_key"`
	IncidentID     string            `json:"incident_id"`
	TenantID       string            `json:"tenant_id"`
	Reason         string            `json:"reason"`
	Details        map[string]string `json:"details"`
	Attempt        int               `json:"attempt"`
}

// Work delivers one webhook action. A returned error makes River retry the
// job with its backoff until MaxAttempts; river.JobCancel stops it for good.
//
// River discards a job whose last attempt fails, so on that attempt every
// failure, a shutdown cancelling the run included, first records the action
// as failed: nothing else would ever move it out of pending.
func (w *Worker) Work(ctx context.Context, j *river.Job[Args]) error {
	t, err := tenant.Parse(j.Args.Tenant)
	if err != nil {
		return river.JobCancel(fmt.Errorf("webhook job %d: %w", j.ID, err))
	}
	ctx = tenant.WithIdentity(ctx, tenant.Identity{Tenant: t, Subject: SystemSubject})
	log := w.log.With(zap.String("tenant_id", string(t)), zap.String("action_id", j.Args.ActionID),
		zap.Int("attempt", j.Attempt))
	at := job.Attempt{Ref: j.Args.Ref, JobID: j.ID, Number: j.Attempt, MaxAttempts: j.MaxAttempts}

	a, err := w.actions.Get(ctx, j.Args.ActionID)
	if errors.Is(err, action.ErrNotFound) {
		return river.JobCancel(fmt.Errorf("webhook job %d: action %s: %w", j.ID, j.Args.ActionID, err))
	}
	if err != nil {
		return job.Abandon(ctx, log, w.actions, at, "the action could not be loaded", err)
	}
	if a.Status != action.StatusPending {
		// A redelivery after the outcome was recorded (e.g. the process died
		// between commit and River marking the job done): posting again
		// would act twice.
		log.Info("webhook action already finished; not delivering again", zap.String("status", string(a.Status)))
		return nil
	}

	target, found, err := w.lookupTarget(ctx, a.Webhook.Target)
	if err != nil {
		return job.Abandon(ctx, log, w.actions, at, "the webhook target could not be looked up", err)
	}
	if !found {
		log.Warn("webhook target not registered; action failed", zap.String("target", a.Webhook.Target))
		return job.FailForGood(ctx, log, w.actions, at, fmt.Sprintf("unknown webhook target %q", a.Webhook.Target))
	}

	result, ok, refused := w.deliver(ctx, target, a, t, j.Attempt)
	if refused {
		// The target's address is outside what the tenant may reach;
		// retrying would only be refused again.
		log.Warn("webhook target refused by the egress policy; action failed", zap.String("target", a.Webhook.Target), zap.String("result", result))
		return job.FailForGood(ctx, log, w.actions, at, result)
	}
	if !ok && ctx.Err() != nil {
		// The job's own context ended (shutdown or job timeout); this is not
		// the receiver's failure, and River will run the job again unless
		// this was its last attempt.
		return job.Abandon(ctx, log, w.actions, at, "the delivery was interrupted by a shutdown or the job timeout",
			fmt.Errorf("deliver action %s: %w", a.ID, context.Cause(ctx)))
	}

	o := action.Outcome{Status: action.StatusSucceeded, Result: result, Attempt: j.Attempt}
	if !ok {
		o.Status = action.StatusPending
		if at.Last() {
			o.Status = action.StatusFailed
		}
	}
	if err := job.Record(ctx, log, w.actions, at, o); err != nil {
		if errors.Is(err, action.ErrNotPending) {
			return nil
		}
		// The delivery may have happened without being recorded; the retry
		// carries the same idempotency key so the receiver can drop it.
		return err
	}
	switch o.Status {
	case action.StatusSucceeded:
		log.Info("webhook delivered", zap.String("result", result))
		return nil
	case action.StatusFailed:
		log.Warn("webhook delivery failed; giving up", zap.String("result", result))
	default:
		log.Info("webhook delivery failed; River will retry", zap.String("result", result))
	}
	return fmt.Errorf("deliver action %s: %s", a.ID, result)
}

// deliver posts the action once and reports the result text, whether the
// receiver accepted it, and whether the egress policy refused the address.
func (w *Worker) deliver(ctx context.Context, target string, a action.Action, t tenant.ID, attempt int) (result string, ok, refused bool) {
	body, err := json.Marshal(payload{
		ActionID:       a.ID,
		IdempotencyKey: a.IdempotencyKey,
		IncidentID:     a.IncidentID,
		TenantID:       string(t),
		Reason:         a.Reason,
		Details:        a.Webhook.Details,
		Attempt:        attempt,
	})
	if err != nil {
		return fmt.Sprintf("encode body: %v", err), false, false
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		// The URL is the tenant's configuration and may embed credentials,
		// so the result says only that it is unusable.
		return "invalid target URL", false, false
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign(w.secret, ts, body))
	req.Header.Set(HeaderIdempotencyKey, a.IdempotencyKey)

	resp, err := w.http.Do(req)
	var ref *egress.RefusedError
	if errors.As(err, &ref) {
		return ref.Error(), false, true
	}
	if err != nil {
		return describe(err, w.timeout), false, false
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseDrain))
	return "HTTP " + strconv.Itoa(resp.StatusCode), resp.StatusCode >= 200 && resp.StatusCode < 300, false
}

// tenantNetworksTTL is how long a replica uses a tenant's egress allow-list
// as it last read it; an operator's change reaches every replica within it.
const tenantNetworksTTL = 5 * time.Second

// TenantNetworks returns an egress.Policy TenantAllow that reads the
// context's tenant's allow-list through db, at most once per
// tenantNetworksTTL per tenant.
func TenantNetworks(db *store.DB) func(context.Context) ([]netip.Prefix, error) {
	return tenantcache.New(tenantNetworksTTL, func(ctx context.Context) ([]netip.Prefix, error) {
		return provision.EgressNetworks(ctx, db)
	}).Get
}

// describe says why a request failed without repeating its URL, which may
// carry credentials.
func describe(err error, timeout time.Duration) string {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return fmt.Sprintf("timeout: no response within %s", timeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return "request failed: " + err.Error()
}

// lookupTarget returns the URL registered under name for the context's
// tenant.
func (w *Worker) lookupTarget(ctx context.Context, name string) (string, bool, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return "", false, err
	}
	var u string
	err = w.db.WithTenant(ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT url FROM webhook_targets WHERE tenant_id = $1 AND name = $2`, string(t), name).Scan(&u)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("look up webhook target %q: %w", name, err)
	}
	return u, true, nil
}
