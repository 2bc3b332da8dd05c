package e2e_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	actionsv1 "github.com/alexus-platform/alexus/gen/alexus/actions/v1"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/secretbox"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/internal/ticket/jira"
	"github.com/alexus-platform/alexus/internal/ticket/jira/jiratest"
	"github.com/alexus-platform/alexus/services/actions/ticketjob"
)

// TestJiraOpenCompletesOnceAcrossWorkerKill kills a real `alexus actions`
// process with SIGKILL after Jira created the issue but before the answer
// reached the worker, restarts it, and shows that the incident still has
// one issue: the rescued job looks for the incident's marker before it
// creates, finds the issue the killed run made, and records it. 1,000
// duplicate ExecuteAction calls before, during and after the kill name one
// action. As in TestActionCompletesOnceAcrossWorkerKill, the killed job's
// attempted_at is moved back past the plane's rescue threshold.
func TestJiraOpenCompletesOnceAcrossWorkerKill(t *testing.T) {
	t.Parallel()
	pg := storetest.New(t)
	ctx := context.Background()
	poolCfg, err := pgxpool.ParseConfig(pg.AdminURL)
	require.NoError(t, err)
	poolCfg.MaxConns = 2
	admin, err := pgxpool.NewWithConfig(ctx, poolCfg)
	require.NoError(t, err)
	t.Cleanup(admin.Close)

	// Jira, behind a door that lets the first create through to Jira and
	// then holds its answer until the worker is dead.
	j := jiratest.New(t)
	door := newHoldingDoor(t, j.URL)

	key, err := secretbox.GenerateKey()
	require.NoError(t, err)
	keyring := "e2e:" + key
	keys, err := secretbox.ParseKeyring(keyring)
	require.NoError(t, err)
	acme := tenant.WithIdentity(ctx, tenant.Identity{Tenant: "acme", Subject: "system:orchestrator"})
	_, err = provision.EnsureTenant(acme, pg.DB, provision.TenantOptions{})
	require.NoError(t, err)
	require.NoError(t, provision.SetTicketIntegration(acme, pg.DB, keys, provision.TicketIntegration{
		System: provision.TicketJira,
		Jira: &jira.Config{BaseURL: door.srv.URL, Email: jiratest.Email, APIToken: jiratest.APIToken,
			Project: jiratest.Project, AccountID: jiratest.AccountID},
	}))

	internalSecret := killRandBytes(t, 32)
	plane, cc := startableActionsPlane(t, pg.AdminURL, internalSecret,
		"ALEXUS_ACTIONS_WEBHOOK_SECRET=base64:"+base64.StdEncoding.EncodeToString(killRandBytes(t, 32)),
		"ALEXUS_SECRET_KEYS="+keyring,
		// Long enough that the held create cannot time out before the kill.
		"ALEXUS_ACTIONS_TICKET_TIMEOUT=60s",
		"ALEXUS_ACTIONS_WORKERS=2",
		"ALEXUS_ACTIONS_TICKET_WORKERS=2",
	)
	health := healthpb.NewHealthClient(cc)
	incidentID := "6f1c1c9e-0d3a-4e39-9a59-1a3c0c6d2b77"
	calls := &duplicateCalls{client: actionsv1.NewActionServiceClient(cc), ctx: acme, req: &actionsv1.ExecuteActionRequest{
		IdempotencyKey: "incident/" + incidentID + "/ticket/open",
		IncidentId:     incidentID,
		Kind:           actionsv1.ActionKind_ACTION_KIND_JIRA,
		Reason:         "escalated to a person",
		Params: &actionsv1.ExecuteActionRequest_Ticket{Ticket: &actionsv1.TicketParams{
			Operation:   actionsv1.TicketOperation_TICKET_OPERATION_OPEN,
			Title:       "Checkout latency above 2s",
			Description: "p99 latency of checkout is 2.4s since 14:02.",
		}},
	}}
	jiraKind := ticketjob.JiraArgs{}.Kind()

	// First life: the action is made, its job creates the issue, and the
	// answer is held.
	plane.start(t, acme, health)
	calls.run(t, 400, 40)
	select {
	case <-door.held:
	case <-time.After(rescueWait):
		t.Fatalf("no create reached Jira; the plane's log:\n%s", plane.logTail())
	}
	actionID := calls.onlyID(t)
	require.Len(t, j.Issues(), 1, "Jira created the issue")
	jobID, state, attempt := riverJobOf(t, admin, jiraKind)
	require.Equal(t, "running", state)
	require.Equal(t, 1, attempt)

	// Kill it before it hears Jira's answer.
	during := calls.runAsync(t, 200, 20)
	plane.kill(t)
	door.release()
	require.Equal(t, "pending", actionStatus(t, admin, actionID))
	tag, err := admin.Exec(ctx, `UPDATE river_job SET attempted_at = now() - interval '2 hours' WHERE id = $1 AND state = 'running'`, jobID)
	require.NoError(t, err)
	require.EqualValues(t, 1, tag.RowsAffected())

	// Second life: the rescued job finds the issue by the marker.
	plane.start(t, acme, health)
	during()
	calls.run(t, 400, 40)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, "succeeded", actionStatus(c, admin, actionID))
		_, state, _ := riverJobOf(c, admin, jiraKind)
		assert.Equal(c, "completed", state)
	}, rescueWait, 100*time.Millisecond, "the plane's log:\n%s", plane.logTailLazy())

	require.EqualValues(t, 1000, calls.done.Load())
	require.EqualValues(t, 1, calls.created.Load(), "one call created the action, 999 were replays")
	issues := j.Issues()
	require.Len(t, issues, 1, "one issue, though the create ran in two lives")
	require.EqualValues(t, 1, door.creates.Load(), "the rescued run found the issue instead of creating again")

	var (
		remoteKey, result string
		tickets, attempts int
	)
	require.NoError(t, admin.QueryRow(ctx, `SELECT count(*), min(remote_key) FROM tickets`).Scan(&tickets, &remoteKey))
	require.Equal(t, 1, tickets)
	require.Equal(t, issues[0].Key, remoteKey)
	require.NoError(t, admin.QueryRow(ctx, `SELECT result, attempts FROM actions WHERE id = $1`, actionID).Scan(&result, &attempts))
	require.Contains(t, result, issues[0].Key)
	require.Equal(t, 1, attempts, "the killed run recorded nothing")
	_, _, attempt = riverJobOf(t, admin, jiraKind)
	require.Equal(t, 2, attempt, "the killed attempt and the rescued one")
	require.Equal(t, []string{"action.requested", "action.succeeded"}, auditEvents(t, admin, "action/"+actionID))
}

// holdingDoor forwards to a stand-in, except that it holds the answer to
// the first issue create (performed by the stand-in) until release.
type holdingDoor struct {
	srv     *httptest.Server
	held    chan struct{}
	free    chan struct{}
	first   atomic.Bool
	once    sync.Once
	creates atomic.Int32
}

func newHoldingDoor(t *testing.T, target string) *holdingDoor {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(u)
	d := &holdingDoor{held: make(chan struct{}), free: make(chan struct{})}
	d.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/rest/api/3/issue" {
			proxy.ServeHTTP(w, r)
			return
		}
		d.creates.Add(1)
		if !d.first.CompareAndSwap(false, true) {
			proxy.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		proxy.ServeHTTP(rec, r)
		close(d.held)
		select {
		case <-d.free:
		case <-r.Context().Done():
		}
		// The worker is dead by now; the answer goes nowhere.
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(d.release)
	t.Cleanup(d.srv.Close)
	return d
}

func (d *holdingDoor) release() { d.once.Do(func() { close(d.free) }) }
