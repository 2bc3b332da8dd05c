package e2e_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	actionsv1 "github.com/alexus-platform/alexus/gen/alexus/actions/v1"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/rpc"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/actions/webhook"
)

// rescueWait bounds the wait for River to rescue the killed job once the
// plane is back: the dead process's leadership has to expire (River's
// leader TTL is 15s) before the new one runs the rescuer and the scheduler
// makes the job available again. It only bounds a wait; nothing is timed.
const rescueWait = 2 * time.Minute

// TestActionCompletesOnceAcrossWorkerKill kills a real `alexus actions`
// process with SIGKILL while its webhook job is in the middle of a
// delivery, restarts it, and shows that the action completes exactly once:
// River rescues the stuck job and runs it again, the redelivery carries the
// same idempotency key so the receiver applies the effect once, the action
// is SUCCEEDED once with one action.succeeded audit entry, and 1,000
// duplicate ExecuteAction calls made before, during and after the kill all
// name that one action.
//
// River rescues a job left running by a dead process only once it has been
// running for RescueStuckJobsAfter: ALEXUS_ACTIONS_RESCUE_AFTER, by default
// the longest a job of any queue may run plus a minute (about 17 minutes,
// set by the Jira and ServiceNow call budgets), and never less than that.
// The test therefore moves the killed job's attempted_at two hours back,
// which is what that wait would look like to River, and lets the restarted
// process's own rescuer find it.
func TestActionCompletesOnceAcrossWorkerKill(t *testing.T) {
	t.Parallel()
	pg := storetest.New(t) // skips without Postgres; the action plane needs no Redis
	ctx := context.Background()
	poolCfg, err := pgxpool.ParseConfig(pg.AdminURL)
	require.NoError(t, err)
	poolCfg.MaxConns = 2
	admin, err := pgxpool.NewWithConfig(ctx, poolCfg)
	require.NoError(t, err)
	t.Cleanup(admin.Close)

	webhookSecret, internalSecret := killRandBytes(t, 32), killRandBytes(t, 32)
	recv := newOnceReceiver(t, webhookSecret)
	acme := tenant.WithIdentity(ctx, tenant.Identity{Tenant: "acme", Subject: "system:orchestrator"})
	_, err = provision.EnsureTenant(acme, pg.DB, provision.TenantOptions{DefaultWebhookURL: recv.srv.URL})
	require.NoError(t, err)

	plane, cc := startableActionsPlane(t, pg.AdminURL, internalSecret,
		"ALEXUS_ACTIONS_WEBHOOK_SECRET=base64:"+base64.StdEncoding.EncodeToString(webhookSecret),
		// Long enough that the first delivery cannot time out before the
		// test kills the process; the rescue does not depend on it, since
		// attempted_at is moved back past every timeout.
		"ALEXUS_ACTIONS_WEBHOOK_TIMEOUT=10s",
		"ALEXUS_ACTIONS_WORKERS=4",
	)
	client := actionsv1.NewActionServiceClient(cc)
	health := healthpb.NewHealthClient(cc)

	calls := &duplicateCalls{client: client, ctx: acme}

	// First life: 400 concurrent identical requests make the action; its
	// job starts, and the receiver holds the delivery open.
	plane.start(t, acme, health)
	calls.run(t, 400, 40)
	select {
	case <-recv.inFlight:
	case <-time.After(rescueWait):
		t.Fatalf("no delivery reached the receiver; the plane's log:\n%s", plane.logTail())
	}
	actionID := calls.onlyID(t)
	jobID, state, attempt := riverJob(t, admin)
	require.Equal(t, "running", state, "the job is mid-delivery")
	require.Equal(t, 1, attempt)

	// Kill it mid-delivery while 200 more identical requests are on their
	// way; they keep trying through the outage, as a caller would.
	during := calls.runAsync(t, 200, 20)
	plane.kill(t)
	recv.releaseFirst()
	require.Equal(t, "pending", actionStatus(t, admin, actionID), "the kill left the outcome unrecorded")
	_, state, _ = riverJob(t, admin)
	require.Equal(t, "running", state, "nobody marked the killed job")
	tag, err := admin.Exec(ctx, `UPDATE river_job SET attempted_at = now() - interval '2 hours' WHERE id = $1 AND state = 'running'`, jobID)
	require.NoError(t, err)
	require.EqualValues(t, 1, tag.RowsAffected())

	// Second life: the stuck job is rescued and delivered again, while the
	// last 400 identical requests arrive.
	plane.start(t, acme, health)
	during()
	calls.run(t, 400, 40)

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, "succeeded", actionStatus(c, admin, actionID))
		_, state, _ := riverJob(c, admin)
		assert.Equal(c, "completed", state)
	}, rescueWait, 100*time.Millisecond, "the plane's log:\n%s", plane.logTailLazy())

	// The 1,000 calls named one action, and only the first made it.
	require.EqualValues(t, 1000, calls.done.Load())
	require.Equal(t, actionID, calls.onlyID(t))
	require.EqualValues(t, 1, calls.created.Load(), "one call created the action, 999 were replays")

	// The receiver got the delivery twice (the killed one and the
	// redelivery), under one idempotency key, and applied it once.
	deliveries, effects, badSignatures := recv.counts()
	require.Zero(t, badSignatures)
	require.Len(t, effects, 1)
	for key, n := range effects {
		require.Equal(t, 1, n, "effect of %s", key)
		require.Equal(t, 2, deliveries[key], "deliveries of %s", key)
	}

	// One action row, SUCCEEDED with one recorded run (the killed run never
	// recorded anything); one job, rescued once and completed on its second
	// attempt; one action.succeeded entry in the audit log.
	var (
		rows        int
		actionState string
		result      string
		attempts    int
	)
	require.NoError(t, admin.QueryRow(ctx, `SELECT count(*) FROM actions`).Scan(&rows))
	require.Equal(t, 1, rows, "no second action row")
	require.NoError(t, admin.QueryRow(ctx, `SELECT status, result, attempts FROM actions WHERE id = $1`, actionID).Scan(&actionState, &result, &attempts))
	require.Equal(t, "succeeded", actionState)
	require.Equal(t, "HTTP 200", result)
	require.Equal(t, 1, attempts)

	var (
		jobs      int
		jobErrors []string
	)
	require.NoError(t, admin.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = $1`, webhookKind).Scan(&jobs))
	require.Equal(t, 1, jobs, "no second webhook job")
	_, state, attempt = riverJob(t, admin)
	require.Equal(t, "completed", state)
	require.Equal(t, 2, attempt, "the killed attempt and the rescued one")
	require.NoError(t, admin.QueryRow(ctx, `SELECT coalesce(array_agg(e->>'error'), '{}') FROM river_job, unnest(errors) e WHERE id = $1`, jobID).Scan(&jobErrors))
	require.Equal(t, []string{"Stuck job rescued by JobRescuer"}, jobErrors)

	events := auditEvents(t, admin, "action/"+actionID)
	require.Equal(t, []string{"action.requested", "action.succeeded"}, events)
	var succeeded int
	require.NoError(t, admin.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE event = 'action.succeeded'`).Scan(&succeeded))
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

