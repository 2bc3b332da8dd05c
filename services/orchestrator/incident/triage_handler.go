package incident

import (
	"context"
	"errors"
	"strings"

	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	actionsv1 "github.com/alexus-platform/alexus/gen/alexus/actions/v1"
	orchestratorv1 "github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1"
	"github.com/alexus-platform/alexus/internal/enumpair"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// ListTriageItems implements OrchestratorService.
func (h *Handler) ListTriageItems(ctx context.Context, req *orchestratorv1.ListTriageItemsRequest) (*orchestratorv1.ListTriageItemsResponse, error) {
	f := TriageFilter{}
	if k := req.GetKind(); k != orchestratorv1.TriageKind_TRIAGE_KIND_UNSPECIFIED {
		f.Kind = EnumText(k.String(), "TRIAGE_KIND_")
	}
	if st := req.GetState(); st != orchestratorv1.TriageState_TRIAGE_STATE_UNSPECIFIED {
		f.State = EnumText(st.String(), "TRIAGE_STATE_")
	}
	items, next, err := h.store.ListTriage(ctx, f, int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, h.triageStatus(ctx, "list triage items", err)
	}
	return &orchestratorv1.ListTriageItemsResponse{Items: items, NextPageToken: next}, nil
}

// AnswerTriageItem implements OrchestratorService. The answer is stored
// first; for a clarify question the pipeline is then resumed through the
// tenant's signal stream. A retried call with the same answer queues the
// resumption again, which the pipeline runs once (its stages are stored
// once), so a call that failed after storing the answer is safe to retry.
func (h *Handler) AnswerTriageItem(ctx context.Context, req *orchestratorv1.AnswerTriageItemRequest) (*orchestratorv1.AnswerTriageItemResponse, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return nil, err
	}
	answer := strings.TrimSpace(req.GetAnswer())
	if answer == "" {
		return nil, status.Error(codes.InvalidArgument, "answer must not be blank")
	}
	item, changed, err := h.store.Answer(ctx, req.GetId(), answer)
	if err != nil {
		return nil, h.triageStatus(ctx, "answer triage item", err)
	}
	if item.GetKind() == orchestratorv1.TriageKind_TRIAGE_KIND_CLARIFY {
		inc, _, err := h.store.Get(ctx, item.GetIncidentId())
		if err != nil {
			return nil, h.triageStatus(ctx, "answer triage item", err)
		}
		if err := h.feed.Resume(ctx, inc.SignalID, item.GetId()); err != nil {
			return nil, h.triageStatus(ctx, "resume the pipeline", err)
		}
	}
	h.log.Info("triage item answered", zap.String("tenant_id", string(t)), zap.String("triage_item_id", item.GetId()),
		zap.String("incident_id", item.GetIncidentId()), zap.Bool("first_answer", changed))
	return &orchestratorv1.AnswerTriageItemResponse{Item: item}, nil
}

// GetTriageSettings implements OrchestratorService.
func (h *Handler) GetTriageSettings(ctx context.Context, _ *orchestratorv1.GetTriageSettingsRequest) (*orchestratorv1.GetTriageSettingsResponse, error) {
	st, err := h.store.Settings(ctx)
	if err != nil {
		return nil, h.triageStatus(ctx, "get triage settings", err)
	}
	return &orchestratorv1.GetTriageSettingsResponse{Settings: settingsToProto(st)}, nil
}

// SetTriageSettings implements OrchestratorService. Whether the tenant has
// an integration for the ticket system is the action plane's to say: a
// ticket it cannot open is refused there, and the refusal is recorded on
// the incident's ticket request.
func (h *Handler) SetTriageSettings(ctx context.Context, req *orchestratorv1.SetTriageSettingsRequest) (*orchestratorv1.SetTriageSettingsResponse, error) {
	in := req.GetSettings()
	route := strings.TrimSpace(in.GetDefaultRoute())
	if strings.ContainsFunc(route, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return nil, status.Error(codes.InvalidArgument, "default_route must not contain control characters")
	}
	system, ok := ticketSystemText(in.GetTicketSystem())
	if !ok {
		return nil, status.Errorf(codes.InvalidArgument, "ticket_system %d is not a ticket system", in.GetTicketSystem())
	}
	st := TriageSettings{DefaultRoute: route, TicketSystem: system, TicketEveryIncident: in.GetTicketEveryIncident()}
	if err := h.store.SetSettings(ctx, st); err != nil {
		return nil, h.triageStatus(ctx, "set triage settings", err)
	}
	return &orchestratorv1.SetTriageSettingsResponse{Settings: settingsToProto(st)}, nil
}

// ticketSystems pairs the API's ticket systems with their stored words.
var ticketSystems = enumpair.New(map[actionsv1.TicketSystem]string{
	actionsv1.TicketSystem_TICKET_SYSTEM_JIRA:       TicketJira,
	actionsv1.TicketSystem_TICKET_SYSTEM_SERVICENOW: TicketServiceNow,
})

// ticketSystemText is the stored form of s ("" for none); ok is false for
// a value the API does not define.
func ticketSystemText(s actionsv1.TicketSystem) (string, bool) {
	if s == actionsv1.TicketSystem_TICKET_SYSTEM_UNSPECIFIED {
		return "", true
	}
	return ticketSystems.Word(s)
}

func settingsToProto(st TriageSettings) *orchestratorv1.TriageSettings {
	return &orchestratorv1.TriageSettings{
		DefaultRoute:        st.DefaultRoute,
		TicketEveryIncident: st.TicketEveryIncident,
		TicketSystem:        ticketSystems.Enum(st.TicketSystem),
	}
}

func (h *Handler) triageStatus(ctx context.Context, op string, err error) error {
	switch {
	case errors.Is(err, ErrTriageNotFound):
		return status.Error(codes.NotFound, "triage item not found")
	case errors.Is(err, ErrAlreadyAnswered), errors.Is(err, ErrTriageClosed):
		return status.Error(codes.FailedPrecondition, err.Error())
	}
	return h.statusOf(ctx, op, err)
}
