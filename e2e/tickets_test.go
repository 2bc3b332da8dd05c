package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	actionsv1 "github.com/alexus-platform/alexus/gen/alexus/actions/v1"
	"github.com/alexus-platform/alexus/gen/alexus/actions/v1/actionsv1connect"
	orchestratorv1 "github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1"
	"github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1/orchestratorv1connect"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/internal/ticket/jira"
	"github.com/alexus-platform/alexus/internal/ticket/jira/jiratest"
	"github.com/alexus-platform/alexus/internal/ticket/servicenow"
	"github.com/alexus-platform/alexus/internal/ticket/servicenow/sntest"
	"github.com/alexus-platform/alexus/services/gateway/webhook"
)

// An incident gets a Jira issue, and the issue's changes come back: a
// person moving the issue to Done resolves the incident, a person
// reopening the incident in Alexus moves the issue back, and Jira's
// webhook for Alexus's own move is recognised as an echo and changes
// nothing.
func TestJiraTicketRoundTrip(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	tok := b.token(t, "acme")
	orch := orchestratorv1connect.NewOrchestratorServiceClient(http.DefaultClient, b.gatewayURL)
	acts := actionsv1connect.NewActionServiceClient(http.DefaultClient, b.gatewayURL)
	w := watch(t, orch, tok) // admits the tenant, too

	// The tenant's Jira: a stand-in on loopback (the e2e egress policy
	// allows it), tickets for every incident, and a token for its webhooks.
	j := jiratest.New(t)
	acme := tenant.WithIdentity(ctx, tenant.Identity{Tenant: "acme", Subject: "user:e2e"})
	require.NoError(t, provision.SetTicketIntegration(acme, b.db, b.keys, provision.TicketIntegration{
		System: provision.TicketJira,
		Jira: &jira.Config{BaseURL: j.URL, Email: jiratest.Email, APIToken: jiratest.APIToken,
			Project: jiratest.Project, AccountID: jiratest.AccountID},
	}))
	hookToken := ticketsForEveryIncident(t, b, orch, tok, actionsv1.TicketSystem_TICKET_SYSTEM_JIRA)

	// 1. An alert opens an incident, and the incident a Jira issue.
	code, _ := b.postWebhook(t, tok, alertmanagerPayload("firing", "e2e00000000000a1", "CheckoutLatency"))
	require.Equal(t, http.StatusAccepted, code)
	incidentID := w.until(t, orchestratorv1.Stage_STAGE_RECEIVED)[0].GetIncidentId()
	var issue jiratest.Issue
	require.Eventually(t, func() bool {
		issues := j.Issues()
		if len(issues) == 1 {
			issue = issues[0]
		}
		return len(issues) == 1
	}, deadline, 20*time.Millisecond, "the incident gets one Jira issue")
	require.Contains(t, issue.Summary, "CheckoutLatency")
	require.Equal(t, "To Do", issue.Status.Name)
	// The issue exists at Jira a moment before the action plane records it.
	var tickets []*actionsv1.Ticket
	require.Eventually(t, func() bool {
		tickets = listTickets(t, acts, tok, incidentID)
		return len(tickets) == 1
	}, deadline, 20*time.Millisecond, "the ticket is recorded")
	require.Equal(t, issue.Key, tickets[0].GetKey())
	require.Equal(t, actionsv1.TicketSystem_TICKET_SYSTEM_JIRA, tickets[0].GetSystem())

	// 2. A person moves the issue to Done; Jira's webhook resolves the
	// incident.
	body, err := j.Transition(issue.Key, "Done", "557058:jane-operator")
	require.NoError(t, err)
	res := postTicketHook(t, b.gatewayURL+"/v1/webhooks/jira?token="+hookToken, body)
	require.Equal(t, "applied", res.Outcome, res.Reason)
	require.Equal(t, incidentID, res.IncidentID)
	resolved := w.until(t, orchestratorv1.Stage_STAGE_RESOLVED)
	require.Equal(t, incidentID, resolved[len(resolved)-1].GetIncidentId())
	got, err := orch.GetIncident(ctx, authed(&orchestratorv1.GetIncidentRequest{Id: incidentID}, tok))
	require.NoError(t, err)
	require.Equal(t, orchestratorv1.IncidentStatus_INCIDENT_STATUS_RESOLVED, got.Msg.GetIncident().GetStatus())

	// The same webhook again (Jira retries deliveries) changes nothing.
	again := postTicketHook(t, b.gatewayURL+"/v1/webhooks/jira?token="+hookToken, body)
	require.Contains(t, []string{"in_sync", "echo"}, again.Outcome, again.Reason)

	// 3. A person reopens the incident in Alexus; the issue follows, moved
	// by Alexus's account.
	_, err = orch.SetIncidentStatus(ctx, authed(&orchestratorv1.SetIncidentStatusRequest{
		IncidentId: incidentID, Status: orchestratorv1.IncidentStatus_INCIDENT_STATUS_OPEN, Reason: "the latency is back",
	}, tok))
	require.NoError(t, err)
	w.until(t, orchestratorv1.Stage_STAGE_REOPENED)
	require.Eventually(t, func() bool {
		iss, ok := j.Issue(issue.Key)
		return ok && iss.Status.Name == "To Do"
	}, deadline, 20*time.Millisecond, "the issue is moved back to To Do")

	// 4. Jira's webhook for that move, made by Alexus's own account, is an
	// echo: the incident stays open and nothing more is written.
	echo, err := j.Transition(issue.Key, "To Do", jiratest.AccountID)
	require.NoError(t, err)
	res = postTicketHook(t, b.gatewayURL+"/v1/webhooks/jira?token="+hookToken, echo)
	require.Equal(t, "echo", res.Outcome, res.Reason)
	got, err = orch.GetIncident(ctx, authed(&orchestratorv1.GetIncidentRequest{Id: incidentID}, tok))
	require.NoError(t, err)
	require.Equal(t, orchestratorv1.IncidentStatus_INCIDENT_STATUS_OPEN, got.Msg.GetIncident().GetStatus())
	require.Len(t, j.Issues(), 1, "still one issue")

	// The sync history and the audit log tell the story.
	tickets = listTickets(t, acts, tok, incidentID)
	require.Len(t, tickets, 1)
	var outcomes []actionsv1.TicketSyncOutcome
	for _, ev := range tickets[0].GetEvents() {
		outcomes = append(outcomes, ev.GetOutcome())
	}
	require.True(t, slices.Contains(outcomes, actionsv1.TicketSyncOutcome_TICKET_SYNC_OUTCOME_APPLIED), "%v", outcomes)
	require.True(t, slices.Contains(outcomes, actionsv1.TicketSyncOutcome_TICKET_SYNC_OUTCOME_ECHO), "%v", outcomes)

	// Another tenant sees none of it.
	other := b.token(t, "globex")
	_, err = acts.ListTickets(ctx, authed(&actionsv1.ListTicketsRequest{}, other))
	require.NoError(t, err)
	require.Empty(t, listTickets(t, acts, other, ""))
}

