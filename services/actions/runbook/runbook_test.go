package runbook_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/alexus-platform/alexus/internal/egress"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/secretbox"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/actions/action"
	actionjob "github.com/alexus-platform/alexus/services/actions/job"
	"github.com/alexus-platform/alexus/services/actions/runbook"
	"github.com/alexus-platform/alexus/services/actions/webhook"
)

// answer is what a stand-in automation server replies.
type answer struct {
	status int
	body   string
	header map[string]string
	// delay holds the answer back, to provoke the worker's timeout.
	delay time.Duration
}

// request is what the stand-in received.
type request struct {
	method, path string
	query        url.Values
	header       http.Header
	body         []byte
}

// server stands in for Rundeck, AWX or a generic automation endpoint: it
// records every request and replies with the next answer (the last one
// repeats).
type server struct {
	srv *httptest.Server

	mu       sync.Mutex
	answers  []answer
	requests []request
}

func newServer(t *testing.T, answers ...answer) *server {
	s := &server{answers: answers}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.requests = append(s.requests, request{method: r.Method, path: r.URL.Path, query: r.URL.Query(), header: r.Header.Clone(), body: body})
		a := s.answers[0]
		if len(s.answers) > 1 {
			s.answers = s.answers[1:]
		}
		s.mu.Unlock()
		if a.delay > 0 {
			select {
			case <-time.After(a.delay):
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		for k, v := range a.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.body)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *server) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

func (s *server) last(t *testing.T) request {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	require.NotEmpty(t, s.requests)
	return s.requests[len(s.requests)-1]
}

// Answers as the servers document them. Rundeck's run answers the
// execution (API v41, JSON); AWX's launch answers 201 with the job.
const (
	rundeckRun = `{"id": 1234, "href": "https://rundeck.example/api/41/execution/1234",
		"permalink": "https://rundeck.example/project/ops/execution/show/1234", "status": "running",
		"project": "ops", "user": "alexus", "date-started": {"unixtime": 1796000000000, "date": "2026-11-29T10:00:00Z"},
		"job": {"id": "3f1c9a2e-job", "name": "restart-service", "group": "", "project": "ops"},
		"description": "restart", "argstring": "-service checkout"}`
	rundeckUnauthorized = `{"error": true, "apiversion": 41, "errorCode": "api.error.item.unauthorized", "message": "Not authorized for action \"Run\" for Job ID 3f1c9a2e-job"}`
	awxLaunch           = `{"job": 42, "ignored_fields": {}, "id": 42, "type": "job", "url": "/api/v2/jobs/42/",
		"status": "pending", "name": "scale-service", "extra_vars": "{\"replicas\": 3}"}`
	awxIgnored      = `{"job": 43, "ignored_fields": {"extra_vars": {"replicas": 3}}, "id": 43, "type": "job", "url": "/api/v2/jobs/43/"}`
	awxUnauthorized = `{"detail": "Authentication credentials were not provided. To establish a login session, visit /api/login/."}`
	awxMissingVar   = `{"variables_needed_to_start": ["'replicas' value missing"]}`
)

// genericKey is a generic runbook's HMAC key.
var genericKey = []byte("0123456789abcdef0123456789abcdef-generic")

type bundle struct {
	ctx    context.Context
	db     *store.DB
	keys   *secretbox.Keyring
	store  *action.Store
	worker *runbook.Worker
}

func setup(t *testing.T) *bundle {
	t.Helper()
	sb := storetest.New(t)
	ctx := tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: "acme", Subject: "user:alice"})
	_, err := provision.EnsureTenant(ctx, sb.DB, provision.TenantOptions{})
	require.NoError(t, err)
	require.NoError(t, provision.AllowEgress(ctx, sb.DB, netip.MustParsePrefix("127.0.0.0/8"), false))
	key, err := secretbox.GenerateKey()
	require.NoError(t, err)
	keys, err := secretbox.ParseKeyring("t1:" + key)
	require.NoError(t, err)
	// The job queue is not under test here: the worker is called directly;
	// the schema check is.
	st := action.NewStore(sb.DB, func(context.Context, pgx.Tx, action.Action) error { return nil }, runbook.Check)
	b := &bundle{ctx: ctx, db: sb.DB, keys: keys, store: st}
	b.worker = b.newWorker(t, time.Second, &egress.Policy{TenantAllow: webhook.TenantNetworks(b.db)})
	return b
}

func (b *bundle) newWorker(t *testing.T, timeout time.Duration, policy *egress.Policy) *runbook.Worker {
	return runbook.NewWorker(runbook.WorkerConfig{Timeout: timeout, Egress: policy, Keys: b.keys}, zaptest.NewLogger(t), b.db, b.store)
}

