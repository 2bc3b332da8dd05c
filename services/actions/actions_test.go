package actions_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	actionsv1 "github.com/alexus-platform/alexus/gen/alexus/actions/v1"
	orchestratorv1 "github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1"
	"github.com/alexus-platform/alexus/internal/audit"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/rpc"
	"github.com/alexus-platform/alexus/internal/secretbox"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/internal/ticket/ticketapi"
	"github.com/alexus-platform/alexus/services/actions"
	"github.com/alexus-platform/alexus/services/actions/action"
	actionsaudit "github.com/alexus-platform/alexus/services/actions/audit"
	"github.com/alexus-platform/alexus/services/actions/webhook"
)

const (
	waitFor = 20 * time.Second
	tick    = 20 * time.Millisecond
)

// fastRetry makes River retry a failed job almost at once, so tests of the
// retry path take milliseconds instead of River's exponential backoff.
type fastRetry struct{}

func (fastRetry) NextRetry(*rivertype.JobRow) time.Time { return time.Now().Add(10 * time.Millisecond) }

// delivery is one request the receiver got.
type delivery struct {
	header http.Header
	body   []byte
}

// receiver stands in for a tenant's webhook endpoint. It checks every
// delivery's signature and answers with respond (200 when nil).
type receiver struct {
	srv           *httptest.Server
	secret        []byte
	respond       func(n int32, w http.ResponseWriter, r *http.Request)
	count         atomic.Int32
	badSignatures atomic.Int32

	mu         sync.Mutex
	deliveries []delivery
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if !webhook.Verify(rc.secret, r.Header.Get(webhook.HeaderTimestamp), body, r.Header.Get(webhook.HeaderSignature)) {
		rc.badSignatures.Add(1)
	}
	rc.mu.Lock()
	rc.deliveries = append(rc.deliveries, delivery{header: r.Header.Clone(), body: body})
	rc.mu.Unlock()
	n := rc.count.Add(1)
	if rc.respond != nil {
		rc.respond(n, w, r)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (rc *receiver) all() []delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]delivery(nil), rc.deliveries...)
}

type options struct {
	cfg     actions.Config
	respond func(n int32, w http.ResponseWriter, r *http.Request)
	// orch stands in for the orchestrator; nil leaves the plane without.
	orch orchestratorv1.OrchestratorServiceClient
}

type bundle struct {
	db     *store.DB
	client actionsv1.ActionServiceClient
	addr   string
	recv   *receiver
	// keys seal and open notify targets' URLs.
	keys *secretbox.Keyring
	// stop ends Run and returns its error; later calls return the same.
	stop func() error
}

func setup(t *testing.T, opts ...func(*options)) *bundle {
	t.Helper()
	o := options{cfg: actions.DefaultConfig()}
	o.cfg.WebhookSecret = randomBytes(t, 32)
	o.cfg.WebhookTimeout = 5 * time.Second
	o.cfg.Workers = 8
	o.cfg.PollInterval = 50 * time.Millisecond
	o.cfg.ShutdownTimeout = 10 * time.Second
	// The test receivers listen on loopback.
	o.cfg.EgressAllow = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	for _, fn := range opts {
		fn(&o)
	}

	sb := storetest.New(t)
	internalSecret := randomBytes(t, 32)
	verifier, err := tenant.NewVerifier(internalSecret)
	require.NoError(t, err)
	signer, err := tenant.NewSigner(internalSecret, 0)
	require.NoError(t, err)

	key, err := secretbox.GenerateKey()
	require.NoError(t, err)
	keys, err := secretbox.ParseKeyring("t1:" + key)
	require.NoError(t, err)

	b := &bundle{db: sb.DB, keys: keys}
	b.recv = &receiver{secret: o.cfg.WebhookSecret, respond: o.respond}
	b.recv.srv = httptest.NewServer(b.recv)
	t.Cleanup(b.recv.srv.Close)

	svc, err := actions.New(o.cfg, actions.Deps{
		Log:          zaptest.NewLogger(t),
		DB:           sb.DB,
		Verifier:     verifier,
		RetryPolicy:  fastRetry{},
		Keys:         keys,
		Orchestrator: o.orch,
		// The ticket clients retry quickly too.
		TicketOptions: ticketapi.Options{Timeout: 5 * time.Second, InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxRetryAfter: 50 * time.Millisecond},
	})
	require.NoError(t, err)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	b.addr = lis.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx, lis) }()
	var (
		once   sync.Once
		runErr error
	)
	b.stop = func() error {
		once.Do(func() {
			cancel()
			runErr = <-done
		})
		return runErr
	}
	t.Cleanup(func() { require.NoError(t, b.stop()) })

	cc, err := rpc.Dial(b.addr, signer)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cc.Close() })
	b.client = actionsv1.NewActionServiceClient(cc)
	return b
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return b
}

