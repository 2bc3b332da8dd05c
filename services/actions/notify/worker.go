package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"go.uber.org/zap"

	"github.com/alexus-platform/alexus/internal/egress"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/secretbox"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/actions/action"
	"github.com/alexus-platform/alexus/services/actions/job"
)

// jobSlack is how much longer than the HTTP timeout a job may run, for the
// database work around the request.
const jobSlack = 30 * time.Second

// maxResponseRead bounds how much of a receiver's answer is read.
const maxResponseRead = 64 << 10

// maxResultText bounds how much of a receiver's answer is kept in the
// action's result.
const maxResultText = 200

// Rate limiting: a 429 is retried after the receiver's Retry-After (or
// defaultRetryAfter without one), clamped to [minRetryAfter,
// maxRetryAfter]. Waiting for a rate limit does not use up one of River's
// attempts, so the runs of an action are capped separately: after
// MaxAttempts + maxRateLimitedRuns runs the action fails.
const (
	defaultRetryAfter  = 30 * time.Second
	minRetryAfter      = time.Second
	maxRetryAfter      = time.Hour
	maxRateLimitedRuns = 10
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

// Worker delivers notify actions.
type Worker struct {
	river.WorkerDefaults[Args]
	log     *zap.Logger
	db      *store.DB
	actions *action.Store
	keys    *secretbox.Keyring
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
		keys:    cfg.Keys,
		timeout: cfg.Timeout,
		http:    egress.NewClients(cfg.Egress, cfg.Timeout),
	}
}

// SetTransport replaces the worker's HTTP transport (for tests).
func (w *Worker) SetTransport(rt http.RoundTripper) { w.http.SetTransport(rt) }

// Timeout lets a job run for the HTTP timeout plus the database work
// around it.
func (w *Worker) Timeout(*river.Job[Args]) time.Duration { return w.timeout + jobSlack }

// target is a registered notify target, opened.
type target struct {
	format provision.NotifyFormat
	url    string
}

// verdict is what a receiver's answer means for the action.
type verdict int

const (
	delivered   verdict = iota
	retry               // with River's backoff
	rateLimited         // after Retry-After
	rejected            // for good
)

// Work delivers one notify action. A returned error makes River retry with
// its backoff until MaxAttempts; river.JobSnooze waits out a rate limit;
// river.JobCancel stops the job for good. As with webhooks, every way the
// last attempt can fail records the action as failed first.
func (w *Worker) Work(ctx context.Context, j *river.Job[Args]) error {
	t, err := tenant.Parse(j.Args.Tenant)
	if err != nil {
		return river.JobCancel(fmt.Errorf("notify job %d: %w", j.ID, err))
	}
	ctx = tenant.WithIdentity(ctx, tenant.Identity{Tenant: t, Subject: job.SystemSubject})
	log := w.log.With(zap.String("tenant_id", string(t)), zap.String("action_id", j.Args.ActionID),
		zap.Int("attempt", j.Attempt))
	at := job.Attempt{Ref: j.Args.Ref, JobID: j.ID, Number: j.Attempt, MaxAttempts: j.MaxAttempts}

	a, err := w.actions.Get(ctx, j.Args.ActionID)
	if errors.Is(err, action.ErrNotFound) {
		return river.JobCancel(fmt.Errorf("notify job %d: action %s: %w", j.ID, j.Args.ActionID, err))
	}
	if err != nil {
		return job.Abandon(ctx, log, w.actions, at, "the action could not be loaded", err)
	}
	if a.Status != action.StatusPending {
		// A redelivery after the outcome was recorded: posting again would
		// notify twice.
		log.Info("notify action already finished; not delivering again", zap.String("status", string(a.Status)))
		return nil
	}

	tg, found, err := w.lookupTarget(ctx, t, a.Notify.Target)
	if err != nil {
		return job.Abandon(ctx, log, w.actions, at, "the notify target could not be read", err)
	}
	if !found {
		log.Warn("notify target not registered; action failed", zap.String("target", a.Notify.Target))
		return job.FailForGood(ctx, log, w.actions, at, fmt.Sprintf("unknown notify target %q", a.Notify.Target))
	}
	body, err := Render(tg.format, a)
	if err != nil {
		return job.FailForGood(ctx, log, w.actions, at, "the message could not be written: "+err.Error())
	}

	result, v, wait, refused := w.deliver(ctx, tg, body, a)
	if refused {
		log.Warn("notify target refused by the egress policy; action failed", zap.String("target", a.Notify.Target), zap.String("result", result))
		return job.FailForGood(ctx, log, w.actions, at, result)
	}
	if v != delivered && ctx.Err() != nil {
		return job.Abandon(ctx, log, w.actions, at, "the delivery was interrupted by a shutdown or the job timeout",
			fmt.Errorf("deliver action %s: %w", a.ID, context.Cause(ctx)))
	}

	switch v {
	case rejected:
		log.Warn("notify target rejected the message; action failed", zap.String("result", result))
		return job.FailForGood(ctx, log, w.actions, at, result)
	case rateLimited:
		if a.Attempts+1 >= j.MaxAttempts+maxRateLimitedRuns {
			log.Warn("notify target still rate limits; action failed", zap.String("result", result))
			return job.FailForGood(ctx, log, w.actions, at, result+"; gave up after "+strconv.Itoa(a.Attempts+1)+" runs")
		}
		result += "; retrying in " + wait.String()
	}

	o := action.Outcome{Status: action.StatusSucceeded, Result: result, Attempt: j.Attempt}
	switch {
	case v == rateLimited:
		o.Status = action.StatusPending
	case v == retry && at.Last():
		o.Status = action.StatusFailed
	case v == retry:
		o.Status = action.StatusPending
	}
	if err := job.Record(ctx, log, w.actions, at, o); err != nil {
		if errors.Is(err, action.ErrNotPending) {
			return nil
		}
		return err
	}
	switch o.Status {
	case action.StatusSucceeded:
		log.Info("notification delivered", zap.String("result", result))
		return nil
	case action.StatusFailed:
		log.Warn("notification failed; giving up", zap.String("result", result))
	default:
		if v == rateLimited {
			log.Info("notify target rate limited; waiting", zap.Duration("retry_after", wait))
			return river.JobSnooze(wait)
		}
		log.Info("notification failed; River will retry", zap.String("result", result))
	}
	return fmt.Errorf("deliver action %s: %s", a.ID, result)
}