const schema = `{"type": "object",
	"properties": {
		"service": {"type": "string", "enum": ["checkout", "payments"]},
		"replicas": {"type": "integer", "minimum": 1, "maximum": 20},
		"drain": {"type": "boolean"}
	},
	"required": ["service"],
	"additionalProperties": false}`

// register registers s as the runbook name of kind.
func (b *bundle) register(t *testing.T, name string, kind provision.RunbookKind, s *server) {
	t.Helper()
	r := provision.Runbook{Name: name, Kind: kind, URL: s.srv.URL, Schema: json.RawMessage(schema)}
	switch kind {
	case provision.RunbookRundeck:
		r.Job, r.Credential = "3f1c9a2e-job", []byte("rd-token")
	case provision.RunbookAWX:
		r.Job, r.Credential = "7", []byte("awx-token")
	default:
		r.URL, r.Credential = s.srv.URL+"/hooks/run", genericKey
	}
	require.NoError(t, provision.SetRunbook(b.ctx, b.db, b.keys, r))
}

func (b *bundle) execute(t *testing.T, key, target, params string) action.Action {
	t.Helper()
	a, err := b.try(key, target, params)
	require.NoError(t, err)
	return a
}

func (b *bundle) try(key, target, params string) (action.Action, error) {
	a, _, err := b.store.Execute(b.ctx, action.Request{IdempotencyKey: key, Kind: action.KindRunbook, Reason: "restart checkout",
		Runbook: &action.RunbookParams{Target: target, Params: json.RawMessage(params)}})
	return a, err
}

func (b *bundle) get(t *testing.T, id string) action.Action {
	t.Helper()
	a, err := b.store.Get(b.ctx, id)
	require.NoError(t, err)
	return a
}

const maxAttempts = 5

func job(a action.Action, attempt int) *river.Job[runbook.Args] {
	return &river.Job[runbook.Args]{
		JobRow: &rivertype.JobRow{ID: 1, Attempt: attempt, MaxAttempts: maxAttempts},
		Args:   runbook.Args{Ref: actionjob.Ref{Tenant: "acme", ActionID: a.ID, IdempotencyKey: a.IdempotencyKey}},
	}
}

// A Rundeck runbook runs the job through Rundeck's run API with the token
// header and the parameters as string options, and records the execution.
func TestRundeckRunRecordsTheExecution(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rd := newServer(t, answer{status: 200, body: rundeckRun})
	b.register(t, "restart", provision.RunbookRundeck, rd)
	a := b.execute(t, "k1", "restart", `{"service": "checkout", "replicas": 3, "drain": true}`)
	require.Equal(t, "restart", a.Target())

	require.NoError(t, b.worker.Work(context.Background(), job(a, 1)))
	got := b.get(t, a.ID)
	require.Equal(t, action.StatusSucceeded, got.Status)
	require.Equal(t, "HTTP 200; rundeck execution 1234 https://rundeck.example/project/ops/execution/show/1234", got.Result)

	req := rd.last(t)
	require.Equal(t, http.MethodPost, req.method)
	require.Equal(t, "/api/41/job/3f1c9a2e-job/run", req.path)
	require.Equal(t, "rd-token", req.header.Get("X-Rundeck-Auth-Token"))
	require.Equal(t, "application/json", req.header.Get("Accept"))
	// Every run carries the action's ID as the marker option, which a
	// retried attempt looks for before running the job again.
	require.JSONEq(t, `{"options": {"service": "checkout", "replicas": "3", "drain": "true", "alexus_action_id": "`+a.ID+`"}}`, string(req.body),
		"Rundeck options are strings")
}

// An AWX runbook launches the job template with a Bearer token and the
// parameters, typed, as extra_vars, and records the job; variables AWX
// ignored are said in the result.
func TestAWXLaunchRecordsTheJob(t *testing.T) {
	t.Parallel()
	b := setup(t)
	awx := newServer(t, answer{status: 201, body: awxLaunch}, answer{status: 201, body: awxIgnored})
	b.register(t, "scale", provision.RunbookAWX, awx)
	a := b.execute(t, "k1", "scale", `{"service": "checkout", "replicas": 3}`)

	require.NoError(t, b.worker.Work(context.Background(), job(a, 1)))
	got := b.get(t, a.ID)
	require.Equal(t, action.StatusSucceeded, got.Status)
	require.Equal(t, "HTTP 201; awx job 42", got.Result)
	req := awx.last(t)
	require.Equal(t, "/api/v2/job_templates/7/launch/", req.path)
	require.Equal(t, "Bearer awx-token", req.header.Get("Authorization"))
	// Every launch carries the action's ID as the marker variable, which a
	// retried attempt looks for before launching again.
	require.JSONEq(t, `{"extra_vars": {"service": "checkout", "replicas": 3, "alexus_action_id": "`+a.ID+`"}}`, string(req.body))

	a = b.execute(t, "k2", "scale", `{"service": "payments"}`)
	require.NoError(t, b.worker.Work(context.Background(), job(a, 1)))
	require.Equal(t, "HTTP 201; awx job 43; AWX ignored extra_vars (the template does not prompt for them on launch)", b.get(t, a.ID).Result)
}

