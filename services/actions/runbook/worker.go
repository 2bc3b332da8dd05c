package runbook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
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
	"github.com/alexus-platform/alexus/services/actions/webhook"
)

// jobSlack is how much longer than the HTTP timeout a job may run, for the
// database work around the request.
const jobSlack = 30 * time.Second

// maxResponseRead bounds how much of a server's answer is read.
const maxResponseRead = 64 << 10

// maxResultText bounds how much of a server's answer is kept in the
// action's result.
const maxResultText = 200

// Rate limiting, as for notify actions: a 429 is retried after the
// server's Retry-After (or defaultRetryAfter), clamped to [minRetryAfter,
// maxRetryAfter], without using up one of River's attempts; after
// MaxAttempts + maxRateLimitedRuns runs the action fails.
const (
	defaultRetryAfter  = 30 * time.Second
	minRetryAfter      = time.Second
	maxRetryAfter      = time.Hour
	maxRateLimitedRuns = 10
)

// WorkerConfig configures the worker.
type WorkerConfig struct {
	// Timeout bounds one trigger, connection to last header.
	Timeout time.Duration
	// Egress decides which addresses a trigger may connect to, when it
	// dials; nil refuses every non-public address.
	Egress *egress.Policy
	// Keys open the runbooks' sealed credentials; nil fails every trigger.
	Keys *secretbox.Keyring
}

// Worker triggers runbook actions.
type Worker struct {
	river.WorkerDefaults[Args]
	log     *zap.Logger
	db      *store.DB
	actions *action.Store
	keys    *secretbox.Keyring
	timeout time.Duration
	http    *egress.Clients
}

// NewWorker returns a Worker that reads runbooks through db and records
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

// target is a registered runbook, its credential opened.
type target struct {
	provision.Runbook
}

// verdict is what a server's answer means for the action.
type verdict int

const (
	triggered   verdict = iota
	retry               // with River's backoff
	rateLimited         // after Retry-After
	rejected            // for good
)

