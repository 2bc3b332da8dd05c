package e2e_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/stretchr/testify/require"

	actionsv1 "github.com/alexus-platform/alexus/gen/alexus/actions/v1"
	"github.com/alexus-platform/alexus/gen/alexus/actions/v1/actionsv1connect"
	orchestratorv1 "github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1"
	"github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1/orchestratorv1connect"
	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
)

// deadline bounds every wait; the pipeline normally finishes in well under a
// second, so reaching it means something is stuck.
const deadline = 20 * time.Second

// watcher collects one tenant's WatchIncidents stream.
type watcher struct {
	msgs chan *orchestratorv1.WatchIncidentsResponse
}

// watch opens WatchIncidents through the gateway and returns once the
// stream's subscribed marker arrived, so nothing published later is missed.
func watch(t *testing.T, client orchestratorv1connect.OrchestratorServiceClient, token string) *watcher {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req := connect.NewRequest(&orchestratorv1.WatchIncidentsRequest{})
	req.Header().Set("Authorization", "Bearer "+token)
	stream, err := client.WatchIncidents(ctx, req)
	require.NoError(t, err)
	w := &watcher{msgs: make(chan *orchestratorv1.WatchIncidentsResponse, 256)}
	go func() {
		defer close(w.msgs)
		for stream.Receive() {
			w.msgs <- stream.Msg()
		}
	}()
	first := w.next(t)
	require.Nil(t, first.GetTransition(), "the first message is the subscribed marker")
	return w
}

func (w *watcher) next(t *testing.T) *orchestratorv1.WatchIncidentsResponse {
	t.Helper()
	select {
	case msg, ok := <-w.msgs:
		require.True(t, ok, "watch stream ended early")
		return msg
	case <-time.After(deadline):
		t.Fatalf("no transition within %s", deadline)
		return nil
	}
}

// until reads transitions until one reaches stage, returning all read.
func (w *watcher) until(t *testing.T, stage orchestratorv1.Stage) []*orchestratorv1.Transition {
	t.Helper()
	var seen []*orchestratorv1.Transition
	for {
		tr := w.next(t).GetTransition()
		seen = append(seen, tr)
		if tr.GetStage() == stage {
			return seen
		}
	}
}

func authed[T any](msg *T, token string) *connect.Request[T] {
	req := connect.NewRequest(msg)
	req.Header().Set("Authorization", "Bearer "+token)
	return req
}