// A generic runbook gets a signed JSON body carrying the parameters and
// the idempotency key.
func TestGenericRunbookIsSigned(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := newServer(t, answer{status: 202, body: `{"execution_id": "run-77"}`})
	b.register(t, "drain", provision.RunbookGeneric, g)
	a := b.execute(t, "k1", "drain", `{"service": "checkout"}`)

	require.NoError(t, b.worker.Work(context.Background(), job(a, 1)))
	require.Equal(t, "HTTP 202; execution run-77", b.get(t, a.ID).Result)
	req := g.last(t)
	require.Equal(t, "/hooks/run", req.path)
	require.True(t, webhook.Verify(genericKey, req.header.Get(webhook.HeaderTimestamp), req.body, req.header.Get(webhook.HeaderSignature)))
	require.Equal(t, "k1", req.header.Get(webhook.HeaderIdempotencyKey))
	var body map[string]any
	require.NoError(t, json.Unmarshal(req.body, &body))
	require.Equal(t, map[string]any{"service": "checkout"}, body["params"])
	require.Equal(t, "drain", body["runbook"])
	require.Equal(t, a.ID, body["action_id"])
	require.Equal(t, "acme", body["tenant_id"])
}

// Parameters that break the runbook's schema, and runbooks the tenant has
// not registered, are refused when the action is requested, naming the
// violation; nothing is stored and nothing is sent.
func TestParamsThatBreakTheSchemaAreRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rd := newServer(t, answer{status: 200, body: rundeckRun})
	b.register(t, "restart", provision.RunbookRundeck, rd)

	for params, want := range map[string]string{
		`{}`:                    `params of runbook "restart" break its schema: $.service: required property missing`,
		`{"service": "search"}`: `$.service: value not in enum ["checkout","payments"]`,
		`{"service": "checkout", "replicas": 50}`:  `$.replicas: above maximum 20`,
		`{"service": "checkout", "replicas": 2.5}`: `$.replicas: want integer, got number`,
		`{"service": "checkout", "force": true}`:   `$.force: additional property not allowed`,
		`["checkout"]`:                             `runbook params must be a JSON object`,
	} {
		_, err := b.try("k-"+params, "restart", params)
		require.ErrorIs(t, err, action.ErrInvalid, params)
		require.ErrorContains(t, err, want, params)
	}
	_, err := b.try("k-unknown", "reboot", `{"service": "checkout"}`)
	require.ErrorIs(t, err, action.ErrInvalid)
	require.ErrorContains(t, err, `unknown runbook "reboot"`)

	var actions, audits int
	require.NoError(t, b.db.WithTenant(b.ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(b.ctx, `SELECT count(*) FROM actions`).Scan(&actions); err != nil {
			return err
		}
		return tx.QueryRow(b.ctx, `SELECT count(*) FROM audit_log WHERE subject LIKE 'action/%'`).Scan(&audits)
	}))
	require.Zero(t, actions)
	require.Zero(t, audits)
	require.Zero(t, rd.count())
}