// as returns a context acting for tenant id as a user.
func as(id tenant.ID) context.Context {
	return tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: id, Subject: "user:alice"})
}

// addTenant provisions id with the receiver as its default webhook target.
func (b *bundle) addTenant(t *testing.T, id tenant.ID) {
	t.Helper()
	_, err := provision.EnsureTenant(as(id), b.db, provision.TenantOptions{DefaultWebhookURL: b.recv.srv.URL})
	require.NoError(t, err)
}

func (b *bundle) action(t require.TestingT, id tenant.ID, actionID string) action.Action {
	a, err := action.NewStore(b.db, nil).Get(as(id), actionID)
	require.NoError(t, err)
	return a
}

// waitStatus waits until the action reaches want.
func (b *bundle) waitStatus(t *testing.T, id tenant.ID, actionID string, want action.Status) action.Action {
	t.Helper()
	var a action.Action
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		a = b.action(c, id, actionID)
		assert.Equal(c, want, a.Status)
	}, waitFor, tick)
	return a
}

// events returns the audit events about subject, newest first.
func (b *bundle) events(t *testing.T, id tenant.ID, subject string) []*actionsv1.AuditEntry {
	t.Helper()
	resp, err := b.client.ListAuditLog(as(id), &actionsv1.ListAuditLogRequest{Subject: subject})
	require.NoError(t, err)
	return resp.GetEntries()
}

func eventNames(entries []*actionsv1.AuditEntry) []string {
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		out = append(out, e.GetEvent())
	}
	return out
}

func webhookRequest(key, target string) *actionsv1.ExecuteActionRequest {
	return &actionsv1.ExecuteActionRequest{
		IdempotencyKey: key,
		Kind:           actionsv1.ActionKind_ACTION_KIND_WEBHOOK,
		Reason:         "restart the payment service",
		Params: &actionsv1.ExecuteActionRequest_Webhook{Webhook: &actionsv1.WebhookParams{
			Target:  target,
			Details: map[string]string{"runbook": "restart-payments"},
		}},
	}
}

func (b *bundle) countActions(t *testing.T, id tenant.ID) int {
	t.Helper()
	var n int
	err := b.db.WithTenant(as(id), func(tx pgx.Tx) error {
		return tx.QueryRow(context.Background(), `SELECT count(*) FROM actions`).Scan(&n)
	})
	require.NoError(t, err)
	return n
}

// jobStates lists the states of every action job in the test database
// (the periodic jobs left out).
func (b *bundle) jobStates(t require.TestingT) []string {
	rows, err := b.db.Pool().Query(context.Background(), `SELECT state::text FROM river_job WHERE queue <> ALL($1) ORDER BY id`, periodicQueues)
	require.NoError(t, err)
	states, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return states
}