// TestAlertToDecisionActionAndAudit drives one alert of tenant A through
// every plane: webhook in, pipeline stages on the watch stream, the incident
// in the list, the action delivered and audited, the repeat counted, the
// resolution applied — while tenant B sees none of it.
func TestAlertToDecisionActionAndAudit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	tokA, tokB := b.token(t, "acme"), b.token(t, "globex")

	// A watches over the gRPC protocol, B over the Connect protocol.
	orchGRPC := orchestratorv1connect.NewOrchestratorServiceClient(b.h2c, b.gatewayURL, connect.WithGRPC())
	orchConnect := orchestratorv1connect.NewOrchestratorServiceClient(http.DefaultClient, b.gatewayURL)
	actsClient := actionsv1connect.NewActionServiceClient(http.DefaultClient, b.gatewayURL)
	watchA := watch(t, orchGRPC, tokA)
	watchB := watch(t, orchConnect, tokB)

	// 1. A's Alertmanager fires.
	code, res := b.postWebhook(t, tokA, alertmanagerPayload("firing", "e2e0000000000001", "ApiErrorRate"))
	require.Equal(t, http.StatusAccepted, code)
	require.Len(t, res.Results, 1)
	require.Equal(t, "accepted", res.Results[0].Verdict)
	signalID := res.Results[0].SignalID

	// 2. The watch shows every stage, in order, ending in the decision.
	seen := watchA.until(t, orchestratorv1.Stage_STAGE_EXECUTE)
	var stages []orchestratorv1.Stage
	for _, tr := range seen {
		stages = append(stages, tr.GetStage())
	}
	require.Equal(t, []orchestratorv1.Stage{
		orchestratorv1.Stage_STAGE_RECEIVED,
		orchestratorv1.Stage_STAGE_CLASSIFY,
		orchestratorv1.Stage_STAGE_BRANCH,
		orchestratorv1.Stage_STAGE_CONFIDENCE,
		orchestratorv1.Stage_STAGE_EXECUTE,
	}, stages)
	incidentID := seen[0].GetIncidentId()
	actionID := seen[len(seen)-1].GetDetails()["action_id"]
	require.NotEmpty(t, actionID, "the execute transition names its action")

	// 3. ListIncidents shows the incident with its decision.
	list, err := orchConnect.ListIncidents(ctx, authed(&orchestratorv1.ListIncidentsRequest{}, tokA))
	require.NoError(t, err)
	require.Len(t, list.Msg.GetIncidents(), 1)
	inc := list.Msg.GetIncidents()[0]
	require.Equal(t, incidentID, inc.GetId())
	require.Equal(t, signalID, inc.GetSignalId())
	require.Equal(t, reasoningv1.Decision_DECISION_EXECUTE, inc.GetDecision())
	require.Equal(t, reasoningv1.Intent_INTENT_INCIDENT, inc.GetIntent())

	// 4. The action reached the tenant's webhook, signed, once; the audit log
	// has its rows.
	require.Eventually(t, func() bool {
		entries, err := actsClient.ListAuditLog(ctx, authed(&actionsv1.ListAuditLogRequest{Subject: "action/" + actionID}, tokA))
		require.NoError(t, err)
		for _, e := range entries.Msg.GetEntries() {
			if e.GetEvent() == "action.succeeded" {
				return true
			}
		}
		return false
	}, deadline, 20*time.Millisecond, "the action is audited as succeeded")
	got := b.sink.deliveries()
	require.Len(t, got, 1)
	require.True(t, got[0].signedOK, "the delivery carries a valid HMAC signature")
	require.Equal(t, actionID, got[0].ActionID)
	require.Equal(t, "acme", got[0].TenantID)
	audit, err := actsClient.ListAuditLog(ctx, authed(&actionsv1.ListAuditLogRequest{Subject: "action/" + actionID}, tokA))
	require.NoError(t, err)
	var events []string
	for _, e := range audit.Msg.GetEntries() {
		events = append(events, e.GetEvent())
	}
	require.Equal(t, []string{"action.succeeded", "action.requested"}, events, "newest first")

	// 5. The same alert again is one incident with two occurrences.
	code, res = b.postWebhook(t, tokA, alertmanagerPayload("firing", "e2e0000000000001", "ApiErrorRate"))
	require.Equal(t, http.StatusAccepted, code)
	require.Equal(t, "duplicate", res.Results[0].Verdict)
	require.Equal(t, signalID, res.Results[0].SignalID)
	rep := watchA.until(t, orchestratorv1.Stage_STAGE_REPEATED)
	require.Equal(t, incidentID, rep[len(rep)-1].GetIncidentId())
	got1, err := orchConnect.GetIncident(ctx, authed(&orchestratorv1.GetIncidentRequest{Id: incidentID}, tokA))
	require.NoError(t, err)
	require.EqualValues(t, 2, got1.Msg.GetIncident().GetOccurrenceCount())
	list, err = orchConnect.ListIncidents(ctx, authed(&orchestratorv1.ListIncidentsRequest{}, tokA))
	require.NoError(t, err)
	require.Len(t, list.Msg.GetIncidents(), 1, "a repeat opens no second incident")
	require.Len(t, b.sink.deliveries(), 1, "a repeat runs no second action")

	// 6. The resolved notification resolves it.
	code, res = b.postWebhook(t, tokA, alertmanagerPayload("resolved", "e2e0000000000001", "ApiErrorRate"))
	require.Equal(t, http.StatusAccepted, code)
	require.Equal(t, "resolved", res.Results[0].Verdict)
	watchA.until(t, orchestratorv1.Stage_STAGE_RESOLVED)
	got2, err := orchConnect.GetIncident(ctx, authed(&orchestratorv1.GetIncidentRequest{Id: incidentID}, tokA))
	require.NoError(t, err)
	require.Equal(t, orchestratorv1.IncidentStatus_INCIDENT_STATUS_RESOLVED, got2.Msg.GetIncident().GetStatus())
	require.NotNil(t, got2.Msg.GetIncident().GetResolvedAt())

	// 7. Tenant B sees none of it: no incidents, not A's incident by id, no
	// audit rows of A's action.
	listB, err := orchConnect.ListIncidents(ctx, authed(&orchestratorv1.ListIncidentsRequest{}, tokB))
	require.NoError(t, err)
	require.Empty(t, listB.Msg.GetIncidents())
	_, err = orchConnect.GetIncident(ctx, authed(&orchestratorv1.GetIncidentRequest{Id: incidentID}, tokB))
	require.Equal(t, connect.CodeNotFound, connect.CodeOf(err))
	auditB, err := actsClient.ListAuditLog(ctx, authed(&actionsv1.ListAuditLogRequest{}, tokB))
	require.NoError(t, err)
	for _, e := range auditB.Msg.GetEntries() {
		require.NotContains(t, e.GetSubject(), actionID)
		require.NotEqual(t, "action.requested", e.GetEvent())
	}

	// B's watch received nothing of A's: the first transition it sees is of
	// B's own alert, posted only now.
	code, res = b.postWebhook(t, tokB, alertmanagerPayload("firing", "e2e0000000000002", "DiskFull"))
	require.Equal(t, http.StatusAccepted, code)
	firstB := watchB.next(t)
	require.Equal(t, orchestratorv1.Stage_STAGE_RECEIVED, firstB.GetTransition().GetStage())
	require.Equal(t, res.Results[0].SignalID, firstB.GetIncident().GetSignalId())
	require.NotEqual(t, incidentID, firstB.GetTransition().GetIncidentId())
}

// TestWebhookRefusals checks the gateway's answers to callers it must turn
// away, and that nothing they sent was stored.
func TestWebhookRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok := b.token(t, "acme")
	orch := orchestratorv1connect.NewOrchestratorServiceClient(http.DefaultClient, b.gatewayURL)

	code, _ := b.postWebhook(t, "not-a-token", alertmanagerPayload("firing", "e2e0000000000003", "X"))
	require.Equal(t, http.StatusUnauthorized, code)
	otherKey, err := authTokenWithOtherKey()
	require.NoError(t, err)
	code, _ = b.postWebhook(t, otherKey, alertmanagerPayload("firing", "e2e0000000000003", "X"))
	require.Equal(t, http.StatusUnauthorized, code)
	code, _ = b.postWebhook(t, tok, []byte(`{"version":"4","alerts":"not a list"}`))
	require.Equal(t, http.StatusBadRequest, code)

	list, err := orch.ListIncidents(context.Background(), authed(&orchestratorv1.ListIncidentsRequest{}, tok))
	require.NoError(t, err)
	require.Empty(t, list.Msg.GetIncidents(), "refused payloads store nothing")
}
