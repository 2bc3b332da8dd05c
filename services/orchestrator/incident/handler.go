package incident

import (
	"context"
	"errors"
	"sync"

	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	orchestratorv1 "github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1"
	"github.com/alexus-platform/alexus/internal/rpc"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// Handler serves alexus.orchestrator.v1.OrchestratorService.
type Handler struct {
	orchestratorv1.UnimplementedOrchestratorServiceServer
	store    *Store
	feed     *Feed
	log      *zap.Logger
	done     <-chan struct{}
	watchers *watcherLimit
}

// NewHandler returns a Handler. Closing done ends every WatchIncidents
// stream, which lets the server stop gracefully while watchers are
// connected. maxWatchersPerTenant caps the WatchIncidents streams one
// tenant may hold open on this replica, as each holds a Redis connection.
func NewHandler(store *Store, feed *Feed, log *zap.Logger, done <-chan struct{}, maxWatchersPerTenant int) *Handler {
	return &Handler{store: store, feed: feed, log: log, done: done, watchers: newWatcherLimit(maxWatchersPerTenant)}
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
	if !h.watchers.acquire(t) {
		h.log.Warn("watcher refused: tenant at its limit", zap.String("tenant_id", string(t)), zap.Int("limit", h.watchers.max))
		return status.Error(codes.ResourceExhausted, "too many watchers for tenant")
	}
	defer h.watchers.release(t)
	sub, err := h.feed.Subscribe(ctx)
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return rpc.StatusOf(ctx, h.log, "subscribe to transitions", err)
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

// statusOf maps an error of this package's store or feed to its gRPC
// status: the package's own sentinel errors here, everything else through
// the shared mapping.
func (h *Handler) statusOf(ctx context.Context, op string, err error) error {
	switch {
	case errors.Is(err, ErrNotFound):
		return status.Error(codes.NotFound, "incident not found")
	case errors.Is(err, ErrBadPageToken):
		return status.Error(codes.InvalidArgument, "invalid page_token")
	case errors.Is(err, ErrStatusChange):
		return status.Error(codes.FailedPrecondition, err.Error())
	}
	return rpc.StatusOf(ctx, h.log, op, err)
}

// watcherLimit counts the open watch streams of each tenant on this
// replica, so one tenant cannot take every Redis connection.
type watcherLimit struct {
	max int
	mu  sync.Mutex
	n   map[tenant.ID]int
}

func newWatcherLimit(limit int) *watcherLimit {
	return &watcherLimit{max: limit, n: map[tenant.ID]int{}}
}

// acquire takes a slot for t and reports whether one was free.
func (l *watcherLimit) acquire(t tenant.ID) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n[t] >= l.max {
		return false
	}
	l.n[t]++
	return true
}

// release gives back a slot acquire took.
func (l *watcherLimit) release(t tenant.ID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n[t] <= 1 {
		delete(l.n, t)
		return
	}
	l.n[t]--
}