func TestExecuteActionDeliversSignedWebhook(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.addTenant(t, "acme")
	const incident = "0b7f3c52-3c1e-4a7e-9b43-6a0d1c2e5f10"

	req := webhookRequest("decision-1", "")
	req.IncidentId = incident
	resp, err := b.client.ExecuteAction(as("acme"), req)
	require.NoError(t, err)
	require.False(t, resp.GetReplayed())
	require.Equal(t, actionsv1.ActionStatus_ACTION_STATUS_PENDING, resp.GetAction().GetStatus())
	require.Equal(t, incident, resp.GetAction().GetIncidentId())
	id := resp.GetAction().GetId()
	require.NotEmpty(t, id)

	a := b.waitStatus(t, "acme", id, action.StatusSucceeded)
	require.Equal(t, "HTTP 200", a.Result)
	require.Equal(t, 1, a.Attempts)

	require.EqualValues(t, 1, b.recv.count.Load())
	require.Zero(t, b.recv.badSignatures.Load(), "every delivery must carry a valid signature")
	d := b.recv.all()[0]
	require.Equal(t, "application/json", d.header.Get("Content-Type"))
	require.Equal(t, "decision-1", d.header.Get(webhook.HeaderIdempotencyKey))
	var body map[string]any
	require.NoError(t, json.Unmarshal(d.body, &body))
	require.Equal(t, map[string]any{
		"action_id":       id,
		"idempotency_key": "decision-1",
		"incident_id":     incident,
		"tenant_id":       "acme",
		"reason":          "restart the payment service",
		"details":         map[string]any{"runbook": "restart-payments"},
		"attempt":         float64(1),
	}, body)

	entries := b.events(t, "acme", "action/"+id)
	require.Equal(t, []string{action.EventSucceeded, action.EventRequested}, eventNames(entries))
	requested := entries[1]
	require.Equal(t, "user:alice", requested.GetActor())
	require.Equal(t, map[string]string{
		"kind":            "webhook",
		"target":          "default",
		"incident_id":     incident,
		"idempotency_key": "decision-1",
	}, requested.GetDetails())
	require.Equal(t, webhook.SystemSubject, entries[0].GetActor())
	require.Equal(t, "HTTP 200", entries[0].GetDetails()["result"])
}

func TestConcurrentIdenticalRequestsPerformOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.addTenant(t, "acme")

	const n = 50
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		resps = make([]*actionsv1.ExecuteActionResponse, n)
		errs  = make([]error, n)
	)
	for i := range n {
		wg.Go(func() {
			<-start
			resps[i], errs[i] = b.client.ExecuteAction(as("acme"), webhookRequest("same-decision", "default"))
		})
	}
	close(start)
	wg.Wait()

	replayed := 0
	id := ""
	for i := range n {
		require.NoError(t, errs[i])
		if id == "" {
			id = resps[i].GetAction().GetId()
		}
		require.Equal(t, id, resps[i].GetAction().GetId(), "every response names the one action")
		if resps[i].GetReplayed() {
			replayed++
		}
	}
	require.Equal(t, n-1, replayed)

	b.waitStatus(t, "acme", id, action.StatusSucceeded)
	require.Equal(t, 1, b.countActions(t, "acme"))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, []string{"completed"}, b.jobStates(c))
	}, waitFor, tick)
	require.EqualValues(t, 1, b.recv.count.Load())
	require.Equal(t, []string{action.EventSucceeded, action.EventRequested}, eventNames(b.events(t, "acme", "action/"+id)))
}

func TestIdempotencyKeyReusedForDifferentActionIsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.addTenant(t, "acme")

	first := webhookRequest("decision-1", "")
	first.IncidentId = "0b7f3c52-3c1e-4a7e-9b43-6a0d1c2e5f10"
	_, err := b.client.ExecuteAction(as("acme"), first)
	require.NoError(t, err)

	other := webhookRequest("decision-1", "")
	other.IncidentId = "9d1e0a44-8f2b-4c3d-a5e6-7f8091a2b3c4"
	_, err = b.client.ExecuteAction(as("acme"), other)
	require.Equal(t, codes.InvalidArgument, status.Code(err), err)
	require.ErrorContains(t, err, "idempotency key reused for a different action")

	// The same request again is still a replay, not a refusal.
	again, err := b.client.ExecuteAction(as("acme"), first)
	require.NoError(t, err)
	require.True(t, again.GetReplayed())
	require.Equal(t, 1, b.countActions(t, "acme"))
}

