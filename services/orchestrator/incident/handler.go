package incident

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	orchestratorv1 "github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// Handler serves alexus.orchestrator.v1.OrchestratorService.
type Handler struct {
	orchestratorv1.UnimplementedOrchestratorServiceServer
	store *Store
	feed  *Feed
	log   *zap.Logger
	done  <-chan struct{}
}

// NewHandler returns a Handler. Closing done ends every WatchIncidents
// stream, which lets the server stop gracefully while watchers are
// connected.
func NewHandler(store *Store, feed *Feed, log *zap.Logger, done <-chan struct{}) *Handler {
	return &Handler{store: store, feed: feed, log: log, done: done}
}

// GetIncident implements OrchestratorService.
func (h *Handler) GetIncident(ctx context.Context, req *orchestratorv1.GetIncidentRequest) (*orchestratorv1.GetIncidentResponse, error) {
	inc, trs, err := h.store.Get(ctx, req.GetId())
	if err != nil {
		return nil, h.statusOf(ctx, "get incident", err)
	}
	out := &orchestratorv1.GetIncidentResponse{Incident: IncidentToProto(inc)}
	for _, tr := range trs {
		out.Transitions = append(out.Transitions, TransitionToProto(tr))
	}
	return out, nil
}

// ListIncidents implements OrchestratorService.
func (h *Handler) ListIncidents(ctx context.Context, req *orchestratorv1.ListIncidentsRequest) (*orchestratorv1.ListIncidentsResponse, error) {
	if req.GetPageSize() < 0 || req.GetPageSize() > MaxPageSize {
		return nil, status.Errorf(codes.InvalidArgument, "page_size must be between 0 and %d", MaxPageSize)
	}
	incs, next, err := h.store.List(ctx, int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, h.statusOf(ctx, "list incidents", err)
	}
	out := &orchestratorv1.ListIncidentsResponse{NextPageToken: next}
	for _, inc := range incs {
		out.Incidents = append(out.Incidents, IncidentToProto(inc))
	}
	return out, nil
}

// WatchIncidents implements OrchestratorService. Once the subscription is
// live it sends one message without a transition, so a client that waits
// for it misses no transition published afterwards. A message, unlike bare
// response headers, also gets through proxies and HTTP/1.1 clients (the
// gateway's Connect protocol, browsers) that only surface a stream at its
// first message.
func (h *Handler) WatchIncidents(req *orchestratorv1.WatchIncidentsRequest, stream grpc.ServerStreamingServer[orchestratorv1.WatchIncidentsResponse]) error {
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	go func() {
		select {
		case <-h.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	t, err := tenant.Require(ctx)
	if err != nil {
		return err
	}
	sub, err := h.feed.Subscribe(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return h.statusOf(ctx, "subscribe to transitions", ctx.Err())
		}
		h.log.Warn("subscribe to transitions failed", zap.String("tenant_id", string(t)), zap.Error(err))
		return status.Error(codes.Unavailable, "transition feed unavailable; retry")
	}
	defer sub.Close()
	if err := stream.Send(&orchestratorv1.WatchIncidentsResponse{}); err != nil {
		return err
	}
	for {
		resp, err := sub.Next(ctx)
		if err != nil {
			select {
			case <-h.done:
				return status.Error(codes.Unavailable, "orchestrator is shutting down; reconnect")
			default:
			}
			if errors.Is(err, ErrClosed) {
				return status.Error(codes.Unavailable, "transition feed closed; reconnect")
			}
			return h.statusOf(ctx, "watch incidents", err)
		}
		if req.GetIncidentId() != "" && resp.GetTransition().GetIncidentId() != req.GetIncidentId() {
			continue
		}
		if err := stream.Send(resp); err != nil {
			h.log.Debug("watcher went away", zap.String("tenant_id", string(t)), zap.Error(err))
			return err
		}
	}
}

// statusOf maps a store or feed error to its gRPC status.
func (h *Handler) statusOf(ctx context.Context, what string, err error) error {
	if _, ok := status.FromError(err); ok {
		return err
	}
	var connErr *pgconn.ConnectError
	switch {
	case errors.Is(err, ErrNotFound):
		return status.Error(codes.NotFound, "incident not found")
	case errors.Is(err, ErrBadPageToken):
		return status.Error(codes.InvalidArgument, "invalid page_token")
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, what+": canceled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, what+": deadline exceeded")
	case errors.As(err, &connErr):
		return status.Error(codes.Unavailable, what+": database unavailable")
	}
	t, _ := tenant.FromContext(ctx)
	h.log.Error(what+" failed", zap.String("tenant_id", string(t.Tenant)), zap.Error(err))
	return status.Error(codes.Internal, what+": internal error")
}
