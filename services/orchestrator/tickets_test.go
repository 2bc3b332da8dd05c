package orchestrator_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	actionsv1 "github.com/alexus-platform/alexus/gen/alexus/actions/v1"
	orchestratorv1 "github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1"
	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/orchestrator/ticketsync"
)

// setTickets sets tn's ticket settings.
func (b *bundle) setTickets(t *testing.T, tn tenant.ID, system actionsv1.TicketSystem, every bool) {
	t.Helper()
	_, err := b.client.SetTriageSettings(as(tn), &orchestratorv1.SetTriageSettingsRequest{Settings: &orchestratorv1.TriageSettings{
		DefaultRoute: "oncall", TicketSystem: system, TicketEveryIncident: every,
	}})
	require.NoError(t, err)
}

// ticketCalls are the ticket actions (jira or servicenow) the action plane
// was asked for.
func (b *bundle) ticketCalls() []actionCall {
	var out []actionCall
	for _, c := range b.actions.recorded() {
		if c.req.GetTicket() != nil {
			out = append(out, c)
		}
	}
	return out
}

// waitCall waits for the action plane to be asked for the action with key.
func (b *bundle) waitCall(t *testing.T, key string) actionCall {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, c := range b.ticketCalls() {
			if c.req.GetIdempotencyKey() == key {
				return c
			}
		}
	}
	require.FailNow(t, "no ticket call", "key %s; calls: %v", key, b.ticketKeys())
	return actionCall{}
}

func (b *bundle) ticketKeys() []string {
	var keys []string
	for _, c := range b.ticketCalls() {
		keys = append(keys, c.req.GetIdempotencyKey())
	}
	return keys
}

// ticketRequest returns the state and error of tn's ticket request for
// incident id.
func (b *bundle) ticketRequest(t *testing.T, tn tenant.ID, id string) (state, reason string) {
	t.Helper()
	err := b.db.WithTenant(as(tn), func(tx pgx.Tx) error {
		return tx.QueryRow(context.Background(), `SELECT state, error FROM incident_ticket_requests WHERE incident_id = $1`, id).Scan(&state, &reason)
	})
	require.NoError(t, err)
	return state, reason
}

// ticketJobs counts the ticket jobs queued for incident id.
func (b *bundle) ticketJobs(t *testing.T, id string) int {
	t.Helper()
	var n int
	err := b.db.Pool().QueryRow(context.Background(),
		`SELECT count(*) FROM river_job WHERE kind = $1 AND args->>'incident_id' = $2`, ticketsync.Args{}.Kind(), id).Scan(&n)
	require.NoError(t, err)
	return n
}

// lastSeq is the sequence of the incident's latest transition of stage.
func (b *bundle) lastSeq(t *testing.T, tn tenant.ID, id string, stage orchestratorv1.Stage) string {
	t.Helper()
	got, err := b.client.GetIncident(as(tn), &orchestratorv1.GetIncidentRequest{Id: id})
	require.NoError(t, err)
	seq := int64(0)
	for _, tr := range got.GetTransitions() {
		if tr.GetStage() == stage {
			seq = tr.GetSequence()
		}
	}
	require.NotZero(t, seq, "incident %s has no %s transition", id, stage)
	return strconv.FormatInt(seq, 10)
}

// escalated is an alert the pipeline escalates: critical, without a
// runbook.
func escalated(tn tenant.ID) *signalv1.Signal {
	sig := alert(tn)
	delete(sig.Annotations, "runbook_url")
	return sig
}