// Work triggers one runbook action. A returned error makes River retry
// with its backoff until MaxAttempts; river.JobSnooze waits out a rate
// limit; river.JobCancel stops the job for good. As with the other
// executors, every way the last attempt can fail records the action as
// failed first.
func (w *Worker) Work(ctx context.Context, j *river.Job[Args]) error {
	t, err := tenant.Parse(j.Args.Tenant)
	if err != nil {
		return river.JobCancel(fmt.Errorf("runbook job %d: %w", j.ID, err))
	}
	ctx = tenant.WithIdentity(ctx, tenant.Identity{Tenant: t, Subject: job.SystemSubject})
	log := w.log.With(zap.String("tenant_id", string(t)), zap.String("action_id", j.Args.ActionID),
		zap.Int("attempt", j.Attempt))
	at := job.Attempt{Ref: j.Args.Ref, JobID: j.ID, Number: j.Attempt, MaxAttempts: j.MaxAttempts}

	a, err := w.actions.Get(ctx, j.Args.ActionID)
	if errors.Is(err, action.ErrNotFound) {
		return river.JobCancel(fmt.Errorf("runbook job %d: action %s: %w", j.ID, j.Args.ActionID, err))
	}
	if err != nil {
		return job.Abandon(ctx, log, w.actions, at, "the action could not be loaded", err)
	}
	if a.Status != action.StatusPending {
		// A redelivery after the outcome was recorded: triggering again
		// would run the job twice.
		log.Info("runbook action already finished; not triggering again", zap.String("status", string(a.Status)))
		return nil
	}

	tg, found, err := w.lookup(ctx, t, a.Runbook.Target)
	if err != nil {
		return job.Abandon(ctx, log, w.actions, at, "the runbook could not be read", err)
	}
	if !found {
		// Removed after the action was accepted.
		log.Warn("runbook not registered; action failed", zap.String("runbook", a.Runbook.Target))
		return job.FailForGood(ctx, log, w.actions, at, fmt.Sprintf("unknown runbook %q", a.Runbook.Target))
	}
	req, err := w.request(ctx, tg, a, t, j.Attempt)
	if err != nil {
		return job.FailForGood(ctx, log, w.actions, at, "the trigger could not be written: "+err.Error())
	}

	result, v, wait, refused := w.trigger(req, tg.Kind)
	if refused {
		log.Warn("runbook refused by the egress policy; action failed", zap.String("runbook", tg.Name), zap.String("result", result))
		return job.FailForGood(ctx, log, w.actions, at, result)
	}
	if v != triggered && ctx.Err() != nil {
		return job.Abandon(ctx, log, w.actions, at, "the trigger was interrupted by a shutdown or the job timeout",
			fmt.Errorf("trigger action %s: %w", a.ID, context.Cause(ctx)))
	}

	switch v {
	case rejected:
		log.Warn("the automation server refused the trigger; action failed", zap.String("result", result))
		return job.FailForGood(ctx, log, w.actions, at, result)
	case rateLimited:
		if a.Attempts+1 >= j.MaxAttempts+maxRateLimitedRuns {
			log.Warn("the automation server still rate limits; action failed", zap.String("result", result))
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
		log.Info("runbook triggered", zap.String("result", result))
		return nil
	case action.StatusFailed:
		log.Warn("runbook trigger failed; giving up", zap.String("result", result))
	default:
		if v == rateLimited {
			log.Info("automation server rate limited; waiting", zap.Duration("retry_after", wait))
			return river.JobSnooze(wait)
		}
		log.Info("runbook trigger failed; River will retry", zap.String("result", result))
	}
	return fmt.Errorf("trigger action %s: %s", a.ID, result)
}

// genericBody is what a generic runbook endpoint gets.
type genericBody struct {
	ActionID       string          `json:"action_id"`
	IdempotencyKey string          `json:"idempotency_key"`
	IncidentID     string          `json:"incident_id"`
	TenantID       string          `json:"tenant_id"`
	Runbook        string          `json:"runbook"`
	Reason         string          `json:"reason"`
	Params         json.RawMessage `json:"params"`
	Attempt        int             `json:"attempt"`
}

// request writes the HTTP request that triggers tg with a's parameters.
func (w *Worker) request(ctx context.Context, tg target, a action.Action, t tenant.ID, attempt int) (*http.Request, error) {
	params := a.Runbook.Params
	if len(params) == 0 {
		params = json.RawMessage(`{}`)
	}
	var (
		body []byte
		err  error
	)
	switch tg.Kind {
	case provision.RunbookRundeck:
		var opts map[string]string
		if opts, err = rundeckOptions(params); err == nil {
			body, err = json.Marshal(map[string]any{"options": opts})
		}
	case provision.RunbookAWX:
		body, err = json.Marshal(map[string]json.RawMessage{"extra_vars": params})
	default:
		body, err = json.Marshal(genericBody{
			ActionID:       a.ID,
			IdempotencyKey: a.IdempotencyKey,
			IncidentID:     a.IncidentID,
			TenantID:       string(t),
			Runbook:        tg.Name,
			Reason:         a.Reason,
			Params:         params,
			Attempt:        attempt,
		})
	}
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tg.Endpoint(), bytes.NewReader(body))
	if err != nil {
		return nil, errors.New("invalid runbook URL")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	switch tg.Kind {
	case provision.RunbookRundeck:
		req.Header.Set("X-Rundeck-Auth-Token", string(tg.Credential))
	case provision.RunbookAWX:
		req.Header.Set("Authorization", "Bearer "+string(tg.Credential))
	default:
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req.Header.Set(webhook.HeaderTimestamp, ts)
		req.Header.Set(webhook.HeaderSignature, webhook.Sign(tg.Credential, ts, body))
		req.Header.Set(webhook.HeaderIdempotencyKey, a.IdempotencyKey)
	}
	return req, nil
}

// rundeckOptions turns the parameters into Rundeck job options, which are
// strings: a string is sent as it is, any other value as its JSON text.
func rundeckOptions(params json.RawMessage) (map[string]string, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(params, &raw); err != nil {
		return nil, fmt.Errorf("params are not a JSON object: %w", err)
	}
	opts := make(map[string]string, len(raw))
	for k, v := range raw {
		var s string
		if json.Unmarshal(v, &s) == nil {
			opts[k] = s
			continue
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, v); err != nil {
			return nil, err
		}
		opts[k] = compact.String()
	}
	return opts, nil
}

// trigger sends req once and says what the answer means: the result text
// (with the remote execution's ID on success), the verdict, how long to
// wait for a rate limit, and whether the egress policy refused the
// address.
func (w *Worker) trigger(req *http.Request, kind provision.RunbookKind) (result string, v verdict, wait time.Duration, refused bool) {
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
	code := resp.StatusCode
	result = "HTTP " + strconv.Itoa(code)
	if code >= 200 && code < 300 {
		return result + "; " + execution(kind, raw), triggered, 0, false
	}
	if text := clip(string(raw)); text != "" {
		result += " " + text
	}
	switch {
	case code == http.StatusTooManyRequests:
		return result, rateLimited, retryAfter(resp.Header.Get("Retry-After"), time.Now()), false
	case code == http.StatusRequestTimeout || code >= 500:
		return result, retry, 0, false
	default:
		// 3xx (redirects are not followed) and the other 4xx: a bad token
		// (401), no permission (403), no such job (404), AWX's 400 for
		// variables_needed_to_start, ... which a retry would get again.
		return result, rejected, 0, false
	}
}

// execution reads the remote execution's ID from a successful answer:
// Rundeck answers the run with the execution ({"id": 1234, "permalink":
// ...}), AWX the launch with the job ({"job": 42, "ignored_fields": {...}}),
// and a generic endpoint may say "execution_id" or "id".
func execution(kind provision.RunbookKind, raw []byte) string {
	var body map[string]json.RawMessage
	_ = json.Unmarshal(raw, &body)
	id := func(keys ...string) string {
		for _, k := range keys {
			v, ok := body[k]
			if !ok {
				continue
			}
			var s string
			if json.Unmarshal(v, &s) == nil && s != "" {
				return clip(s)
			}
			var n json.Number
			if json.Unmarshal(v, &n) == nil {
				return n.String()
			}
		}
		return ""
	}
	switch kind {
	case provision.RunbookRundeck:
		if x := id("id"); x != "" {
			out := "rundeck execution " + x
			if p := id("permalink"); p != "" {
				out += " " + p
			}
			return out
		}
		return "no execution ID in Rundeck's answer"
	case provision.RunbookAWX:
		x := id("job", "id")
		if x == "" {
			return "no job ID in AWX's answer"
		}
		out := "awx job " + x
		// AWX launches the job but drops what the template does not
		// prompt for on launch; say so rather than hide it.
		var ignored map[string]json.RawMessage
		if json.Unmarshal(body["ignored_fields"], &ignored) == nil && len(ignored) > 0 {
			out += "; AWX ignored " + strings.Join(slices.Sorted(maps.Keys(ignored)), ", ") + " (the template does not prompt for them on launch)"
		}
		return out
	default:
		if x := id("execution_id", "id"); x != "" {
			return "execution " + x
		}
		return "accepted"
	}
}

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

// clip keeps the start of a server's answer, on one line, printable.
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

// describe says why a request failed without repeating its URL.
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

// lookup reads the context's tenant's runbook name and opens its
// credential.
func (w *Worker) lookup(ctx context.Context, t tenant.ID, name string) (target, bool, error) {
	var (
		tg     target
		kind   string
		record uuid.UUID
		sealed []byte
	)
	err := w.db.WithTenant(ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT name, kind, url, job, api_version, record_id, credential_sealed FROM runbooks WHERE tenant_id = $1 AND name = $2`, string(t), name).
			Scan(&tg.Name, &kind, &tg.URL, &tg.Job, &tg.APIVersion, &record, &sealed)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return target{}, false, nil
	}
	if err != nil {
		return target{}, false, fmt.Errorf("look up runbook %q: %w", name, err)
	}
	if w.keys == nil {
		return target{}, false, fmt.Errorf("runbook %q: no key ring to open its credential with (ALEXUS_SECRET_KEYS)", name)
	}
	cred, err := w.keys.Open(provision.RunbookOwner(t, record.String()), sealed)
	if err != nil {
		return target{}, false, fmt.Errorf("open the credential of runbook %q: %w", name, err)
	}
	tg.Kind, tg.Credential = provision.RunbookKind(kind), cred
	return tg, true, nil
}
