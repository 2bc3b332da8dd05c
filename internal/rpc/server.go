package rpc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"strings"
	"time"

	"buf.build/go/protovalidate"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/auth"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	protovalidatemw "github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/protovalidate"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	"github.com/alexus-platform/alexus/internal/tenant"
)

// NewServer returns a gRPC server for a plane with the interceptor chain
// every plane shares, on unary and streaming RPCs alike. The chain, outermost
// first:
//
//  1. recovery: a panic anywhere below becomes INTERNAL, never a dead process;
//  2. auth: verifies the internal identity token and puts the tenant in the
//     context, so nothing below runs for an unauthenticated caller; it logs
//     its own refusals, which never reach the logging stage;
//  3. logging: one zap line per call with its code (debug when OK), carrying the tenant_id
//     that auth put in the context; unary calls use unaryCallLogger, which
//     writes the same line but builds nothing when its level is off;
//  4. protovalidate: checks the request against its proto annotations, after
//     auth so that unauthenticated callers learn nothing about payload rules.
//
// Health and reflection pass auth without a token (see skipAuth), as probes
// carry no tenant.
func NewServer(log *zap.Logger, verifier *tenant.Verifier, opts ...grpc.ServerOption) (*grpc.Server, *health.Server, error) {
	validator, err := protovalidate.New()
	if err != nil {
		return nil, nil, fmt.Errorf("build protovalidate validator: %w", err)
	}
	authFn := skipAuth(log, tenant.AuthFunc(verifier))
	rec := recovery.WithRecoveryHandler(func(p any) error {
		log.Error("panic in RPC handler", zap.Any("panic", p), zap.ByteString("stack", debug.Stack()))
		return status.Error(codes.Internal, "internal error")
	})
	logOpts := []logging.Option{
		logging.WithLogOnEvents(logging.FinishCall),
		logging.WithFieldsFromContext(tenantFields),
		// A line per successful call is debug: on the intake path it would
		// cost more than the work itself. Failures keep their usual levels.
		logging.WithLevels(callLevel),
	}
	zl := interceptorLogger(log)
	opts = append(opts,
		grpc.ChainUnaryInterceptor(
			recovery.UnaryServerInterceptor(rec),
			auth.UnaryServerInterceptor(authFn),
			unaryCallLogger(log),
			protovalidatemw.UnaryServerInterceptor(validator),
		),
		grpc.ChainStreamInterceptor(
			recovery.StreamServerInterceptor(rec),
			auth.StreamServerInterceptor(authFn),
			logging.StreamServerInterceptor(zl, logOpts...),
			protovalidatemw.StreamServerInterceptor(validator),
		),
	)
	srv := grpc.NewServer(opts...)
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	reflection.Register(srv)
	return srv, hs, nil
}

// skipAuth lets health checks and reflection through without a tenant; every
// other method must authenticate, and each refusal is logged here because it
// never reaches the logging interceptor.
func skipAuth(log *zap.Logger, fn auth.AuthFunc) auth.AuthFunc {
	return func(ctx context.Context) (context.Context, error) {
		m, _ := grpc.Method(ctx)
		if isPublicMethod(m) {
			return ctx, nil
		}
		out, err := fn(ctx)
		if err != nil {
			log.Warn("call refused", zap.String("grpc.method", m), zap.String("grpc.code", status.Code(err).String()), zap.Error(err))
		}
		return out, err
	}
}

func isPublicMethod(fullMethod string) bool {
	return strings.HasPrefix(fullMethod, "/grpc.health.v1.Health/") ||
		strings.HasPrefix(fullMethod, "/grpc.reflection.")
}

func tenantFields(ctx context.Context) logging.Fields {
	if id, ok := tenant.FromContext(ctx); ok {
		return logging.Fields{"tenant_id", string(id.Tenant)}
	}
	return nil
}

// interceptorLogger adapts zap to go-grpc-middleware's logging interface.
func interceptorLogger(l *zap.Logger) logging.Logger {
	return logging.LoggerFunc(func(_ context.Context, lvl logging.Level, msg string, fields ...any) {
		f := make([]zap.Field, 0, len(fields)/2)
		for i := 0; i+1 < len(fields); i += 2 {
			key, _ := fields[i].(string)
			f = append(f, zap.Any(key, fields[i+1]))
		}
		l := l.WithOptions(zap.AddCallerSkip(1))
		switch lvl {
		case logging.LevelDebug:
			l.Debug(msg, f...)
		case logging.LevelInfo:
			l.Info(msg, f...)
		case logging.LevelWarn:
			l.Warn(msg, f...)
		default:
			l.Error(msg, f...)
		}
	})
}

// GracefulStopTimeout bounds how long Serve waits for calls in flight after
// its context ends; long-lived streams (an idle IngestBatch, a watcher) are
// then cut so that shutdown always finishes.
const GracefulStopTimeout = 10 * time.Second

// Serve runs srv on lis until ctx is done, then stops it gracefully, waiting
// at most GracefulStopTimeout before closing the remaining calls.
func Serve(ctx context.Context, srv *grpc.Server, lis net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()
	select {
	case <-ctx.Done():
		stopped := make(chan struct{})
		go func() {
			srv.GracefulStop()
			close(stopped)
		}()
		select {
		case <-stopped:
		case <-time.After(GracefulStopTimeout):
			srv.Stop()
			<-stopped
		}
		<-errc
		return nil
	case err := <-errc:
		if errors.Is(err, grpc.ErrServerStopped) {
			return nil
		}
		return fmt.Errorf("serve gRPC on %s: %w", lis.Addr(), err)
	}
}
