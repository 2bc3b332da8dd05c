package ingest

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	ingestv1 "github.com/alexus-platform/alexus/gen/alexus/ingest/v1"
	orchestratorv1 "github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1"
	"github.com/alexus-platform/alexus/internal/rpc"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/ingest/limit"
	"github.com/alexus-platform/alexus/services/ingest/sources"
)

// Deps are the ingestion plane's collaborators.
type Deps struct {
	// Log receives the plane's logs.
	Log *zap.Logger
	// Redis holds the dedup claims and signal streams.
	Redis *redis.Client
	// Verifier checks the internal identity token on every call.
	Verifier *tenant.Verifier
	// DB holds the tenants' own sources (mapping rules, fingerprint
	// overrides); only the application role is used.
	DB *store.DB
	// Orchestrator lists stored signals for PreviewFingerprintOverride; it
	// must be dialled with rpc.Dial so the caller's identity goes along.
	Orchestrator orchestratorv1.OrchestratorServiceClient
}

// Service is the ingestion plane.
type Service struct {
	cfg  Config
	deps Deps
	ing  *Ingester
	// srcs are the tenants' own sources, cached.
	srcs *sources.Cache
	// disp bounds the calls this replica works on at once.
	disp *limit.Dispatcher
}

// New checks cfg and deps and returns the plane, not yet serving.
func New(cfg Config, deps Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var errs []error
	if deps.Log == nil {
		errs = append(errs, errors.New("Deps.Log is nil"))
	}
	if deps.Redis == nil {
		errs = append(errs, errors.New("Deps.Redis is nil"))
	}
	if deps.Verifier == nil {
		errs = append(errs, errors.New("Deps.Verifier is nil"))
	}
	if deps.DB == nil {
		errs = append(errs, errors.New("Deps.DB is nil"))
	}
	if deps.Orchestrator == nil {
		errs = append(errs, errors.New("Deps.Orchestrator is nil"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("new ingest service: %w", err)
	}
	log := deps.Log.Named("ingest")
	deps.Log = log
	srcs := sources.NewCache(sources.NewStore(deps.DB), cfg.SourceCacheTTL)
	return &Service{
		cfg:  cfg,
		deps: deps,
		ing:  NewIngester(cfg, log, deps.Redis, srcs),
		srcs: srcs,
		disp: limit.NewDispatcher(cfg.MaxInFlight, cfg.MaxInFlightPerTenant, cfg.InFlightWait),
	}, nil
}

// Run serves IngestService on lis until ctx is done, then stops gracefully,
// letting calls in flight finish, and returns. The plane has no background
// workers.
func (s *Service) Run(ctx context.Context, lis net.Listener) error {
	// Calls run on long-lived workers, one per in-flight slot, instead of a
	// fresh goroutine each: a fresh goroutine's stack grows by copying,
	// several times per call, as the call descends through the interceptors
	// and a normaliser's JSON decoding (about a tenth of the plane's CPU at
	// intake); a worker keeps its grown stack. Calls beyond the workers get
	// a goroutine of their own, as before.
	srv, hs, err := rpc.NewServer(s.deps.Log, s.deps.Verifier, grpc.NumStreamWorkers(uint32(s.cfg.MaxInFlight)))
	if err != nil {
		return fmt.Errorf("build ingest gRPC server: %w", err)
	}
	ingestv1.RegisterIngestServiceServer(srv, &handler{log: s.deps.Log, ing: s.ing, disp: s.disp, maxItems: s.cfg.MaxBatchItems})
	ingestv1.RegisterSourceServiceServer(srv, &sourceHandler{
		log: s.deps.Log, ing: s.ing, store: sources.NewStore(s.deps.DB), cache: s.srcs, signals: s.deps.Orchestrator,
	})
	hs.SetServingStatus(ingestv1.IngestService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus(ingestv1.SourceService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)

	// Report NOT_SERVING as soon as shutdown starts, so load balancers stop
	// sending new calls while the ones in flight drain.
	stop := context.AfterFunc(ctx, hs.Shutdown)
	defer stop()

	s.deps.Log.Info("ingest plane serving", zap.String("addr", lis.Addr().String()))
	if err := rpc.Serve(ctx, srv, lis); err != nil {
		return fmt.Errorf("ingest plane: %w", err)
	}
	s.deps.Log.Info("ingest plane stopped")
	return nil
}
