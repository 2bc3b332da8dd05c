package rpc

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/alexus-platform/alexus/internal/tenant"
)

// StatusOf turns an error from a store call made while doing op into the
// status a plane answers with, so every plane reports the same outage the
// same way:
//
//   - an error that already carries a gRPC status keeps it;
//   - the caller's cancellation or deadline is CANCELED / DEADLINE_EXCEEDED;
//   - a store that cannot be reached or is shutting down is UNAVAILABLE
//     (callers may retry), logged as a warning;
//   - anything else is INTERNAL, logged as an error; its text stays in the
//     log, not in the answer.
//
// Logs carry the context's tenant.
func StatusOf(ctx context.Context, log *zap.Logger, op string, err error) error {
	if err == nil {
		return nil
	}
	if st, ok := status.FromError(err); ok {
		return st.Err()
	}
	fields := []zap.Field{zap.String("op", op), zap.Error(err)}
	if id, ok := tenant.FromContext(ctx); ok {
		fields = append(fields, zap.String("tenant_id", string(id.Tenant)))
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, op+": canceled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, op+": deadline exceeded")
	case Unavailable(err):
		log.Warn("store unavailable", fields...)
		return status.Error(codes.Unavailable, op+": store unavailable, retry")
	default:
		log.Error("store call failed", fields...)
		return status.Error(codes.Internal, op+": internal error")
	}
}

// Unavailable reports whether err means a store could not be reached or is
// temporarily refusing work, as opposed to a bug or a bad request.
func Unavailable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08 is connection exceptions, 53 insufficient resources; 57P01-03
		// are admin/crash shutdown and "cannot connect now".
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "53") ||
			pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03"
	}
	var redisErr redis.Error
	if errors.As(err, &redisErr) && !isNetError(err) {
		msg := redisErr.Error()
		for _, p := range []string{"LOADING", "BUSY", "CLUSTERDOWN", "TRYAGAIN", "MASTERDOWN", "READONLY"} {
			if strings.HasPrefix(msg, p) {
				return true
			}
		}
		return false
	}
	var connErr *pgconn.ConnectError
	return errors.As(err, &connErr) || isNetError(err) || pgconn.Timeout(err) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, puddle.ErrClosedPool) || errors.Is(err, redis.ErrClosed)
}

func isNetError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne)
}
