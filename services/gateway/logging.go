package gateway

import (
	"context"
	"errors"
	"time"

	"connectrpc.com/connect"
	"go.uber.org/zap"

	"github.com/alexus-platform/alexus/internal/tenant"
)

// logInterceptor writes one line per admitted call with its tenant, code
// and duration. It sits inside the auth interceptor, where the identity is
// in the context; refused calls are logged by auth itself.
type logInterceptor struct{ log *zap.Logger }

func (l logInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if req.Spec().IsClient {
			return next(ctx, req)
		}
		start := time.Now()
		res, err := next(ctx, req)
		l.done(ctx, req.Spec().Procedure, req.Peer().Protocol, start, err)
		return res, err
	}
}

func (l logInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (l logInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		start := time.Now()
		err := next(ctx, conn)
		l.done(ctx, conn.Spec().Procedure, conn.Peer().Protocol, start, err)
		return err
	}
}

func (l logInterceptor) done(ctx context.Context, procedure, protocol string, start time.Time, err error) {
	code := "ok"
	if err != nil {
		code = connect.CodeOf(err).String()
	}
	fields := []zap.Field{
		zap.String("procedure", procedure),
		zap.String("protocol", protocol),
		zap.String("code", code),
		zap.Duration("duration", time.Since(start)),
	}
	if id, ok := tenant.FromContext(ctx); ok {
		fields = append(fields, zap.String("tenant_id", string(id.Tenant)))
	}
	var cerr *connect.Error
	if err != nil && errors.As(err, &cerr) {
		fields = append(fields, zap.String("message", cerr.Message()))
	}
	// Successful calls are debug so that busy intake does not pay for a
	// line per request; refused and failed calls stay visible at info.
	if err == nil {
		l.log.Debug("call", fields...)
		return
	}
	l.log.Info("call", fields...)
}
