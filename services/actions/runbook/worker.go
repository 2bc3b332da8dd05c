package runbook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

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

// Worker triggers runbook actions; job.Worker runs each job, the worker
// adds opening the runbook, writing its request and reading the remote
// execution from the answer.
type Worker struct {
	*job.Worker[Args, target]
	db   *store.DB
	keys *secretbox.Keyring
}

// NewWorker returns a Worker that reads runbooks through db and records
// outcomes through actions.
func NewWorker(cfg WorkerConfig, log *zap.Logger, db *store.DB, actions *action.Store) *Worker {
	w := &Worker{db: db, keys: cfg.Keys}
	w.Worker = job.NewWorker[Args](job.Executor[target]{
		Kind: action.KindRunbook,
		Words: job.Words{
			Target:     "runbook",
			Unreadable: "the runbook could not be read",
			Verb:       "trigger",
			Noun:       "trigger",
		},
		Lookup: w.lookup,
		Send:   w.trigger,
	}, log, actions, cfg.Egress, cfg.Timeout)
	return w
}

// Timeout lets a job run for the launch and for the search for an earlier
// launch that precedes a retried one, each page of it with the HTTP
// timeout, and the database work around them.
func (w *Worker) Timeout(j *river.Job[Args]) time.Duration {
	return w.Worker.Timeout(j) + earlierPages*w.HTTPTimeout
}

// target is a registered runbook, its credential opened.
type target struct {
	provision.Runbook
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
			opts[MarkerVar] = a.ID
			body, err = json.Marshal(map[string]any{"options": opts})
		}
	case provision.RunbookAWX:
		var vars map[string]json.RawMessage
		if vars, err = objectParams(params); err == nil {
			vars[MarkerVar], err = json.Marshal(a.ID)
		}
		if err == nil {
			body, err = json.Marshal(map[string]map[string]json.RawMessage{"extra_vars": vars})
		}
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
	raw, err := objectParams(params)
	if err != nil {
		return nil, err
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

// objectParams reads the parameters as a JSON object (null is an empty
// one), whose members become Rundeck options or AWX extra variables.
func objectParams(params json.RawMessage) (map[string]json.RawMessage, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(params, &raw); err != nil {
		return nil, fmt.Errorf("params are not a JSON object: %w", err)
	}
	if raw == nil {
		raw = map[string]json.RawMessage{}
	}
	return raw, nil
}

// trigger writes the request for tg with a's parameters, sends it once
// and says what the answer means; a success's result names the remote
// execution. A retried Rundeck or AWX launch first looks for a launch an
// earlier attempt made (see MarkerVar) and records that one instead.
func (w *Worker) trigger(ctx context.Context, t tenant.ID, tg target, a action.Action, attempt int) (job.Answer, error) {
	var note string
	if attempt > 1 {
		found, stop, n := w.earlierLaunch(ctx, tg, a)
		switch {
		case stop != nil:
			return *stop, nil
		case found != "":
			return job.Answer{Result: found + " (launched by an earlier attempt, whose answer was lost)", Verdict: job.Done}, nil
		}
		note = n
	}
	ans, err := w.launch(ctx, t, tg, a, attempt)
	if note != "" && err == nil {
		ans.Result += "; " + note
	}
	return ans, err
}

// launch sends the trigger once and says what the answer means.
func (w *Worker) launch(ctx context.Context, t tenant.ID, tg target, a action.Action, attempt int) (job.Answer, error) {
	req, err := w.request(ctx, tg, a, t, attempt)
	if err != nil {
		return job.Answer{}, errors.New("the trigger could not be written: " + err.Error())
	}
	resp, err := w.HTTP.Do(req)
	var ref *egress.RefusedError
	if errors.As(err, &ref) {
		return job.Answer{Result: ref.Error(), Verdict: job.Refused}, nil
	}
	if err != nil {
		return job.Answer{Result: job.Describe(err, w.HTTPTimeout), Verdict: job.Retry}, nil
	}
	defer resp.Body.Close()
	raw := job.ReadAnswer(resp.Body)
	code := resp.StatusCode
	result := "HTTP " + strconv.Itoa(code)
	if code >= 200 && code < 300 {
		return job.Answer{Result: result + "; " + execution(tg.Kind, raw), Verdict: job.Done}, nil
	}
	if text := job.Clip(string(raw)); text != "" {
		result += " " + text
	}
	switch {
	case code == http.StatusTooManyRequests:
		return job.Answer{Result: result, Verdict: job.RateLimited, Wait: job.RetryAfter(resp.Header.Get("Retry-After"), time.Now())}, nil
	case code == http.StatusRequestTimeout || code >= 500:
		return job.Answer{Result: result, Verdict: job.Retry}, nil
	default:
		// 3xx (redirects are not followed) and the other 4xx: a bad token
		// (401), no permission (403), no such job (404), AWX's 400 for
		// variables_needed_to_start, ... which a retry would get again.
		return job.Answer{Result: result, Verdict: job.Rejected}, nil
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
				return job.Clip(s)
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
