package gateway

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/textproto"
	"runtime/debug"
	"sync"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"
	"github.com/rs/cors"
	"go.uber.org/zap"

	actionsv1 "github.com/alexus-platform/alexus/gen/alexus/actions/v1"
	"github.com/alexus-platform/alexus/gen/alexus/actions/v1/actionsv1connect"
	ingestv1 "github.com/alexus-platform/alexus/gen/alexus/ingest/v1"
	"github.com/alexus-platform/alexus/gen/alexus/ingest/v1/ingestv1connect"
	knowledgev1 "github.com/alexus-platform/alexus/gen/alexus/knowledge/v1"
	"github.com/alexus-platform/alexus/gen/alexus/knowledge/v1/knowledgev1connect"
	orchestratorv1 "github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1"
	"github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1/orchestratorv1connect"
	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
	"github.com/alexus-platform/alexus/gen/alexus/reasoning/v1/reasoningv1connect"
	"github.com/alexus-platform/alexus/internal/secretbox"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/gateway/auth"
	"github.com/alexus-platform/alexus/services/gateway/coalesce"
	"github.com/alexus-platform/alexus/services/gateway/proxy"
	"github.com/alexus-platform/alexus/services/gateway/signature"
	"github.com/alexus-platform/alexus/services/gateway/webhook"
)

// ServiceNames are the public services the gateway serves, for health and
// reflection.
var ServiceNames = []string{
	ingestv1connect.IngestServiceName,
	ingestv1connect.SourceServiceName,
	orchestratorv1connect.OrchestratorServiceName,
	reasoningv1connect.ReasoningServiceName,
	actionsv1connect.ActionServiceName,
	knowledgev1connect.KnowledgeServiceName,
}

// Deps are the gateway's collaborators.
type Deps struct {
	// Log receives structured logs; nil discards them.
	Log *zap.Logger
	// DB is the application-role pool, used only through internal/provision:
	// to read tenant existence and integration-token hashes, and to create
	// tenants when DevAutoCreateTenants is on (see the package doc).
	DB *store.DB
	// Keys opens integrations' sealed signing secrets; nil when none is
	// configured (ALEXUS_SECRET_KEYS), and then vendors of integrations with
	// a secret are answered 503.
	Keys *secretbox.Keyring
	// SNS verifies AWS SNS message signatures; nil means the production
	// verifier, which fetches certificates from sns.<region>.amazonaws.com
	// only.
	SNS *signature.SNSVerifier
	// Plane clients. They must be dialled with rpc.Dial(addr, signer), whose
	// interceptor signs the verified identity from the context into every
	// call as a short-lived internal token; the gateway never signs one
	// itself.
	Ingest       ingestv1.IngestServiceClient
	Sources      ingestv1.SourceServiceClient
	Orchestrator orchestratorv1.OrchestratorServiceClient
	Reasoning    reasoningv1.ReasoningServiceClient
	Actions      actionsv1.ActionServiceClient
	Knowledge    knowledgev1.KnowledgeServiceClient
}

// Service is the gateway.
type Service struct {
	cfg     Config
	log     *zap.Logger
	handler http.Handler

	// stopStreams ends server streams when Run begins shutting down;
	// release ends the JWKS refresh and everything else New started.
	stopStreams context.CancelFunc
	release     context.CancelFunc
	closeOnce   sync.Once
}

// New builds the gateway. When Auth names a JWKS URL it fetches the key set
// once (a failure is logged and retried in the background, not returned)
// and keeps refreshing it until Close or the end of Run.
func New(cfg Config, deps Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.DB == nil {
		return nil, errors.New("gateway: deps.DB is required")
	}
	clients := proxy.Clients{Ingest: deps.Ingest, Sources: deps.Sources, Orchestrator: deps.Orchestrator, Reasoning: deps.Reasoning, Actions: deps.Actions, Knowledge: deps.Knowledge}
	if err := clients.Validate(); err != nil {
		return nil, fmt.Errorf("gateway: deps: %w", err)
	}
	log := deps.Log
	if log == nil {
		log = zap.NewNop()
	}
	log = log.Named("gateway")

	lifetime, release := context.WithCancel(context.Background())
	streams, stopStreams := context.WithCancel(lifetime)
	s := &Service{cfg: cfg, log: log, stopStreams: stopStreams, release: release}
	h, err := s.build(lifetime, streams, deps, clients)
	if err != nil {
		release()
		return nil, err
	}
	s.handler = h
	return s, nil
}

