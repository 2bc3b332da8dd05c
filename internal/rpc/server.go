package rpc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"strings"

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
//  2. logging: one zap line per call with its code, including refused calls;
//  3. auth: verifies the internal identity token and puts the tenant in the
//     context, so nothing below runs for an unauthenticated caller;
//  4. protovalidate: checks the request against its proto annotations, after
//     auth so that unauthenticated callers learn nothing about payload rules.
//
// Health and reflection are registered outside the auth chain's reach by
// name (see skipAuth), as probes carry no tenant.
func NewServer(log *zap.Logger, verifier *tenant.Verifier, opts ...grpc.ServerOption) (*grpc.Server, *health.Server, error) {
	validator, err := protovalidate.New()
	if err != nil {
		return nil, nil, fmt.Errorf("build protovalidate validator: %w", err)
	}
	authFn := skipAuth(tenant.AuthFunc(verifier))
	rec := recovery.WithRecoveryHandler(func(p any) error {
		log.Error("panic in RPC handler", zap.Any("panic", p), zap.ByteString("stack", debug.Stack()))
		return status.Error(codes.Internal, "internal error")
	})
	logOpts := []logging.Option{
		logging.WithLogOnEvents(logging.FinishCall),
		logging.WithFieldsFromContext(tenantFields),
	}
	zl := interceptorLogger(log)
	opts = append(opts,
		grpc.ChainUnaryInterceptor(
			recovery.UnaryServerInterceptor(rec),
			logging.UnaryServerInterceptor(zl, logOpts...),
			auth.UnaryServerInterceptor(authFn),
			protovalidatemw.UnaryServerInterceptor(validator),
		),
		grpc.ChainStreamInterceptor(
			recovery.StreamServerInterceptor(rec),
			logging.StreamServerInterceptor(zl, logOpts...),
			auth.StreamServerInterceptor(authFn),
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
// other method must authenticate.
func skipAuth(fn auth.AuthFunc) auth.AuthFunc {
	return func(ctx context.Context) (context.Context, error) {
		if m, ok := grpc.Method(ctx); ok && isPublicMethod(m) {
			return ctx, nil
		}
		return fn(ctx)
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

// Serve runs srv on lis until ctx is done, then stops it gracefully.
func Serve(ctx context.Context, srv *grpc.Server, lis net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()
	select {
	case <-ctx.Done():
		srv.GracefulStop()
		<-errc
		return nil
	case err := <-errc:
		if errors.Is(err, grpc.ErrServerStopped) {
			return nil
		}
		return fmt.Errorf("serve gRPC on %s: %w", lis.Addr(), err)
	}
}