func TestBadRequestsAreRefusedAndNothingStored(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.addTenant(t, "acme")

	noParams := webhookRequest("k1", "")
	noParams.Params = nil
	noKind := webhookRequest("k2", "")
	noKind.Kind = actionsv1.ActionKind_ACTION_KIND_UNSPECIFIED
	badIncident := webhookRequest("k3", "")
	badIncident.IncidentId = "not-a-uuid"
	badTarget := webhookRequest("k4", "Has Spaces")

	for name, req := range map[string]*actionsv1.ExecuteActionRequest{
		"webhook kind without webhook params": noParams,
		"no kind":                             noKind,
		"empty idempotency key":               webhookRequest("", ""),
		"incident id not a uuid":              badIncident,
		"malformed target name":               badTarget,
	} {
		_, err := b.client.ExecuteAction(as("acme"), req)
		require.Equal(t, codes.InvalidArgument, status.Code(err), "%s: %v", name, err)
	}
	require.Zero(t, b.countActions(t, "acme"))

	_, err := b.client.ExecuteAction(as("not-provisioned"), webhookRequest("k5", ""))
	require.Equal(t, codes.FailedPrecondition, status.Code(err), err)
	require.Empty(t, b.jobStates(t), "a refused request must not leave a job behind")
}

func TestReceiverFailuresAreRetriedUntilAccepted(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *options) {
		o.respond = func(n int32, w http.ResponseWriter, _ *http.Request) {
			if n <= 2 {
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}
	})
	b.addTenant(t, "acme")

	resp, err := b.client.ExecuteAction(as("acme"), webhookRequest("flaky", ""))
	require.NoError(t, err)
	id := resp.GetAction().GetId()

	a := b.waitStatus(t, "acme", id, action.StatusSucceeded)
	require.Equal(t, 3, a.Attempts)
	require.Equal(t, "HTTP 204", a.Result)
	require.EqualValues(t, 3, b.recv.count.Load())

	var attempts []float64
	for _, d := range b.recv.all() {
		var body struct {
			Attempt float64 `json:"attempt"`
		}
		require.NoError(t, json.Unmarshal(d.body, &body))
		attempts = append(attempts, body.Attempt)
		require.Equal(t, "flaky", d.header.Get(webhook.HeaderIdempotencyKey))
	}
	require.Equal(t, []float64{1, 2, 3}, attempts)

	entries := b.events(t, "acme", "action/"+id)
	require.Equal(t, []string{action.EventSucceeded, action.EventAttemptFailed, action.EventAttemptFailed, action.EventRequested},
		eventNames(entries))
	require.Equal(t, "HTTP 500", entries[1].GetDetails()["result"])
}

func TestReceiverTimeoutFailsTheAttempt(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *options) {
		o.cfg.WebhookTimeout = 200 * time.Millisecond
		o.cfg.MaxAttempts = 2
		o.respond = func(_ int32, _ http.ResponseWriter, r *http.Request) {
			// Never answer: wait until the client gives up and hangs up.
			<-r.Context().Done()
		}
	})
	b.addTenant(t, "acme")

	resp, err := b.client.ExecuteAction(as("acme"), webhookRequest("slow", ""))
	require.NoError(t, err)
	id := resp.GetAction().GetId()

	a := b.waitStatus(t, "acme", id, action.StatusFailed)
	require.Contains(t, a.Result, "timeout")
	require.Equal(t, 2, a.Attempts)
	entries := b.events(t, "acme", "action/"+id)
	require.Equal(t, []string{action.EventFailed, action.EventAttemptFailed, action.EventRequested}, eventNames(entries))
	require.Contains(t, entries[1].GetDetails()["result"], "timeout")
	require.NotContains(t, a.Result, b.recv.srv.URL, "results must not repeat the target URL")
}

func TestUnknownTargetFailsWithoutDelivery(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.addTenant(t, "acme")

	resp, err := b.client.ExecuteAction(as("acme"), webhookRequest("nowhere", "pager"))
	require.NoError(t, err)
	id := resp.GetAction().GetId()

	a := b.waitStatus(t, "acme", id, action.StatusFailed)
	require.Equal(t, `unknown webhook target "pager"`, a.Result)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, []string{"cancelled"}, b.jobStates(c), "an unknown target is not retried")
	}, waitFor, tick)
	require.Zero(t, b.recv.count.Load())
	require.Equal(t, []string{action.EventFailed, action.EventRequested}, eventNames(b.events(t, "acme", "action/"+id)))
}

