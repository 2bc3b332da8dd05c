package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
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

// Worker delivers webhook actions; job.Worker runs each job, the worker
// adds the target lookup and the signed post.
type Worker struct {
	*job.Worker[Args, string]
	db     *store.DB
	secret []byte
}

// NewWorker returns a Worker that reads targets through db and records
// outcomes through actions.
func NewWorker(cfg WorkerConfig, log *zap.Logger, db *store.DB, actions *action.Store) *Worker {
	w := &Worker{db: db, secret: cfg.Secret}
	w.Worker = job.NewWorker[Args](job.Executor[string]{
		Kind: action.KindWebhook,
		Words: job.Words{
			Target:     "webhook target",
			Unreadable: "the webhook target could not be looked up",
			Verb:       "deliver",
			Noun:       "delivery",
		},
		Lookup:  w.lookupTarget,
		Batched: &job.BatchedLookup[string]{Queue: queueTarget, Read: readTarget},
		Send:    w.deliver,
	}, log, actions, cfg.Egress, cfg.Timeout)
	return w
}

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

// deliver posts the action once. A 2xx answer delivers it; every other
// answer and every failure is retried, as a receiver may be down.
func (w *Worker) deliver(ctx context.Context, t tenant.ID, target string, a action.Action, attempt int) (job.Answer, error) {
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
		return job.Answer{Result: fmt.Sprintf("encode body: %v", err), Verdict: job.Retry}, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		// The URL is the tenant's configuration and may embed credentials,
		// so the result says only that it is unusable.
		return job.Answer{Result: "invalid target URL", Verdict: job.Retry}, nil
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign(w.secret, ts, body))
	req.Header.Set(HeaderIdempotencyKey, a.IdempotencyKey)

	resp, err := w.HTTP.Do(req)
	var ref *egress.RefusedError
	if errors.As(err, &ref) {
		return job.Answer{Result: ref.Error(), Verdict: job.Refused}, nil
	}
	if err != nil {
		return job.Answer{Result: job.Describe(err, w.HTTPTimeout), Verdict: job.Retry}, nil
	}
	defer resp.Body.Close()
	job.ReadAnswer(resp.Body)
	ans := job.Answer{Result: "HTTP " + strconv.Itoa(resp.StatusCode), Verdict: job.Retry}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		ans.Verdict = job.Done
	}
	return ans, nil
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

// lookupTarget returns the URL registered under name for tenant t.
func (w *Worker) lookupTarget(ctx context.Context, t tenant.ID, name string) (string, bool, error) {
	var (
		u     string
		found bool
	)
	b := &pgx.Batch{}
	queueTarget(b, t, name)
	err := w.db.Batch(ctx, b, func(br pgx.BatchResults) error {
		var err error
		u, found, err = readTarget(br)
		return err
	})
	if err != nil {
		return "", false, fmt.Errorf("look up webhook target %q: %w", name, err)
	}
	return u, found, nil
}

// queueTarget adds the read of the tenant's webhook target name to b.
func queueTarget(b *pgx.Batch, t tenant.ID, name string) {
	b.Queue(`SELECT url FROM webhook_targets WHERE tenant_id = $1 AND name = $2`, string(t), name)
}

// readTarget reads what queueTarget queued: the target's URL, or false.
// Its error is the read's own; the caller says which target it was.
func readTarget(br pgx.BatchResults) (string, bool, error) {
	var u string
	err := br.QueryRow().Scan(&u)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return u, true, nil
}
