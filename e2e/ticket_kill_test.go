package e2e_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	actionsv1 "github.com/alexus-platform/alexus/gen/alexus/actions/v1"
	"github.com/alexus-platform/alexus/internal/provision"
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
// action. killRig.runKill describes the kill and the rescue.
func TestJiraOpenCompletesOnceAcrossWorkerKill(t *testing.T) {
	t.Parallel()
	rig := newKillRig(t, provision.TenantOptions{})

	// Jira, behind a door that lets the first create through to Jira and
	// then holds its answer until the worker is dead.
	j := jiratest.New(t)
	door := newHoldingDoor(t, j.URL)
	require.NoError(t, provision.SetTicketIntegration(rig.acme, rig.pg.DB, rig.keys, provision.TicketIntegration{
		System: provision.TicketJira,
		Jira: &jira.Config{BaseURL: door.srv.URL, Email: jiratest.Email, APIToken: jiratest.APIToken,
			Project: jiratest.Project, AccountID: jiratest.AccountID},
	}))

	plane, cc := rig.startablePlane(t,
		// Long enough that the held create cannot time out before the kill.
		"ALEXUS_ACTIONS_TICKET_TIMEOUT=60s",
		"ALEXUS_ACTIONS_WORKERS=2",
		"ALEXUS_ACTIONS_TICKET_WORKERS=2",
	)
	incidentID := "6f1c1c9e-0d3a-4e39-9a59-1a3c0c6d2b77"
	calls := &duplicateCalls{client: actionsv1.NewActionServiceClient(cc), ctx: rig.acme, req: &actionsv1.ExecuteActionRequest{
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

	// First life: the job creates the issue, and the answer is held until
	// the plane is dead. Second life: the rescued job finds the issue by
	// the marker.
	actionID, jobID := rig.runKill(t, killScenario{
		plane:     plane,
		health:    healthpb.NewHealthClient(cc),
		calls:     calls,
		kind:      jiraKind,
		held:      door.held,
		afterKill: door.release,
		firstLife: func() { require.Len(t, j.Issues(), 1, "Jira created the issue") },
	})
	result := rig.requireCompletedOnce(t, calls, jiraKind, actionID, jobID)

	issues := j.Issues()
	require.Len(t, issues, 1, "one issue, though the create ran in two lives")
	require.EqualValues(t, 1, door.creates.Load(), "the rescued run found the issue instead of creating again")

	var (
		remoteKey string
		tickets   int
	)
	require.NoError(t, rig.admin.QueryRow(context.Background(), `SELECT count(*), min(remote_key) FROM tickets`).Scan(&tickets, &remoteKey))
	require.Equal(t, 1, tickets)
	require.Equal(t, issues[0].Key, remoteKey)
	require.Contains(t, result, issues[0].Key)
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
