package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	actionsv1 "github.com/alexus-platform/alexus/gen/alexus/actions/v1"
	knowledgev1 "github.com/alexus-platform/alexus/gen/alexus/knowledge/v1"
	orchestratorv1 "github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1"
	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
	pggraph "github.com/alexus-platform/alexus/internal/graph/postgres"
	"github.com/alexus-platform/alexus/internal/rpc"
	"github.com/alexus-platform/alexus/internal/secretbox"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/orchestrator/gate"
	"github.com/alexus-platform/alexus/services/orchestrator/incident"
	"github.com/alexus-platform/alexus/services/orchestrator/knowledge"
	"github.com/alexus-platform/alexus/services/orchestrator/pipeline"
	"github.com/alexus-platform/alexus/services/orchestrator/reasoning"
	"github.com/alexus-platform/alexus/services/orchestrator/reasoning/modelsettings"
	"github.com/alexus-platform/alexus/services/orchestrator/reasoning/thresholds"
	"github.com/alexus-platform/alexus/services/orchestrator/ticketsync"
)

// Deps are what the orchestrator plane talks to.
type Deps struct {
	// Log receives structured logs; nil discards them.
	Log *zap.Logger
	// DB is the application-role pool holding incidents.
	DB *store.DB
	// Keys seals and opens tenants' secrets (their embedding and model API
	// keys); nil when no key ring is configured.
	Keys *secretbox.Keyring
	// Redis holds the signal streams and carries the transition feed.
	Redis *redis.Client
	// Verifier checks the internal identity token on every RPC.
	Verifier *tenant.Verifier
	// Reasoning is the ReasoningService the pipeline calls for each stage:
	// a client dialled (rpc.Dial, so it signs the pipeline's identity) to a
	// reasoning replica. Nil: this plane's own ReasoningService, called in
	// process.
	Reasoning reasoningv1.ReasoningServiceClient
	// Actions is the action plane's client, dialled with rpc.Dial.
	Actions actionsv1.ActionServiceClient
}

// Service is the orchestrator plane.
type Service struct {
	cfg  Config
	deps Deps
	log  *zap.Logger
	// knowledge serves KnowledgeService over the tenant graphs.
	knowledge *knowledge.Handler
	// reasoning serves ReasoningService.
	reasoning *reasoning.Handler
	// incidents stores incidents; each resolution it stores schedules a
	// quality gate.
	incidents *incident.Store
	// feed carries transitions to watchers.
	feed *incident.Feed
	// router picks where escalations go, the pipeline's and the gate's.
	router pipeline.OwnerRouter
	// gate checks resolutions a while after them.
	gate *gate.Gate
	// tickets keeps incidents' tickets in step with them.
	tickets *ticketsync.Sync
}

// New checks cfg and deps and returns a Service; Run starts it.
func New(cfg Config, deps Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	switch {
	case deps.DB == nil:
		return nil, errors.New("orchestrator: deps.DB is required")
	case deps.Redis == nil:
		return nil, errors.New("orchestrator: deps.Redis is required")
	case deps.Verifier == nil:
		return nil, errors.New("orchestrator: deps.Verifier is required")
	case deps.Actions == nil:
		return nil, errors.New("orchestrator: deps.Actions is required")
	}
	log := deps.Log
	if log == nil {
		log = zap.NewNop()
	}
	log = log.Named("orchestrator")
	g, err := pggraph.New(deps.DB, pggraph.Config{Dimension: cfg.Knowledge.Dimension, MaxCachedVectors: cfg.Knowledge.MaxCachedVectors})
	if err != nil {
		return nil, fmt.Errorf("orchestrator: knowledge graph: %w", err)
	}
	emb, err := cfg.Knowledge.embedder()
	if err != nil {
		return nil, fmt.Errorf("orchestrator: embedder: %w", err)
	}
	kh, err := knowledge.NewHandler(g, emb, deps.DB, deps.Keys, log)
	if err != nil {
		return nil, fmt.Errorf("orchestrator: %w", err)
	}
	// The tenants' model settings are also the client's meter, so their
	// token use is recorded and their budgets enforced.
	settings := modelsettings.New(deps.DB, deps.Keys, log)
	model, err := cfg.LLM.Client(settings)
	if err != nil {
		return nil, fmt.Errorf("orchestrator: model: %w", err)
	}
	rh, err := reasoning.NewHandler(reasoning.Options{
		Rules:       thresholds.New(deps.DB, thresholds.Defaults{ExecuteAt: cfg.ExecuteAt, ClarifyAt: cfg.ClarifyAt}),
		Model:       model,
		StageBudget: cfg.LLM.StageBudget,
		Knowledge:   kh,
		Catalogue:   reasoning.NewTargetCatalogue(deps.DB),
		Settings:    settings,
		Log:         log,
	})
	if err != nil {
		return nil, fmt.Errorf("orchestrator: %w", err)
	}
	s := &Service{cfg: cfg, deps: deps, log: log, knowledge: kh, reasoning: rh, feed: incident.NewFeed(deps.Redis, cfg.Namespace)}
	// The store schedules gates through s.gate and ticket calls through
	// s.tickets, which need workers that need the store: the hooks read
	// them when something is stored, by which time New has set them.
	s.incidents = incident.NewStore(deps.DB, incident.OnResolve(func(ctx context.Context, tx pgx.Tx, inc incident.Incident) (bool, error) {
		return s.gate.Schedule(ctx, tx, inc)
	}), incident.WithTickets(lateTickets{s}))
	s.router = pipeline.OwnerRouter{Owners: kh, DefaultRoute: s.incidents.DefaultRoute}
	worker := gate.NewWorker(gate.WorkerDeps{Store: s.incidents, Feed: s.feed, Knowledge: kh, Router: s.router, Log: log.Named("gate")})
	if s.gate, err = gate.New(cfg.QualityGate, deps.DB, worker, log.Named("gate")); err != nil {
		return nil, fmt.Errorf("orchestrator: %w", err)
	}
	tw := ticketsync.NewWorker(ticketsync.WorkerDeps{Store: s.incidents, Actions: deps.Actions, Log: log.Named("tickets")})
	if s.tickets, err = ticketsync.New(deps.DB, tw, log.Named("tickets")); err != nil {
		return nil, fmt.Errorf("orchestrator: %w", err)
	}
	return s, nil
}