func TestTenantsAreIsolated(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.addTenant(t, "acme")
	b.addTenant(t, "globex")

	ra, err := b.client.ExecuteAction(as("acme"), webhookRequest("shared-key", ""))
	require.NoError(t, err)
	rb, err := b.client.ExecuteAction(as("globex"), webhookRequest("shared-key", ""))
	require.NoError(t, err)
	require.False(t, rb.GetReplayed(), "another tenant's key must not replay")
	require.NotEqual(t, ra.GetAction().GetId(), rb.GetAction().GetId())

	b.waitStatus(t, "acme", ra.GetAction().GetId(), action.StatusSucceeded)
	b.waitStatus(t, "globex", rb.GetAction().GetId(), action.StatusSucceeded)
	tenants := map[string]string{}
	for _, d := range b.recv.all() {
		var body struct {
			ActionID string `json:"action_id"`
			TenantID string `json:"tenant_id"`
		}
		require.NoError(t, json.Unmarshal(d.body, &body))
		tenants[body.ActionID] = body.TenantID
	}
	require.Equal(t, map[string]string{ra.GetAction().GetId(): "acme", rb.GetAction().GetId(): "globex"}, tenants)

	require.Empty(t, b.events(t, "globex", "action/"+ra.GetAction().GetId()), "globex must not see acme's audit rows")
	for _, e := range b.events(t, "globex", "") {
		require.Contains(t, []string{"tenant/globex", "action/" + rb.GetAction().GetId()}, e.GetSubject())
	}
	for _, e := range b.events(t, "acme", "") {
		require.Contains(t, []string{"tenant/acme", "action/" + ra.GetAction().GetId()}, e.GetSubject())
	}
	_, err = action.NewStore(b.db, nil).Get(as("globex"), ra.GetAction().GetId())
	require.ErrorIs(t, err, action.ErrNotFound)
}

func TestListAuditLogPages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.addTenant(t, "acme") // writes one "tenant.created" entry
	err := b.db.WithTenant(as("acme"), func(tx pgx.Tx) error {
		for range 7 {
			if err := audit.Append(as("acme"), tx, "test.event", "test/x", map[string]string{"k": "v"}); err != nil {
				return err
			}
		}
		// Rows written before the writer took only string pairs may hold
		// other JSON; it comes back as JSON text rather than vanishing. (The
		// row is written off the chain here, with a made-up link, since only
		// the listing is under test.)
		_, err := tx.Exec(context.Background(), `
			INSERT INTO audit_log (tenant_id, actor, event, subject, details, seq, prev_hash, hash)
			VALUES ('acme', 'test', 'test.numbers', 'test/y', '{"n": 3, "ok": true}', 1000,
			        decode(repeat('00', 32), 'hex'), decode(repeat('00', 32), 'hex'))`)
		return err
	})
	require.NoError(t, err)

	var (
		seen  []int64
		token string
		pages int
	)
	for {
		resp, err := b.client.ListAuditLog(as("acme"), &actionsv1.ListAuditLogRequest{PageSize: 3, PageToken: token})
		require.NoError(t, err)
		pages++
		require.Len(t, resp.GetEntries(), 3)
		for _, e := range resp.GetEntries() {
			seen = append(seen, e.GetId())
		}
		token = resp.GetNextPageToken()
		if token == "" {
			break
		}
		require.Less(t, pages, 3, "nine entries in pages of three end after three pages")
	}
	require.Equal(t, 3, pages)
	require.Len(t, seen, 9)
	for i := 1; i < len(seen); i++ {
		require.Greater(t, seen[i-1], seen[i], "newest first, no repeats")
	}

	all, err := b.client.ListAuditLog(as("acme"), &actionsv1.ListAuditLogRequest{})
	require.NoError(t, err)
	require.Len(t, all.GetEntries(), 9, "page size 0 means the default of 50")
	require.Empty(t, all.GetNextPageToken())
	require.Equal(t, map[string]string{"n": "3", "ok": "true"}, all.GetEntries()[0].GetDetails())

	filtered, err := b.client.ListAuditLog(as("acme"), &actionsv1.ListAuditLogRequest{Subject: "test/x", PageSize: 5})
	require.NoError(t, err)
	require.Len(t, filtered.GetEntries(), 5)
	require.NotEmpty(t, filtered.GetNextPageToken())

	for name, tok := range map[string]string{
		"not base64":           "%%%not-a-token",
		"unknown format":       base64.RawURLEncoding.EncodeToString([]byte("v9:12:abc")),
		"bad position":         base64.RawURLEncoding.EncodeToString([]byte("a1:-4:811c9dc5")),
		"other subject filter": filtered.GetNextPageToken(),
	} {
		_, err := b.client.ListAuditLog(as("acme"), &actionsv1.ListAuditLogRequest{PageToken: tok})
		require.Equal(t, codes.InvalidArgument, status.Code(err), "%s: %v", name, err)
	}
}

