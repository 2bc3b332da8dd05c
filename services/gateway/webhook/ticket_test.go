package webhook_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	actionsv1 "github.com/alexus-platform/alexus/gen/alexus/actions/v1"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/gateway/webhook"
)

// recordingTickets stands in for the action plane's ReceiveTicketEvent.
type recordingTickets struct {
	mu    sync.Mutex
	calls []ticketCall
	err   error
}

type ticketCall struct {
	tenant  tenant.ID
	system  actionsv1.TicketSystem
	payload string
}

func (r *recordingTickets) ReceiveTicketEvent(ctx context.Context, in *actionsv1.ReceiveTicketEventRequest, _ ...grpc.CallOption) (*actionsv1.ReceiveTicketEventResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	id, _ := tenant.FromContext(ctx)
	r.calls = append(r.calls, ticketCall{tenant: id.Tenant, system: in.GetSystem(), payload: string(in.GetPayload())})
	if r.err != nil {
		return nil, r.err
	}
	return &actionsv1.ReceiveTicketEventResponse{Outcome: actionsv1.TicketSyncOutcome_TICKET_SYNC_OUTCOME_APPLIED, IncidentId: "0b5c9e0e-1f7a-4a53-9a43-3d1e4d7c2a11", TicketKey: "OPS-7", Reason: "the remote ticket changed last"}, nil
}

func (r *recordingTickets) taken() []ticketCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]ticketCall(nil), r.calls...)
}

// Changes from the tenant's Jira and ServiceNow go to the action plane,
// never to ingest: Jira with the integration token in the URL (its admin
// webhooks cannot set headers) and its X-Hub-Signature checked when the
// integration has a secret, ServiceNow with a bearer token.
func TestTicketChangesGoToTheActionPlane(t *testing.T) {
	t.Parallel()
	tickets := &recordingTickets{}
	sb := setupSigned(t, func(d *webhook.Deps) { d.Tickets = tickets })
	secret := []byte("jira-webhook-secret-0123456789")
	jiraTok := sb.integration(t, "jira", secret)
	snTok := sb.integration(t, "servicenow", nil)
	body := []byte(`{"webhookEvent":"jira:issue_updated","issue":{"key":"OPS-7"}}`)

	ans := sb.send(t, sb.base+"jira?token="+jiraTok, http.Header{"X-Hub-Signature": {"sha256=" + hexMAC(secret, body)}}, body)
	require.Equal(t, http.StatusOK, ans.status, ans.body)
	var res webhook.TicketResult
	require.NoError(t, json.Unmarshal([]byte(ans.body), &res))
	require.Equal(t, webhook.TicketResult{Outcome: "applied", IncidentID: "0b5c9e0e-1f7a-4a53-9a43-3d1e4d7c2a11", Ticket: "OPS-7", Reason: "the remote ticket changed last"}, res)

	ans = sb.send(t, sb.base+"jira?token="+jiraTok, http.Header{"X-Hub-Signature": {"sha256=" + hexMAC([]byte("wrong"), body)}}, body)
	require.Equal(t, http.StatusUnauthorized, ans.status, ans.body)
	ans = sb.send(t, sb.base+"jira?token="+jiraTok, http.Header{}, body)
	require.Equal(t, http.StatusUnauthorized, ans.status, ans.body)
	// A token for one system does not post as the other.
	ans = sb.send(t, sb.base+"servicenow?token="+jiraTok, http.Header{}, body)
	require.Equal(t, http.StatusForbidden, ans.status, ans.body)

	sn := []byte(`{"sys_id":"9d385017c611228701d22104cc95c371","state":"6"}`)
	ans = sb.send(t, sb.base+"servicenow", http.Header{"Authorization": {"Bearer " + snTok}}, sn)
	require.Equal(t, http.StatusOK, ans.status, ans.body)

	calls := tickets.taken()
	require.Equal(t, []ticketCall{
		{tenant: "acme", system: actionsv1.TicketSystem_TICKET_SYSTEM_JIRA, payload: string(body)},
		{tenant: "acme", system: actionsv1.TicketSystem_TICKET_SYSTEM_SERVICENOW, payload: string(sn)},
	}, calls)
	require.Zero(t, sb.ingest.calls.Load(), "a ticket change is not an alert")

	// The action plane's refusal keeps its meaning.
	tickets.err = status.Error(codes.InvalidArgument, "servicenow: the body is not an outbound message")
	ans = sb.send(t, sb.base+"servicenow", http.Header{"Authorization": {"Bearer " + snTok}}, []byte(`{"x":1}`))
	require.Equal(t, http.StatusBadRequest, ans.status, ans.body)
	require.Contains(t, ans.body, "not an outbound message")
}

// Without an action plane the ticket sources are not served.
func TestTicketChangesWithoutActionPlane(t *testing.T) {
	t.Parallel()
	sb := setupSigned(t)
	tok := sb.integration(t, "jira", nil)
	ans := sb.send(t, sb.base+"jira?token="+tok, http.Header{}, []byte(`{"webhookEvent":"jira:issue_updated"}`))
	require.Equal(t, http.StatusNotFound, ans.status, ans.body)
}

// A ticket change is posted one at a time: the batch route refuses the
// ticket sources.
func TestTicketSourcesHaveNoBatch(t *testing.T) {
	t.Parallel()
	sb := setupSigned(t)
	tok := sb.integration(t, "servicenow", nil)
	url := strings.TrimSuffix(sb.batchURL(t, nil), "alertmanager/batch") + "servicenow/batch"
	ans := sb.postBatch(t, url, "Bearer "+tok, "application/json", `{"items":[{"sys_id":"x"}]}`)
	require.Equal(t, http.StatusBadRequest, ans.status, ans.rawBody)
	require.Contains(t, ans.err.Error, "one at a time")
}
