package incident

import (
	"context"
	"errors"
	"strings"

	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	orchestratorv1 "github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1"
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
	route, err := h.store.DefaultRoute(ctx)
	if err != nil {
		return nil, h.triageStatus(ctx, "get triage settings", err)
	}
	return &orchestratorv1.GetTriageSettingsResponse{Settings: &orchestratorv1.TriageSettings{DefaultRoute: route}}, nil
}

// SetTriageSettings implements OrchestratorService.
func (h *Handler) SetTriageSettings(ctx context.Context, req *orchestratorv1.SetTriageSettingsRequest) (*orchestratorv1.SetTriageSettingsResponse, error) {
	route := strings.TrimSpace(req.GetSettings().GetDefaultRoute())
	if strings.ContainsFunc(route, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return nil, status.Error(codes.InvalidArgument, "default_route must not contain control characters")
	}
	if err := h.store.SetDefaultRoute(ctx, route); err != nil {
		return nil, h.triageStatus(ctx, "set triage settings", err)
	}
	return &orchestratorv1.SetTriageSettingsResponse{Settings: &orchestratorv1.TriageSettings{DefaultRoute: route}}, nil
}

func (h *Handler) triageStatus(ctx context.Context, op string, err error) error {
	switch {
	case errors.Is(err, ErrTriageNotFound):
		return status.Error(codes.NotFound, "triage item not found")
	case errors.Is(err, ErrAlreadyAnswered):
		return status.Error(codes.FailedPrecondition, err.Error())
	}
	return h.statusOf(ctx, op, err)
}