// duplicateCalls makes identical ExecuteAction calls, each retried while
// the plane is unreachable, and collects what they answered.
type duplicateCalls struct {
	client actionsv1.ActionServiceClient
	ctx    context.Context
	// req is the request every call makes; nil makes a webhook action.
	req     *actionsv1.ExecuteActionRequest
	done    atomic.Int32
	created atomic.Int32
	ids     sync.Map
}

// run makes n calls from callers goroutines and returns when all have
// answered.
func (d *duplicateCalls) run(t *testing.T, n, callers int) { d.runAsync(t, n, callers)() }

// runAsync starts n calls from callers goroutines and returns a function
// that waits for them.
func (d *duplicateCalls) runAsync(t *testing.T, n, callers int) (wait func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(d.ctx, rescueWait)
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			for range n / callers {
				if err := d.call(ctx); err != nil {
					t.Errorf("ExecuteAction: %v", err)
					return
				}
			}
		})
	}
	return func() {
		wg.Wait()
		cancel()
		if t.Failed() {
			t.FailNow()
		}
	}
}

func (d *duplicateCalls) call(ctx context.Context) error {
	req := d.req
	if req == nil {
		req = webhookRequest
	}
	for {
		resp, err := d.client.ExecuteAction(ctx, req)
		if status.Code(err) == codes.Unavailable && ctx.Err() == nil {
			// The plane is down or restarting; the caller tries again.
			time.Sleep(20 * time.Millisecond)
			continue
		}
		if err != nil {
			return err
		}
		d.ids.Store(resp.GetAction().GetId(), true)
		if !resp.GetReplayed() {
			d.created.Add(1)
		}
		d.done.Add(1)
		return nil
	}
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

// onlyID returns the one action ID every call answered with.
func (d *duplicateCalls) onlyID(t *testing.T) string {
	t.Helper()
	var ids []string
	d.ids.Range(func(k, _ any) bool { ids = append(ids, k.(string)); return true })
	require.Len(t, ids, 1, "every call names the same action")
	return ids[0]
}

// startableActionsPlane returns the real `alexus actions` binary, set up to
// run against the database at adminURL on a free port (not started yet),
// and a connection to it that signs identities with internalSecret. env
// adds to (or overrides) the settings every kill test shares.
func startableActionsPlane(t *testing.T, adminURL string, internalSecret []byte, env ...string) (*actionsProcess, *grpc.ClientConn) {
	t.Helper()
	plane := &actionsProcess{bin: buildAlexusBinary(t), dir: t.TempDir(), addr: freeAddr(t)}
	plane.env = append(envWithoutAlexus(),
		"ALEXUS_POSTGRES_URL="+adminURL,
		"ALEXUS_INTERNAL_TOKEN_SECRET=base64:"+base64.StdEncoding.EncodeToString(internalSecret),
		"ALEXUS_ACTIONS_ADDR="+plane.addr,
		"ALEXUS_ACTIONS_EGRESS_ALLOW=127.0.0.0/8",
		"ALEXUS_ACTIONS_POLL_INTERVAL=100ms",
		// A small pool: the tests have one job each, and the Postgres
		// server is shared with every other test.
		"ALEXUS_POSTGRES_MAX_CONNS=10",
		"ALEXUS_LOG_LEVEL=info",
	)
	plane.env = append(plane.env, env...)
	signer, err := tenant.NewSigner(internalSecret, 0)
	require.NoError(t, err)
	cc, err := rpc.Dial(plane.addr, signer)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cc.Close() })
	return plane, cc
}

