package incident

import (
	"context"
	"strings"

	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	orchestratorv1 "github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// SetIncidentStatus implements OrchestratorService. The change is stored
// with its transition (and, for a resolution, the quality gate; for an
// incident with a ticket, the ticket's update) in one transaction, then
// published to watchers. A call that finds the status set already changes
// nothing and publishes nothing, so a retried call is safe.
func (h *Handler) SetIncidentStatus(ctx context.Context, req *orchestratorv1.SetIncidentStatusRequest) (*orchestratorv1.SetIncidentStatusResponse, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return nil, err
	}
	to, ok := ParseStatus(req.GetStatus())
	if !ok {
		return nil, status.Error(codes.InvalidArgument, "status must be OPEN, ACKNOWLEDGED or RESOLVED")
	}
	reason := strings.TrimSpace(req.GetReason())
	res, changed, err := h.store.SetStatus(ctx, req.GetIncidentId(), StatusChange{To: to, Reason: reason, Source: req.GetSource()})
	if err != nil {
		return nil, h.statusOf(ctx, "set incident status", err)
	}
	log := h.log.With(zap.String("tenant_id", string(t)), zap.String("incident_id", res.Incident.ID))
	if changed {
		// The transition is stored; the feed is only a live view of it, so
		// a failed publication does not fail the call (a retry would find
		// the status set and publish nothing).
		if err := h.feed.Publish(ctx, res); err != nil {
			log.Warn("status change stored but not published", zap.Error(err))
		}
	}
	log.Info("incident status set", zap.String("status", string(to)), zap.Bool("changed", changed),
		zap.String("source", req.GetSource()))
	return &orchestratorv1.SetIncidentStatusResponse{Incident: IncidentToProto(res.Incident), Changed: changed}, nil
}