// 401 and the other 4xx fail the action at once; 429 waits for
// Retry-After; 5xx and timeouts are retried, and fail on the last attempt.
func TestServerAnswers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		kind   provision.RunbookKind
		answer answer
		want   string
	}{
		{"rundeck 401", provision.RunbookRundeck, answer{status: 401, body: rundeckUnauthorized}, "HTTP 401 " + rundeckUnauthorized},
		{"awx 401", provision.RunbookAWX, answer{status: 401, body: awxUnauthorized}, "HTTP 401 " + awxUnauthorized},
		{"awx 400", provision.RunbookAWX, answer{status: 400, body: awxMissingVar}, "HTTP 400 " + awxMissingVar},
		{"rundeck 404", provision.RunbookRundeck, answer{status: 404, body: `{"error": true, "message": "Job ID does not exist"}`}, `HTTP 404 {"error": true, "message": "Job ID does not exist"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			s := newServer(t, tc.answer)
			b.register(t, "rb", tc.kind, s)
			a := b.execute(t, "k1", "rb", `{"service": "checkout"}`)
			var cancel *rivertype.JobCancelError
			require.ErrorAs(t, b.worker.Work(context.Background(), job(a, 1)), &cancel)
			got := b.get(t, a.ID)
			require.Equal(t, action.StatusFailed, got.Status)
			require.Equal(t, tc.want, got.Result)
			require.Equal(t, 1, s.count())
		})
	}

	t.Run("429", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		s := newServer(t, answer{status: 429, body: `{"detail": "Request was throttled."}`, header: map[string]string{"Retry-After": "7"}},
			answer{status: 201, body: awxLaunch})
		b.register(t, "rb", provision.RunbookAWX, s)
		a := b.execute(t, "k1", "rb", `{"service": "checkout"}`)
		var snooze *river.JobSnoozeError
		require.ErrorAs(t, b.worker.Work(context.Background(), job(a, 1)), &snooze)
		require.Equal(t, 7*time.Second, snooze.Duration)
		got := b.get(t, a.ID)
		require.Equal(t, action.StatusPending, got.Status)
		require.Equal(t, `HTTP 429 {"detail": "Request was throttled."}; retrying in 7s`, got.Result)
		// A snooze does not use up an attempt.
		require.NoError(t, b.worker.Work(context.Background(), job(a, 1)))
		require.Equal(t, "HTTP 201; awx job 42", b.get(t, a.ID).Result)
	})

	t.Run("5xx", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		s := newServer(t, answer{status: 503, body: "upstream unavailable"})
		b.register(t, "rb", provision.RunbookRundeck, s)
		a := b.execute(t, "k1", "rb", `{"service": "checkout"}`)
		err := b.worker.Work(context.Background(), job(a, 1))
		require.Error(t, err)
		var cancel *rivertype.JobCancelError
		require.NotErrorAs(t, err, &cancel, "River retries it")
		got := b.get(t, a.ID)
		require.Equal(t, action.StatusPending, got.Status)
		require.Equal(t, "HTTP 503 upstream unavailable", got.Result)

		require.Error(t, b.worker.Work(context.Background(), job(a, maxAttempts)))
		got = b.get(t, a.ID)
		require.Equal(t, action.StatusFailed, got.Status, "the last attempt gives up")
		require.Equal(t, 2, got.Attempts)
	})

	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		s := newServer(t, answer{status: 200, body: rundeckRun, delay: 5 * time.Second})
		b.register(t, "rb", provision.RunbookRundeck, s)
		b.worker = b.newWorker(t, 200*time.Millisecond, &egress.Policy{TenantAllow: webhook.TenantNetworks(b.db)})
		a := b.execute(t, "k1", "rb", `{"service": "checkout"}`)
		require.Error(t, b.worker.Work(context.Background(), job(a, 1)))
		got := b.get(t, a.ID)
		require.Equal(t, action.StatusPending, got.Status)
		require.Equal(t, "timeout: no response within 200ms", got.Result)
	})
}

// A runbook whose address the tenant may not reach is never contacted, and
// its action fails at once; so does one removed after the action was
// accepted.
func TestEgressRefusalAndRemovedRunbookFailForGood(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := newServer(t, answer{status: 200, body: rundeckRun})
	b.register(t, "restart", provision.RunbookRundeck, s)
	a := b.execute(t, "k1", "restart", `{"service": "checkout"}`)

	strict := b.newWorker(t, time.Second, &egress.Policy{})
	var cancel *rivertype.JobCancelError
	require.ErrorAs(t, strict.Work(context.Background(), job(a, 1)), &cancel)
	got := b.get(t, a.ID)
	require.Equal(t, action.StatusFailed, got.Status)
	require.Equal(t, "refused: 127.0.0.1 is a loopback address this tenant may not reach", got.Result)
	require.Zero(t, s.count())

	a = b.execute(t, "k2", "restart", `{"service": "checkout"}`)
	require.NoError(t, provision.RemoveRunbook(b.ctx, b.db, "restart"))
	require.ErrorAs(t, b.worker.Work(context.Background(), job(a, 1)), &cancel)
	got = b.get(t, a.ID)
	require.Equal(t, action.StatusFailed, got.Status)
	require.Equal(t, `unknown runbook "restart"`, got.Result)
	require.Zero(t, s.count())
}