// An escalated incident of a tenant with a ticket system gets one ticket,
// opened by the orchestrator's identity with the diagnosis, however often
// its entry is delivered; the source's resolution and a person's changes
// move it, a change the ticket made is not written back, and a tenant
// without a ticket system gets no ticket calls at all.
func TestTicketsFollowTheIncident(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.setTickets(t, acme, actionsv1.TicketSystem_TICKET_SYSTEM_JIRA, false)
	got, err := b.client.GetTriageSettings(as(acme), &orchestratorv1.GetTriageSettingsRequest{})
	require.NoError(t, err)
	require.Equal(t, actionsv1.TicketSystem_TICKET_SYSTEM_JIRA, got.GetSettings().GetTicketSystem())
	require.False(t, got.GetSettings().GetTicketEveryIncident())
	require.Equal(t, "oncall", got.GetSettings().GetDefaultRoute())

	sig := escalated(acme)
	opened := event(signalv1.EventKind_EVENT_KIND_OPENED, sig)
	b.publish(t, acme, opened)
	incID := b.waitStage(t, acme, sig.GetId(), orchestratorv1.Stage_STAGE_ESCALATE).GetIncident().GetId()

	open := b.waitCall(t, "incident/"+incID+"/ticket/open")
	require.Equal(t, actionsv1.ActionKind_ACTION_KIND_JIRA, open.req.GetKind())
	require.Equal(t, incID, open.req.GetIncidentId())
	require.Equal(t, acme, open.id.Tenant)
	require.Equal(t, "system:orchestrator", open.id.Subject)
	tk := open.req.GetTicket()
	require.Equal(t, actionsv1.TicketOperation_TICKET_OPERATION_OPEN, tk.GetOperation())
	require.Equal(t, sig.GetTitle(), tk.GetTitle())
	for _, want := range []string{"Alexus incident: " + incID, "Severity: critical", "Resource: checkout-1:8080", "Decision: escalate: ", "Routed to: oncall (default route)", "Probable cause:"} {
		require.Contains(t, tk.GetDescription(), want)
	}
	require.Eventually(t, func() bool { st, _ := b.ticketRequest(t, acme, incID); return st == "requested" }, 10*time.Second, 20*time.Millisecond)

	// The same entry again: nothing is asked twice.
	b.waitSettled(t, acme, b.publish(t, acme, opened))
	require.Equal(t, 1, b.ticketJobs(t, incID))

	// A tenant without a ticket system: escalated, no ticket.
	other := escalated(globex)
	b.publish(t, globex, event(signalv1.EventKind_EVENT_KIND_OPENED, other))
	otherID := b.waitStage(t, globex, other.GetId(), orchestratorv1.Stage_STAGE_ESCALATE).GetIncident().GetId()
	require.Zero(t, b.ticketJobs(t, otherID))

	// An incident acme's pipeline executes gets no ticket either: only
	// escalations do, unless every incident should.
	executed := alert(acme)
	b.publish(t, acme, event(signalv1.EventKind_EVENT_KIND_OPENED, executed))
	executedID := b.waitStage(t, acme, executed.GetId(), orchestratorv1.Stage_STAGE_EXECUTE).GetIncident().GetId()
	require.Zero(t, b.ticketJobs(t, executedID))

	// The source resolves the alert: the ticket is resolved.
	res := proto.CloneOf(sig)
	res.Status, res.EndsAt = signalv1.Status_STATUS_RESOLVED, timestamppb.Now()
	b.publish(t, acme, event(signalv1.EventKind_EVENT_KIND_RESOLVED, res))
	b.waitStage(t, acme, sig.GetId(), orchestratorv1.Stage_STAGE_RESOLVED)
	resolvedKey := "incident/" + incID + "/ticket/state/" + b.lastSeq(t, acme, incID, orchestratorv1.Stage_STAGE_RESOLVED)
	set := b.waitCall(t, resolvedKey).req.GetTicket()
	require.Equal(t, actionsv1.TicketOperation_TICKET_OPERATION_SET_STATE, set.GetOperation())
	require.Equal(t, actionsv1.TicketState_TICKET_STATE_RESOLVED, set.GetState())
	require.Equal(t, "the source resolved the alert", set.GetText())

	// Reopened in Jira (the action plane applies it with the ticket as the
	// source): not written back. Then a person acknowledges it here: that
	// is.
	b.setStatus(t, incID, orchestratorv1.IncidentStatus_INCIDENT_STATUS_OPEN, "reopened in Jira", "jira:OPS-42")
	reopenedKey := "incident/" + incID + "/ticket/state/" + b.lastSeq(t, acme, incID, orchestratorv1.Stage_STAGE_REOPENED)
	b.setStatus(t, incID, orchestratorv1.IncidentStatus_INCIDENT_STATUS_ACKNOWLEDGED, "on it", "")
	ack := b.waitCall(t, "incident/"+incID+"/ticket/state/"+b.lastSeq(t, acme, incID, orchestratorv1.Stage_STAGE_ACKNOWLEDGED)).req.GetTicket()
	require.Equal(t, actionsv1.TicketState_TICKET_STATE_ACKNOWLEDGED, ack.GetState())
	require.NotContains(t, b.ticketKeys(), reopenedKey, "the ticket's own change is not written back")
	require.Equal(t, 3, b.ticketJobs(t, incID), "open, resolved, acknowledged")
	require.Len(t, b.ticketCalls(), 3)
}