// ListAuditLog filters by actor, event (exact or prefix), subject and time,
// pages within the filters, and returns each entry's place in the chain.
func TestListAuditLogFilters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.addTenant(t, "acme") // "tenant.created" by user:alice
	bob := tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: "acme", Subject: "user:bob"})
	for i, w := range []struct {
		ctx            context.Context
		event, subject string
	}{
		{as("acme"), "thing.started", "thing/1"},
		{bob, "thing.started", "thing/2"},
		{bob, "thing.finished", "thing/2"},
		{as("acme"), "thing.finished", "thing/1"},
		{bob, "other.done", "thing/1"},
		{bob, "thing_x.done", "thing/3"},
	} {
		// One transaction each, so each entry has a time of its own.
		require.NoError(t, b.db.WithTenant(w.ctx, func(tx pgx.Tx) error {
			return audit.Append(w.ctx, tx, w.event, w.subject, map[string]string{"i": string(rune('0' + i))})
		}), i)
	}

	list := func(req *actionsv1.ListAuditLogRequest) []*actionsv1.AuditEntry {
		t.Helper()
		resp, err := b.client.ListAuditLog(as("acme"), req)
		require.NoError(t, err)
		return resp.GetEntries()
	}
	subjects := func(entries []*actionsv1.AuditEntry) []string {
		out := make([]string, 0, len(entries))
		for _, e := range entries {
			out = append(out, e.GetEvent()+" "+e.GetSubject())
		}
		return out
	}

	// Entries are listed before they are chained, without a place in the
	// chain yet.
	all := list(&actionsv1.ListAuditLogRequest{})
	require.Len(t, all, 7)
	for _, e := range all {
		require.Zero(t, e.GetSeq())
		require.Empty(t, e.GetHash())
		require.Empty(t, e.GetPrevHash())
	}

	_, err := audit.Chain(as("acme"), b.db)
	require.NoError(t, err)
	all = list(&actionsv1.ListAuditLogRequest{})
	require.Len(t, all, 7)
	for i, e := range all {
		require.EqualValues(t, len(all)-i, e.GetSeq(), "newest first, seqs without gaps")
		require.Len(t, e.GetHash(), 32)
		if i+1 < len(all) {
			require.Equal(t, all[i+1].GetHash(), e.GetPrevHash(), "each entry links to the one before it")
		}
	}
	require.Equal(t, make([]byte, 32), all[len(all)-1].GetPrevHash())

	require.Equal(t, []string{"thing_x.done thing/3", "other.done thing/1", "thing.finished thing/2", "thing.started thing/2"},
		subjects(list(&actionsv1.ListAuditLogRequest{Actor: "user:bob"})))
	require.Equal(t, []string{"thing.finished thing/1", "thing.finished thing/2"},
		subjects(list(&actionsv1.ListAuditLogRequest{Event: "thing.finished"})))
	require.Equal(t, []string{"thing.finished thing/1", "thing.finished thing/2", "thing.started thing/2", "thing.started thing/1"},
		subjects(list(&actionsv1.ListAuditLogRequest{EventPrefix: "thing."})), "the prefix is literal: thing_x is not thing.")
	require.Equal(t, []string{"thing.finished thing/1", "thing.started thing/1"},
		subjects(list(&actionsv1.ListAuditLogRequest{EventPrefix: "thing.", Subject: "thing/1"})))
	require.Equal(t, []string{"thing_x.done thing/3"},
		subjects(list(&actionsv1.ListAuditLogRequest{EventPrefix: "thing_"})))

	// all[5] is the first "thing.started", all[1] "other.done": since is
	// inclusive, until exclusive.
	window := list(&actionsv1.ListAuditLogRequest{Since: all[5].GetAt(), Until: all[1].GetAt()})
	require.Equal(t, subjects(all[2:6]), subjects(window))
	require.Equal(t, subjects(all[:2]), subjects(list(&actionsv1.ListAuditLogRequest{Since: all[1].GetAt()})))
	require.Equal(t, subjects(all[6:]), subjects(list(&actionsv1.ListAuditLogRequest{Until: all[5].GetAt()})))

	// Pages within filters; a token is bound to the filters it was issued for.
	first, err := b.client.ListAuditLog(as("acme"), &actionsv1.ListAuditLogRequest{Actor: "user:bob", PageSize: 3})
	require.NoError(t, err)
	require.Len(t, first.GetEntries(), 3)
	require.NotEmpty(t, first.GetNextPageToken())
	second, err := b.client.ListAuditLog(as("acme"), &actionsv1.ListAuditLogRequest{Actor: "user:bob", PageSize: 3, PageToken: first.GetNextPageToken()})
	require.NoError(t, err)
	require.Equal(t, []string{"thing.started thing/2"}, subjects(second.GetEntries()))
	require.Empty(t, second.GetNextPageToken())
	_, err = b.client.ListAuditLog(as("acme"), &actionsv1.ListAuditLogRequest{Actor: "user:alice", PageSize: 3, PageToken: first.GetNextPageToken()})
	require.Equal(t, codes.InvalidArgument, status.Code(err), "a token for other filters: %v", err)

	for name, req := range map[string]*actionsv1.ListAuditLogRequest{
		"event and prefix":   {Event: "thing.started", EventPrefix: "thing."},
		"since after until":  {Since: all[1].GetAt(), Until: all[5].GetAt()},
		"since equals until": {Since: all[1].GetAt(), Until: all[1].GetAt()},
		"actor too long":     {Actor: string(make([]byte, 201))},
		"prefix too long":    {EventPrefix: string(make([]byte, 101))},
	} {
		_, err := b.client.ListAuditLog(as("acme"), req)
		require.Equal(t, codes.InvalidArgument, status.Code(err), "%s: %v", name, err)
	}

	// The domain refuses the same contradictions without the interceptor.
	for _, q := range []actionsaudit.Query{
		{Event: "a", EventPrefix: "a"},
		{Since: time.Unix(2, 0), Until: time.Unix(1, 0)},
	} {
		_, err := actionsaudit.NewLog(b.db).List(as("acme"), q)
		require.ErrorIs(t, err, actionsaudit.ErrBadFilter)
	}
}

