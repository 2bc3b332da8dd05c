package rpc_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/alexus-platform/alexus/internal/rpc"
)

func TestStatusOf(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for name, tc := range map[string]struct {
		err  error
		want codes.Code
	}{
		"status kept":         {status.Error(codes.NotFound, "no such incident"), codes.NotFound},
		"wrapped status kept": {fmt.Errorf("get: %w", status.Error(codes.InvalidArgument, "bad")), codes.InvalidArgument},
		"canceled":            {fmt.Errorf("query: %w", context.Canceled), codes.Canceled},
		"deadline":            {context.DeadlineExceeded, codes.DeadlineExceeded},
		"connection lost":     {fmt.Errorf("query: %w", io.ErrUnexpectedEOF), codes.Unavailable},
		"admin shutdown":      {&pgconn.PgError{Code: "57P01"}, codes.Unavailable},
		"too many clients":    {&pgconn.PgError{Code: "53300"}, codes.Unavailable},
		"redis closed":        {redis.ErrClosed, codes.Unavailable},
		"unique violation":    {&pgconn.PgError{Code: "23505"}, codes.Internal},
		"plain bug":           {errors.New("marshal: oops"), codes.Internal},
	} {
		got := rpc.StatusOf(ctx, zap.NewNop(), "op", tc.err)
		require.Equal(t, tc.want, status.Code(got), name)
	}
	require.NoError(t, rpc.StatusOf(ctx, zap.NewNop(), "op", nil))
	st := status.Convert(rpc.StatusOf(ctx, zap.NewNop(), "list incidents", errors.New("secret detail")))
	require.NotContains(t, st.Message(), "secret detail", "internal errors do not leak their text")
}