// lateTickets hands the store's ticket calls to the service's ticketsync,
// which is built after the store.
type lateTickets struct{ s *Service }

func (l lateTickets) Open(ctx context.Context, tx pgx.Tx, inc incident.Incident, req incident.TicketOpen) error {
	return l.s.tickets.Open(ctx, tx, inc, req)
}

func (l lateTickets) Follow(ctx context.Context, tx pgx.Tx, inc incident.Incident, tr incident.Transition, tk incident.Ticket) error {
	return l.s.tickets.Follow(ctx, tx, inc, tr, tk)
}

// Run serves ReasoningService and OrchestratorService on lis, consumes
// the signal streams and works due quality gates and ticket calls until
// ctx is done. It then stops reading, lets the entries already running
// finish within EntryTimeout (their reasoning calls still reach this
// server) while those not begun stay pending for another replica, stops
// the quality gates and ticket calls (those cut short run again later),
// ends the watch streams and stops the server gracefully.
func (s *Service) Run(ctx context.Context, lis net.Listener) error {
	srv, health, err := rpc.NewServer(s.log, s.deps.Verifier)
	if err != nil {
		return fmt.Errorf("build orchestrator gRPC server: %w", err)
	}
	watchDone := make(chan struct{})
	reasoningv1.RegisterReasoningServiceServer(srv, s.reasoning)
	orchestratorv1.RegisterOrchestratorServiceServer(srv, incident.NewHandler(s.incidents, s.feed, s.log, watchDone, s.cfg.MaxWatchersPerTenant))
	knowledgev1.RegisterKnowledgeServiceServer(srv, s.knowledge)
	health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	for _, name := range []string{reasoningv1.ReasoningService_ServiceDesc.ServiceName, orchestratorv1.OrchestratorService_ServiceDesc.ServiceName, knowledgev1.KnowledgeService_ServiceDesc.ServiceName} {
		health.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	}
	if err := s.gate.Start(ctx); err != nil {
		return err
	}
	if err := s.tickets.Start(ctx); err != nil {
		_ = s.gate.Stop()
		return err
	}

	serveCtx, stopServing := context.WithCancel(context.WithoutCancel(ctx))
	defer stopServing()
	serveErr := make(chan error, 1)
	go func() { serveErr <- rpc.Serve(serveCtx, srv, lis) }()

	consumeCtx, stopConsuming := context.WithCancel(ctx)
	defer stopConsuming()
	consumer := pipeline.NewConsumer(s.cfg.ConsumerConfig, s.cfg.Namespace, s.deps.Redis,
		pipeline.NewProcessor(s.incidents, s.feed, s.reasoner(), s.deps.Actions, s.router, s.log), s.log)
	var consuming sync.WaitGroup
	consuming.Add(1)
	go func() {
		defer consuming.Done()
		_ = consumer.Run(consumeCtx)
	}()
	if every := s.cfg.ResumeSweepInterval; every > 0 {
		consuming.Add(1)
		go func() {
			defer consuming.Done()
			s.sweepUnresumed(consumeCtx, every)
		}()
	}
	s.log.Info("orchestrator serving", zap.String("addr", lis.Addr().String()), zap.String("consumer", s.cfg.Consumer))

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		// The server stopped on its own; nothing can reach the reasoning
		// stages any more, so stop consuming too.
		runErr = fmt.Errorf("orchestrator server stopped: %w", err)
		if err == nil {
			runErr = errors.New("orchestrator server stopped unexpectedly")
		}
		serveErr = nil
	}
	stopConsuming()
	consuming.Wait()
	if err := s.gate.Stop(); err != nil && runErr == nil {
		runErr = err
	}
	if err := s.tickets.Stop(); err != nil && runErr == nil {
		runErr = err
	}
	health.Shutdown()
	close(watchDone)
	stopServing()
	if serveErr != nil {
		if err := <-serveErr; err != nil && runErr == nil {
			runErr = err
		}
	}
	s.log.Info("orchestrator stopped")
	return runErr
}

// reasoner is what the pipeline calls for its stages: the configured
// ReasoningService client, else this plane's own handler in process.
func (s *Service) reasoner() pipeline.Reasoner {
	if s.deps.Reasoning != nil {
		return s.deps.Reasoning
	}
	return reasoning.InProcess{H: s.reasoning}
}

// sweepUnresumed queues again, every interval, the resume of each clarify
// answer whose incident never resumed (incident.SweepUnresumed). The grace
// period outlasts the consumer's own redelivery of a resume entry (its
// claim idle time for each of its deliveries), so that a resume the
// pipeline still holds is left to it. Every replica sweeps; the sweep
// claims each answer before it queues it.
func (s *Service) sweepUnresumed(ctx context.Context, every time.Duration) {
	grace := max(every, s.cfg.ClaimMinIdle*time.Duration(s.cfg.MaxDeliveries))
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		n, err := incident.SweepUnresumed(ctx, s.incidents, s.feed, grace, s.log)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Warn("resume sweep failed", zap.Error(err))
		case n > 0:
			s.log.Info("resume sweep queued answers again", zap.Int("answers", n))
		}
	}
}