// A delivery in flight when the plane is told to stop finishes, and Run
// returns only after it has been recorded.
func TestShutdownLetsDeliveryInFlightFinish(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	release := make(chan struct{})
	b := setup(t, func(o *options) {
		o.respond = func(_ int32, w http.ResponseWriter, _ *http.Request) {
			close(started)
			<-release
			w.WriteHeader(http.StatusOK)
		}
	})
	b.addTenant(t, "acme")

	resp, err := b.client.ExecuteAction(as("acme"), webhookRequest("in-flight", ""))
	require.NoError(t, err)
	<-started

	stopped := make(chan error, 1)
	go func() { stopped <- b.stop() }()
	close(release)
	require.NoError(t, <-stopped)

	a := b.action(t, "acme", resp.GetAction().GetId())
	require.Equal(t, action.StatusSucceeded, a.Status)
	require.EqualValues(t, 1, b.recv.count.Load())
}

func TestCallsWithoutAValidIdentityAreRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.addTenant(t, "acme")

	raw, err := grpc.NewClient(b.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = raw.Close() })
	plain := actionsv1.NewActionServiceClient(raw)

	foreign, err := tenant.NewSigner(randomBytes(t, 32), 0)
	require.NoError(t, err)
	foreignTok, err := foreign.Sign(tenant.Identity{Tenant: "acme", Subject: "mallory"})
	require.NoError(t, err)
	// An expired token signed with an unknown key is as bad as any other;
	// its claims are otherwise well formed.
	expired, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": "alexus", "aud": "alexus-internal", "sub": "mallory", "tenant_id": "acme",
		"iat": time.Now().Add(-2 * time.Hour).Unix(), "exp": time.Now().Add(-time.Hour).Unix(),
	}).SignedString(randomBytes(t, 32))
	require.NoError(t, err)

	for name, ctx := range map[string]context.Context{
		"no token":           context.Background(),
		"foreign-key token":  metadata.AppendToOutgoingContext(context.Background(), tenant.MetadataKey, foreignTok),
		"expired token":      metadata.AppendToOutgoingContext(context.Background(), tenant.MetadataKey, expired),
		"not a token at all": metadata.AppendToOutgoingContext(context.Background(), tenant.MetadataKey, "acme"),
	} {
		_, err := plain.ExecuteAction(ctx, webhookRequest("sneaky", ""))
		require.Equal(t, codes.Unauthenticated, status.Code(err), "ExecuteAction, %s: %v", name, err)
		_, err = plain.ListAuditLog(ctx, &actionsv1.ListAuditLogRequest{})
		require.Equal(t, codes.Unauthenticated, status.Code(err), "ListAuditLog, %s: %v", name, err)
	}
	require.Zero(t, b.countActions(t, "acme"))
}