// A ticket the action plane refuses (the tenant has no ServiceNow
// integration) is recorded as refused and not asked for again; the
// escalation stands, and the incident's later changes send nothing.
func TestTicketRefusalIsRecorded(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.actions.setRefuse(func(req *actionsv1.ExecuteActionRequest) error {
		if req.GetTicket() != nil {
			return status.Error(codes.InvalidArgument, "the tenant has no servicenow integration")
		}
		return nil
	})
	b.setTickets(t, acme, actionsv1.TicketSystem_TICKET_SYSTEM_SERVICENOW, false)

	sig := escalated(acme)
	b.publish(t, acme, event(signalv1.EventKind_EVENT_KIND_OPENED, sig))
	resp := b.waitStage(t, acme, sig.GetId(), orchestratorv1.Stage_STAGE_ESCALATE)
	incID := resp.GetIncident().GetId()
	require.Equal(t, orchestratorv1.Stage_STAGE_ESCALATE, resp.GetIncident().GetStage(), "the decision is stored whatever the ticket")

	require.Equal(t, actionsv1.ActionKind_ACTION_KIND_SERVICENOW, b.waitCall(t, "incident/"+incID+"/ticket/open").req.GetKind())
	var state, reason string
	require.Eventually(t, func() bool { state, reason = b.ticketRequest(t, acme, incID); return state != "pending" }, 10*time.Second, 20*time.Millisecond)
	require.Equal(t, "refused", state)
	require.Contains(t, reason, "the tenant has no servicenow integration")

	res := b.setStatus(t, incID, orchestratorv1.IncidentStatus_INCIDENT_STATUS_RESOLVED, "fixed", "")
	require.True(t, res.GetChanged())
	require.Equal(t, 1, b.ticketJobs(t, incID), "no update for a ticket that was refused")
	require.Len(t, b.ticketCalls(), 1, "the refusal is not retried")
}

// With every incident ticketed, a clarify decision opens the ticket, and
// the person's answer is commented on it once.
func TestTicketForEveryIncidentGetsTheAnswer(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.unsure(t, acme)
	b.setTickets(t, acme, actionsv1.TicketSystem_TICKET_SYSTEM_JIRA, true)
	sig := alert(acme)
	b.publish(t, acme, event(signalv1.EventKind_EVENT_KIND_OPENED, sig))
	incID := b.waitStage(t, acme, sig.GetId(), orchestratorv1.Stage_STAGE_CLARIFY).GetIncident().GetId()
	open := b.waitCall(t, "incident/"+incID+"/ticket/open").req.GetTicket()
	require.Contains(t, open.GetDescription(), "Decision: clarify: ")
	require.Contains(t, open.GetDescription(), `Recommended action: webhook "default"`)

	item := b.openItem(t, acme, orchestratorv1.TriageKind_TRIAGE_KIND_CLARIFY)
	_, err := b.client.AnswerTriageItem(as(acme), &orchestratorv1.AnswerTriageItemRequest{Id: item.GetId(), Answer: "Yes, go ahead"})
	require.NoError(t, err)
	b.waitStage(t, acme, sig.GetId(), orchestratorv1.Stage_STAGE_EXECUTE)
	note := "answered-" + b.lastSeq(t, acme, incID, orchestratorv1.Stage_STAGE_ANSWERED)
	c := b.waitCall(t, "incident/"+incID+"/ticket/comment/"+note).req.GetTicket()
	require.Equal(t, actionsv1.TicketOperation_TICKET_OPERATION_COMMENT, c.GetOperation())
	require.Equal(t, note, c.GetNoteId())
	require.True(t, strings.HasPrefix(c.GetText(), `user:test answered the question Alexus asked: "Yes, go ahead".`), c.GetText())
	require.Equal(t, 2, b.ticketJobs(t, incID), "one open (at clarify, not again at execute), one comment")
}