func (s *Service) build(lifetime, streams context.Context, deps Deps, clients proxy.Clients) (http.Handler, error) {
	verifier, err := auth.NewVerifier(lifetime, s.cfg.Auth, s.log)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	tenants, err := auth.NewTenants(deps.DB, auth.TenantsConfig{
		CacheTTL:          s.cfg.TenantCacheTTL,
		AutoCreate:        s.cfg.DevAutoCreateTenants,
		DefaultWebhookURL: s.cfg.DevDefaultWebhookURL,
	}, s.log)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	authn, err := auth.NewAuthenticator(verifier, tenants, s.log)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	p, err := proxy.New(streams, clients)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	// Webhook deliveries of a tenant share calls to ingest under load; API
	// callers' Ingest calls are forwarded one for one.
	hookIngest, err := coalesce.New(deps.Ingest, s.cfg.IngestCoalesce)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	hooks, err := webhook.New(webhook.Config{MaxBodyBytes: s.cfg.MaxBodyBytes, TokenCacheTTL: s.cfg.IntegrationTokenCacheTTL}, webhook.Deps{
		Log: s.log, Auth: authn, DB: deps.DB, Ingest: hookIngest, Keys: deps.Keys, SNS: deps.SNS, Tickets: deps.Actions,
	})
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}

	// The handler-side chain of the public services, outermost first:
	//  1. auth: verifies the JWT, admits the tenant and puts the identity in
	//     the context; nothing below runs for a refused caller, and it logs
	//     its own refusals;
	//  2. logging: one line per admitted call, with the tenant from 1.
	// Recovery is Connect's own WithRecover, which wraps the whole chain, and
	// message size is capped before any of it decodes a byte.
	opts := []connect.HandlerOption{
		connect.WithInterceptors(authn.Interceptor(), logInterceptor{log: s.log}),
		connect.WithRecover(s.recoverPanic),
		connect.WithReadMaxBytes(int(s.cfg.MaxBodyBytes)),
	}
	mux := http.NewServeMux()
	mux.Handle(ingestv1connect.NewIngestServiceHandler(p, opts...))
	mux.Handle(ingestv1connect.NewSourceServiceHandler(p, opts...))
	mux.Handle(orchestratorv1connect.NewOrchestratorServiceHandler(p, opts...))
	mux.Handle(reasoningv1connect.NewReasoningServiceHandler(p, opts...))
	mux.Handle(actionsv1connect.NewActionServiceHandler(p, opts...))
	mux.Handle(knowledgev1connect.NewKnowledgeServiceHandler(p, opts...))

	// Probes and reflection carry no tenant and reveal only the public
	// schema, so they are served without auth.
	mux.Handle(grpchealth.NewHandler(grpchealth.NewStaticChecker(ServiceNames...)))
	reflector := grpcreflect.NewStaticReflector(ServiceNames...)
	mux.Handle(grpcreflect.NewHandlerV1(reflector))
	mux.Handle(grpcreflect.NewHandlerV1Alpha(reflector))

	mux.Handle(webhook.Pattern, hooks)
	mux.HandleFunc(webhook.BatchPattern, hooks.ServeBatch)

	// Outside the mux, outermost first: the identity header is dropped (the
	// planes' token is always re-signed from the verified JWT, so this is
	// defence in depth), then CORS answers preflights before routing.
	var h http.Handler = mux
	if len(s.cfg.CORSAllowedOrigins) > 0 {
		h = cors.New(cors.Options{
			AllowedOrigins: s.cfg.CORSAllowedOrigins,
			AllowedMethods: []string{http.MethodGet, http.MethodPost},
			AllowedHeaders: []string{
				"Content-Type", "Connect-Protocol-Version", "Connect-Timeout-Ms",
				"Grpc-Timeout", "X-Grpc-Web", "X-User-Agent", "Authorization",
			},
			ExposedHeaders: []string{"Grpc-Status", "Grpc-Message", "Grpc-Status-Details-Bin"},
			// Browsers cache the preflight for two hours, the most Chromium
			// honours.
			MaxAge: 7200,
		}).Handler(h)
	}
	return dropIdentityHeader(h), nil
}

// dropIdentityHeader removes any internal identity token a caller sends, so
// no code below can mistake it for one the gateway signed.
func dropIdentityHeader(next http.Handler) http.Handler {
	// Canonicalised once: Header.Del would canonicalise the lower-case
	// metadata key, allocating, on every request.
	key := textproto.CanonicalMIMEHeaderKey(tenant.MetadataKey)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		delete(r.Header, key)
		next.ServeHTTP(w, r)
	})
}

func (s *Service) recoverPanic(ctx context.Context, spec connect.Spec, _ http.Header, p any) error {
	fields := []zap.Field{zap.String("procedure", spec.Procedure), zap.Any("panic", p), zap.ByteString("stack", debug.Stack())}
	if id, ok := tenant.FromContext(ctx); ok {
		fields = append(fields, zap.String("tenant_id", string(id.Tenant)))
	}
	s.log.Error("panic in gateway handler", fields...)
	return connect.NewError(connect.CodeInternal, errors.New("internal error"))
}

// Handler returns the gateway's HTTP handler, for tests and for embedding.
// Serving gRPC through it needs HTTP/2, which Run enables without TLS.
func (s *Service) Handler() http.Handler { return s.handler }

// Run serves HTTP/1.1 and unencrypted HTTP/2 (h2c, for gRPC clients) on lis
// until ctx is done. It then ends open server streams with UNAVAILABLE,
// waits up to ShutdownTimeout for other calls, and returns nil. Run closes
// the Service when it returns.
func (s *Service) Run(ctx context.Context, lis net.Listener) error {
	defer s.Close()
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	srv := &http.Server{
		Handler:           s.handler,
		Protocols:         protocols,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ErrorLog:          zap.NewStdLog(s.log.Named("http")),
	}
	s.log.Info("gateway listening", zap.String("addr", lis.Addr().String()))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()

	select {
	case err := <-errc:
		return fmt.Errorf("serve gateway on %s: %w", lis.Addr(), err)
	case <-ctx.Done():
	}
	s.stopStreams()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		s.log.Warn("graceful shutdown timed out; closing connections", zap.Error(err))
		_ = srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve gateway on %s: %w", lis.Addr(), err)
	}
	return nil
}

// Close stops the background work New started (the JWKS refresh) and ends
// open server streams. Safe to call more than once.
func (s *Service) Close() {
	s.closeOnce.Do(func() {
		s.stopStreams()
		s.release()
	})
}