// actionsProcess is the real `alexus actions` binary, started and killed
// by the test.
type actionsProcess struct {
	bin, dir, addr string
	env            []string

	cmd    *exec.Cmd
	exited chan struct{}
	lives  int
	log    string
}

// start runs the plane, its output in a new log file, and waits until it
// serves ActionService; ctx carries the identity the health check is made
// with.
func (p *actionsProcess) start(t *testing.T, ctx context.Context, health healthpb.HealthClient) {
	t.Helper()
	p.lives++
	p.log = filepath.Join(p.dir, fmt.Sprintf("actions-%d.log", p.lives))
	logFile, err := os.Create(p.log)
	require.NoError(t, err)
	cmd := exec.Command(p.bin, "actions")
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	p.cmd, p.exited = cmd, exited
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	deadline := time.Now().Add(time.Minute)
	for {
		select {
		case <-exited:
			t.Fatalf("alexus actions exited while starting; its log:\n%s", p.logTail())
		default:
		}
		// The plane's interceptors want an identity on every call, the
		// health check's included.
		callCtx, cancel := context.WithTimeout(ctx, time.Second)
		resp, err := health.Check(callCtx, &healthpb.HealthCheckRequest{Service: actionsv1.ActionService_ServiceDesc.ServiceName})
		cancel()
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("alexus actions not healthy at %s after a minute (%v); its log:\n%s", p.addr, err, p.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill sends SIGKILL, so nothing runs on the way out: no graceful stop of
// River, no recorded outcome, no released leadership.
func (p *actionsProcess) kill(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Kill())
	<-p.exited
}

func (p *actionsProcess) logTail() string {
	b, err := os.ReadFile(p.log)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-30):], "\n")
}

// logTailLazy formats as the log's tail when a failure message is printed,
// not when the assertion is set up.
func (p *actionsProcess) logTailLazy() lazyString { return lazyString(p.logTail) }

type lazyString func() string

func (l lazyString) String() string { return l() }

// buildAlexusBinary builds cmd/alexus into a temporary folder.
func buildAlexusBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "alexus")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/alexus-platform/alexus/cmd/alexus").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// envWithoutAlexus is this process's environment without ALEXUS_*
// settings, so a developer's shell cannot point the plane elsewhere.
func envWithoutAlexus() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ALEXUS_") {
			out = append(out, kv)
		}
	}
	return out
}

func killRandBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return b
}

// webhookKind is the River job kind of webhook actions; the plane runs
// jobs of other kinds too (e.g. its periodic ones).
var webhookKind = webhook.Args{}.Kind()

// riverJob returns the ID, state and attempt of the test database's only
// webhook job.
func riverJob(t require.TestingT, db *pgxpool.Pool) (id int64, state string, attempt int) {
	return riverJobOf(t, db, webhookKind)
}

// riverJobOf returns the ID, state and attempt of the test database's only
// job of kind.
func riverJobOf(t require.TestingT, db *pgxpool.Pool, kind string) (id int64, state string, attempt int) {
	err := db.QueryRow(context.Background(), `SELECT id, state::text, attempt FROM river_job WHERE kind = $1`, kind).Scan(&id, &state, &attempt)
	require.NoError(t, err)
	return id, state, attempt
}

func actionStatus(t require.TestingT, db *pgxpool.Pool, id string) string {
	var s string
	require.NoError(t, db.QueryRow(context.Background(), `SELECT status FROM actions WHERE id = $1`, id).Scan(&s))
	return s
}

// auditEvents returns the events of subject's audit entries, oldest first.
func auditEvents(t *testing.T, db *pgxpool.Pool, subject string) []string {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT event FROM audit_log WHERE subject = $1 ORDER BY id`, subject)
	require.NoError(t, err)
	events, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return events
}