func TestConfigValidateNamesTheBadField(t *testing.T) {
	t.Parallel()
	good := actions.DefaultConfig()
	good.WebhookSecret = make([]byte, 32)
	require.NoError(t, good.Validate())

	for field, mutate := range map[string]func(*actions.Config){
		"WebhookSecret":   func(c *actions.Config) { c.WebhookSecret = make([]byte, 31) },
		"WebhookTimeout":  func(c *actions.Config) { c.WebhookTimeout = 0 },
		"MaxAttempts":     func(c *actions.Config) { c.MaxAttempts = 0 },
		"Workers":         func(c *actions.Config) { c.Workers = 0 },
		"PollInterval":    func(c *actions.Config) { c.PollInterval = 0 },
		"ShutdownTimeout": func(c *actions.Config) { c.ShutdownTimeout = -time.Second },
		"NotifyWorkers":   func(c *actions.Config) { c.NotifyWorkers = 0 },
		"NotifyTimeout":   func(c *actions.Config) { c.NotifyTimeout = 0 },
		"TicketWorkers":   func(c *actions.Config) { c.TicketWorkers = 0 },
		"TicketTimeout":   func(c *actions.Config) { c.TicketTimeout = 0 },
		"TicketReconcileInterval": func(c *actions.Config) {
			c.TicketReconcileInterval = time.Millisecond
		},
		"RescueAfter": func(c *actions.Config) { c.RescueAfter = -time.Second },
	} {
		c := good
		mutate(&c)
		require.ErrorContains(t, c.Validate(), field)
	}
	require.ErrorContains(t, actions.DefaultConfig().Validate(), "WebhookSecret", "the default has no secret")

	_, err := actions.New(good, actions.Deps{})
	require.ErrorContains(t, err, "Deps.Log")

	// A rescue sooner than a job may run would run it twice at once: the
	// ticket jobs' budget (4 calls of up to 4 attempts of 15s, with waits)
	// is far above 2 minutes.
	verifier, err := tenant.NewVerifier(randomBytes(t, 32))
	require.NoError(t, err)
	deps := actions.Deps{Log: zaptest.NewLogger(t), DB: storetest.New(t).DB, Verifier: verifier}
	early := good
	early.RescueAfter = 2 * time.Minute
	_, err = actions.New(early, deps)
	require.ErrorContains(t, err, "RescueAfter 2m0s must exceed the longest a job may run")
	late := good
	late.RescueAfter = 2 * time.Hour
	_, err = actions.New(late, deps)
	require.NoError(t, err)
}
