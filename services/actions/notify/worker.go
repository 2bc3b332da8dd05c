package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"

	"github.com/alexus-platform/alexus/internal/egress"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/secretbox"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/actions/action"
	"github.com/alexus-platform/alexus/services/actions/job"
)

// WorkerConfig configures the worker.
type WorkerConfig struct {
	// Timeout bounds one delivery, connection to last header.
	Timeout time.Duration
	// Egress decides which addresses a delivery may connect to, when it
	// dials; nil refuses every non-public address.
	Egress *egress.Policy
	// Keys open the targets' sealed URLs; nil fails every delivery.
	Keys *secretbox.Keyring
}

// Worker delivers notify actions; job.Worker runs each job, the worker
// adds opening the target and writing and posting the message.
type Worker struct {
	*job.Worker[Args, target]
	db   *store.DB
	keys *secretbox.Keyring
}

// NewWorker returns a Worker that reads targets through db and records
// outcomes through actions.
func NewWorker(cfg WorkerConfig, log *zap.Logger, db *store.DB, actions *action.Store) *Worker {
	w := &Worker{db: db, keys: cfg.Keys}
	w.Worker = job.NewWorker[Args](job.Executor[target]{
		Kind: action.KindNotify,
		Words: job.Words{
			Target:     "notify target",
			Unreadable: "the notify target could not be read",
			Verb:       "deliver",
			Noun:       "delivery",
		},
		Lookup: w.lookupTarget,
		Send:   w.deliver,
	}, log, actions, cfg.Egress, cfg.Timeout)
	return w
}

// target is a registered notify target, opened.
type target struct {
	format provision.NotifyFormat
	url    string
}

// deliver writes the message for tg's format, posts it to tg once and says
// what the answer means.
func (w *Worker) deliver(ctx context.Context, _ tenant.ID, tg target, a action.Action, _ int) (job.Answer, error) {
	body, err := Render(tg.format, a)
	if err != nil {
		return job.Answer{}, errors.New("the message could not be written: " + err.Error())
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tg.url, bytes.NewReader(body))
	if err != nil {
		// The URL is a credential; the result says only that it is unusable.
		return job.Answer{Result: "invalid notify target URL", Verdict: job.Rejected}, nil
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.HTTP.Do(req)
	var ref *egress.RefusedError
	if errors.As(err, &ref) {
		return job.Answer{Result: ref.Error(), Verdict: job.Refused}, nil
	}
	if err != nil {
		return job.Answer{Result: job.Describe(err, w.HTTPTimeout), Verdict: job.Retry}, nil
	}
	defer resp.Body.Close()
	text := job.Clip(string(job.ReadAnswer(resp.Body)))
	code := resp.StatusCode
	if tg.format == provision.NotifyTeams && code >= 200 && code < 300 {
		// Teams' connector webhooks have been known to answer 200 with the
		// failure in the body ("Microsoft Teams endpoint returned HTTP
		// error 429 ..."); such an answer is read as that status.
		if m := teamsEmbeddedError.FindStringSubmatch(text); m != nil {
			code, _ = strconv.Atoi(m[1])
		}
	}
	result := "HTTP " + strconv.Itoa(resp.StatusCode)
	if text != "" {
		result += " " + text
	}
	switch {
	case code >= 200 && code < 300:
		return job.Answer{Result: result, Verdict: job.Done}, nil
	case code == http.StatusTooManyRequests:
		return job.Answer{Result: result, Verdict: job.RateLimited, Wait: job.RetryAfter(resp.Header.Get("Retry-After"), time.Now())}, nil
	case code == http.StatusRequestTimeout || code >= 500:
		return job.Answer{Result: result, Verdict: job.Retry}, nil
	default:
		// 3xx (redirects are not followed) and the other 4xx: Slack's
		// invalid_payload, no_text, no_service, channel_not_found, ...
		// which a retry would get again.
		return job.Answer{Result: result, Verdict: job.Rejected}, nil
	}
}

var teamsEmbeddedError = regexp.MustCompile(`returned HTTP error (\d{3})`)

// lookupTarget reads and opens the context's tenant's notify target name.
func (w *Worker) lookupTarget(ctx context.Context, t tenant.ID, name string) (target, bool, error) {
	var (
		format string
		record uuid.UUID
		sealed []byte
	)
	err := w.db.WithTenant(ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT format, record_id, url_sealed FROM notify_targets WHERE tenant_id = $1 AND name = $2`, string(t), name).
			Scan(&format, &record, &sealed)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return target{}, false, nil
	}
	if err != nil {
		return target{}, false, fmt.Errorf("look up notify target %q: %w", name, err)
	}
	if w.keys == nil {
		return target{}, false, fmt.Errorf("notify target %q: no key ring to open its URL with (ALEXUS_SECRET_KEYS)", name)
	}
	u, err := w.keys.Open(provision.NotifyTargetOwner(t, record.String()), sealed)
	if err != nil {
		return target{}, false, fmt.Errorf("open the URL of notify target %q: %w", name, err)
	}
	return target{format: provision.NotifyFormat(format), url: string(u)}, true, nil
}