// ticketsForEveryIncident has the tenant of tok (acme) open a ticket in
// system for every incident, and returns an integration token for the
// system's webhooks.
func ticketsForEveryIncident(t *testing.T, b *bundle, orch orchestratorv1connect.OrchestratorServiceClient, tok string, system actionsv1.TicketSystem) string {
	t.Helper()
	ctx := context.Background()
	_, err := orch.SetTriageSettings(ctx, authed(&orchestratorv1.SetTriageSettingsRequest{Settings: &orchestratorv1.TriageSettings{
		TicketSystem: system, TicketEveryIncident: true,
	}}, tok))
	require.NoError(t, err)
	source := map[actionsv1.TicketSystem]string{actionsv1.TicketSystem_TICKET_SYSTEM_JIRA: "jira", actionsv1.TicketSystem_TICKET_SYSTEM_SERVICENOW: "servicenow"}[system]
	acme := tenant.WithIdentity(ctx, tenant.Identity{Tenant: "acme", Subject: "user:e2e"})
	hookToken, err := provision.CreateIntegrationToken(acme, b.db, source, source)
	require.NoError(t, err)
	return hookToken
}

// A ServiceNow incident follows the Alexus incident the other way too: a
// person taking the record In Progress acknowledges the incident, and
// resolving it resolves the incident; the outbound REST message comes with
// a bearer token.
func TestServiceNowTicketRoundTrip(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	tok := b.token(t, "acme")
	orch := orchestratorv1connect.NewOrchestratorServiceClient(http.DefaultClient, b.gatewayURL)
	acts := actionsv1connect.NewActionServiceClient(http.DefaultClient, b.gatewayURL)
	w := watch(t, orch, tok)

	sn := sntest.New(t)
	acme := tenant.WithIdentity(ctx, tenant.Identity{Tenant: "acme", Subject: "user:e2e"})
	require.NoError(t, provision.SetTicketIntegration(acme, b.db, b.keys, provision.TicketIntegration{
		System:     provision.TicketServiceNow,
		ServiceNow: &servicenow.Config{BaseURL: sn.URL, Username: sntest.Username, Password: sntest.Password},
	}))
	hookToken := ticketsForEveryIncident(t, b, orch, tok, actionsv1.TicketSystem_TICKET_SYSTEM_SERVICENOW)

	code, _ := b.postWebhook(t, tok, alertmanagerPayload("firing", "e2e00000000000b2", "LedgerReplicationLag"))
	require.Equal(t, http.StatusAccepted, code)
	incidentID := w.until(t, orchestratorv1.Stage_STAGE_RECEIVED)[0].GetIncidentId()
	var tickets []*actionsv1.Ticket
	require.Eventually(t, func() bool {
		tickets = listTickets(t, acts, tok, incidentID)
		return len(tickets) == 1
	}, deadline, 20*time.Millisecond, "the incident gets one ServiceNow record")
	records := sn.Records()
	require.Len(t, records, 1)
	sysID := records[0].SysID()
	require.Equal(t, records[0].Fields["number"], tickets[0].GetKey())
	require.Contains(t, records[0].Fields["short_description"], "LedgerReplicationLag")

	post := func(body []byte) webhook.TicketResult {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.gatewayURL+"/v1/webhooks/servicenow", bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+hookToken)
		return doTicketHook(t, req)
	}
	body, err := sn.SetState(sysID, "2", "jane.operator")
	require.NoError(t, err)
	res := post(body)
	require.Equal(t, "applied", res.Outcome, res.Reason)
	w.until(t, orchestratorv1.Stage_STAGE_ACKNOWLEDGED)

	body, err = sn.SetState(sysID, "6", "jane.operator")
	require.NoError(t, err)
	res = post(body)
	require.Equal(t, "applied", res.Outcome, res.Reason)
	w.until(t, orchestratorv1.Stage_STAGE_RESOLVED)
	got, err := orch.GetIncident(ctx, authed(&orchestratorv1.GetIncidentRequest{Id: incidentID}, tok))
	require.NoError(t, err)
	require.Equal(t, orchestratorv1.IncidentStatus_INCIDENT_STATUS_RESOLVED, got.Msg.GetIncident().GetStatus())

	// The record was moved by a person only: Alexus wrote it once, to
	// open it, and the changes that came from it were not written back.
	rec, ok := sn.Record(sysID)
	require.True(t, ok)
	require.Equal(t, "6", rec.Fields["state"])
	require.Equal(t, "jane.operator", rec.Fields["sys_updated_by"])
}

func listTickets(t *testing.T, acts actionsv1connect.ActionServiceClient, tok, incidentID string) []*actionsv1.Ticket {
	t.Helper()
	res, err := acts.ListTickets(context.Background(), authed(&actionsv1.ListTicketsRequest{IncidentId: incidentID}, tok))
	require.NoError(t, err)
	return res.Msg.GetTickets()
}

func postTicketHook(t *testing.T, url string, body []byte) webhook.TicketResult {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	return doTicketHook(t, req)
}

// doTicketHook sends a ticket system's change and reads the gateway's 200
// answer.
func doTicketHook(t *testing.T, req *http.Request) webhook.TicketResult {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode, "%s", raw)
	var out webhook.TicketResult
	require.NoError(t, json.Unmarshal(raw, &out))
	return out
}
