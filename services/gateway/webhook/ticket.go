package webhook

import (
	"net/http"
	"strings"

	"go.uber.org/zap"

	actionsv1 "github.com/alexus-platform/alexus/gen/alexus/actions/v1"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// TicketResult is the 200 answer to a Jira or ServiceNow change: what the
// change did to its incident.
type TicketResult struct {
	// Outcome is applied, echo, in_sync, local_won, unknown_ticket or
	// unmapped (TicketSyncOutcome's names in lower case).
	Outcome    string `json:"outcome"`
	IncidentID string `json:"incident_id,omitempty"`
	Ticket     string `json:"ticket,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

// ticketSystems maps a source onto the action plane's system.
var ticketSystems = map[string]actionsv1.TicketSystem{
	"jira":       actionsv1.TicketSystem_TICKET_SYSTEM_JIRA,
	"servicenow": actionsv1.TicketSystem_TICKET_SYSTEM_SERVICENOW,
}

// serveTicket hands a change from the tenant's Jira or ServiceNow to the
// action plane and answers what it did. Every outcome, an ignored echo
// included, is 200: the remote must not retry a change that was
// understood.
func (h *Handler) serveTicket(w http.ResponseWriter, r *http.Request, id tenant.Identity, source string, payload []byte, log reqLog) {
	if h.deps.Tickets == nil {
		writeError(w, refuse(http.StatusNotFound, "not_found", "ticket webhooks are not served by this gateway"))
		return
	}
	res, err := h.deps.Tickets.ReceiveTicketEvent(tenant.WithIdentity(r.Context(), id), &actionsv1.ReceiveTicketEventRequest{
		System:  ticketSystems[source],
		Payload: payload,
	})
	if err != nil {
		herr := fromStatus(err)
		log.Warn("action plane refused ticket change", zap.Int("status", herr.status), zap.String("code", herr.code), zap.String("reason", herr.msg))
		writeError(w, herr)
		return
	}
	out := TicketResult{
		Outcome:    strings.ToLower(strings.TrimPrefix(res.GetOutcome().String(), "TICKET_SYNC_OUTCOME_")),
		IncidentID: res.GetIncidentId(),
		Ticket:     res.GetTicketKey(),
		Reason:     res.GetReason(),
	}
	log.Debug("ticket change received", zap.String("outcome", out.Outcome), zap.String("ticket", out.Ticket))
	writeJSON(w, http.StatusOK, out)
}
