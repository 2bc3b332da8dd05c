package ticketsync

import (
	"testing"

	"buf.build/go/protovalidate"
	"github.com/stretchr/testify/require"

	actionsv1 "github.com/alexus-platform/alexus/gen/alexus/actions/v1"
	"github.com/alexus-platform/alexus/services/orchestrator/incident"
)

const incID = "2f1d7c3e-8a8b-4c55-9d3c-1b2a3c4d5e6f"

// Which transitions of an incident with a ticket make a call, and which
// call: every request built passes the action plane's validation.
func TestFollowCall(t *testing.T) {
	t.Parallel()
	v, err := protovalidate.New()
	require.NoError(t, err)
	tr := func(stage incident.Stage, seq int64, details map[string]string) incident.Transition {
		return incident.Transition{IncidentID: incID, Sequence: seq, Stage: stage, Summary: string(stage) + " by user:alice", Details: details}
	}
	tests := map[string]struct {
		tr   incident.Transition
		want *actionsv1.TicketParams
		key  string
	}{
		"resolved by the source": {
			tr:   tr(incident.StageResolved, 9, map[string]string{"by": "source"}),
			want: &actionsv1.TicketParams{Operation: actionsv1.TicketOperation_TICKET_OPERATION_SET_STATE, State: actionsv1.TicketState_TICKET_STATE_RESOLVED, Text: "resolved by user:alice"},
			key:  "incident/" + incID + "/ticket/state/9",
		},
		"acknowledged by a person": {
			tr:   tr(incident.StageAcknowledged, 10, map[string]string{"by": "user:alice"}),
			want: &actionsv1.TicketParams{Operation: actionsv1.TicketOperation_TICKET_OPERATION_SET_STATE, State: actionsv1.TicketState_TICKET_STATE_ACKNOWLEDGED},
			key:  "incident/" + incID + "/ticket/state/10",
		},
		"reopened from another tool": {
			tr:   tr(incident.StageReopened, 11, map[string]string{"by": "system:actions", "source": "pagerduty:P123"}),
			want: &actionsv1.TicketParams{Operation: actionsv1.TicketOperation_TICKET_OPERATION_SET_STATE, State: actionsv1.TicketState_TICKET_STATE_OPEN},
			key:  "incident/" + incID + "/ticket/state/11",
		},
		"reopened in jira":         {tr: tr(incident.StageReopened, 12, map[string]string{"source": "jira:OPS-42"})},
		"resolved in servicenow":   {tr: tr(incident.StageResolved, 13, map[string]string{"source": "servicenow:INC0010001"})},
		"a quality gate that held": {tr: tr(incident.StageQualityGate, 14, map[string]string{"resolution": "validated"})},
		"a quality gate that failed": {
			tr: tr(incident.StageQualityGate, 15, map[string]string{"resolution": "ineffective", "reason": "The resolution did not hold.", "route": "oncall"}),
			want: &actionsv1.TicketParams{Operation: actionsv1.TicketOperation_TICKET_OPERATION_COMMENT, NoteId: "quality-gate-15",
				Text: "The resolution did not hold.\nEscalated to oncall."},
			key: "incident/" + incID + "/ticket/comment/quality-gate-15",
		},
		"an answer": {
			tr: tr(incident.StageAnswered, 6, map[string]string{"answered_by": "user:alice", "answer": "no", "decision": "escalate", "reason": "a person declined."}),
			want: &actionsv1.TicketParams{Operation: actionsv1.TicketOperation_TICKET_OPERATION_COMMENT, NoteId: "answered-6",
				Text: "user:alice answered the question Alexus asked: \"no\".\nDecision: escalate. a person declined."},
			key: "incident/" + incID + "/ticket/comment/answered-6",
		},
		"a repeat":   {tr: tr(incident.StageRepeated, 7, nil)},
		"a decision": {tr: tr(incident.StageEscalate, 5, nil)},
	}
	for name, tc := range tests {
		c, ok := followCall(incID, tc.tr)
		if tc.want == nil {
			require.False(t, ok, name)
			continue
		}
		require.True(t, ok, name)
		req := request(incID, incident.TicketServiceNow, c)
		require.NoError(t, v.Validate(req), name)
		require.Equal(t, tc.key, req.GetIdempotencyKey(), name)
		require.Equal(t, actionsv1.ActionKind_ACTION_KIND_SERVICENOW, req.GetKind(), name)
		require.Equal(t, incID, req.GetIncidentId(), name)
		require.Equal(t, tc.want.GetOperation(), req.GetTicket().GetOperation(), name)
		require.Equal(t, tc.want.GetState(), req.GetTicket().GetState(), name)
		require.Equal(t, tc.want.GetNoteId(), req.GetTicket().GetNoteId(), name)
		require.Equal(t, tc.want.GetText(), req.GetTicket().GetText(), name)
	}

	open := request(incID, incident.TicketJira, openCall(incident.Ticket{IncidentID: incID, Title: "Disk full", Description: "d"}))
	require.NoError(t, v.Validate(open))
	require.Equal(t, actionsv1.ActionKind_ACTION_KIND_JIRA, open.GetKind())
	require.Equal(t, actionsv1.TicketOperation_TICKET_OPERATION_OPEN, open.GetTicket().GetOperation())
	require.Equal(t, "incident/"+incID+"/ticket/open", open.GetIdempotencyKey())
	require.Equal(t, "Disk full", open.GetTicket().GetTitle())
}

func TestFromTicket(t *testing.T) {
	t.Parallel()
	for source, want := range map[string]bool{
		"jira:OPS-42": true, "servicenow:INC0010001": true, "": false, "pagerduty:P1": false, "jira": false, "jiralike:X": false,
	} {
		require.Equal(t, want, FromTicket(source), source)
	}
}
