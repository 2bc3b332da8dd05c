package rpc

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/alexus-platform/alexus/internal/tenant"
)

// unaryCallLogger writes the line go-grpc-middleware's logging interceptor
// writes at the end of a unary call ("finished call", same fields, same
// levels: debug when OK), but builds nothing when that line's level is off.
// The library's interceptor gathers its fields and formats two timestamps
// for every call before it knows the level, which on the intake path costs
// more than a successful call's line is worth at the production level.
// Streaming calls keep the library's interceptor.
func unaryCallLogger(log *zap.Logger) grpc.UnaryServerInterceptor {
	log = log.WithOptions(zap.AddCallerSkip(1))
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := handler(ctx, req)
		code := status.Code(err)
		if ce := log.Check(zapLevel(callLevel(code)), "finished call"); ce != nil {
			ce.Write(finishedCallFields(ctx, info.FullMethod, start, code, err)...)
		}
		return resp, err
	}
}

// callLevel is the level of a call's line: debug when OK, the library's
// server default otherwise.
func callLevel(c codes.Code) logging.Level {
	if c == codes.OK {
		return logging.LevelDebug
	}
	return logging.DefaultServerCodeToLevel(c)
}

func zapLevel(l logging.Level) zapcore.Level {
	switch l {
	case logging.LevelDebug:
		return zapcore.DebugLevel
	case logging.LevelInfo:
		return zapcore.InfoLevel
	case logging.LevelWarn:
		return zapcore.WarnLevel
	default:
		return zapcore.ErrorLevel
	}
}

// finishedCallFields are the library's fields of a finished unary server
// call, in its order, after the tenant_id of tenantFields.
func finishedCallFields(ctx context.Context, fullMethod string, start time.Time, code codes.Code, err error) []zap.Field {
	service, method := "unknown", "unknown"
	if m := strings.TrimPrefix(fullMethod, "/"); strings.Contains(m, "/") {
		service, method, _ = strings.Cut(m, "/")
	}
	f := make([]zap.Field, 0, 13)
	if id, ok := tenant.FromContext(ctx); ok {
		f = append(f, zap.String("tenant_id", string(id.Tenant)))
	}
	f = append(f,
		zap.String(logging.SystemTag[0], logging.SystemTag[1]),
		zap.String(logging.ComponentFieldKey, logging.KindServerFieldValue),
		zap.String(logging.ServiceFieldKey, service),
		zap.String(logging.MethodFieldKey, method),
		zap.String(logging.MethodTypeFieldKey, "unary"),
	)
	if p, ok := peer.FromContext(ctx); ok {
		f = append(f, zap.String("peer.address", p.Addr.String()))
	}
	f = append(f, zap.String("grpc.start_time", start.Format(time.RFC3339)))
	if d, ok := ctx.Deadline(); ok {
		f = append(f, zap.String("grpc.request.deadline", d.Format(time.RFC3339)))
	}
	f = append(f, zap.String("grpc.code", code.String()))
	if err != nil {
		f = append(f, zap.String("grpc.error", err.Error()))
	}
	ms := float32(time.Since(start).Nanoseconds()/1000) / 1000
	return append(f, zap.String("grpc.time_ms", fmt.Sprintf("%v", ms)))
}