// deliver posts body to tg once and says what the answer means: the
// result text, the verdict, how long to wait for a rate limit, and whether
// the egress policy refused the address.
func (w *Worker) deliver(ctx context.Context, tg target, body []byte, a action.Action) (result string, v verdict, wait time.Duration, refused bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tg.url, bytes.NewReader(body))
	if err != nil {
		// The URL is a credential; the result says only that it is unusable.
		return "invalid notify target URL", rejected, 0, false
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.http.Do(req)
	var ref *egress.RefusedError
	if errors.As(err, &ref) {
		return ref.Error(), rejected, 0, true
	}
	if err != nil {
		return describe(err, w.timeout), retry, 0, false
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseRead))
	text := clip(string(raw))
	code := resp.StatusCode
	if tg.format == provision.NotifyTeams && code >= 200 && code < 300 {
		// Teams' connector webhooks have been known to answer 200 with the
		// failure in the body ("Microsoft Teams endpoint returned HTTP
		// error 429 ..."); such an answer is read as that status.
		if m := teamsEmbeddedError.FindStringSubmatch(text); m != nil {
			code, _ = strconv.Atoi(m[1])
		}
	}
	result = "HTTP " + strconv.Itoa(resp.StatusCode)
	if text != "" {
		result += " " + text
	}
	switch {
	case code >= 200 && code < 300:
		return result, delivered, 0, false
	case code == http.StatusTooManyRequests:
		return result, rateLimited, retryAfter(resp.Header.Get("Retry-After"), time.Now()), false
	case code == http.StatusRequestTimeout || code >= 500:
		return result, retry, 0, false
	default:
		// 3xx (redirects are not followed) and the other 4xx: Slack's
		// invalid_payload, no_text, no_service, channel_not_found, ...
		// which a retry would get again.
		return result, rejected, 0, false
	}
}

var teamsEmbeddedError = regexp.MustCompile(`returned HTTP error (\d{3})`)

// retryAfter reads a Retry-After header (seconds or an HTTP date).
func retryAfter(h string, now time.Time) time.Duration {
	d := defaultRetryAfter
	if h = strings.TrimSpace(h); h != "" {
		if s, err := strconv.Atoi(h); err == nil {
			d = time.Duration(s) * time.Second
		} else if at, err := http.ParseTime(h); err == nil {
			d = at.Sub(now)
		}
	}
	return min(max(d, minRetryAfter), maxRetryAfter)
}

// clip keeps the start of a receiver's answer, on one line, printable.
func clip(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return ' '
		}
		if !unicode.IsPrint(r) {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if r := []rune(s); len(r) > maxResultText {
		s = string(r[:maxResultText]) + "…"
	}
	return s
}

// describe says why a request failed without repeating its URL, which is
// a credential.
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
