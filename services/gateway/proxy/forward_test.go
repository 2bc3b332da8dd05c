package proxy

import (
	"errors"
	"testing"

	"connectrpc.com/connect"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestConnectErrorKeepsCodeMessageAndDetails(t *testing.T) {
	t.Parallel()
	st, err := status.New(codes.FailedPrecondition, "tenant has no webhook target").
		WithDetails(&errdetails.ErrorInfo{Reason: "NO_TARGET"})
	require.NoError(t, err)

	var cerr *connect.Error
	require.ErrorAs(t, ConnectError(st.Err()), &cerr)
	require.Equal(t, connect.CodeFailedPrecondition, cerr.Code())
	require.Equal(t, "tenant has no webhook target", cerr.Message())
	require.Len(t, cerr.Details(), 1)
	v, err := cerr.Details()[0].Value()
	require.NoError(t, err)
	require.Equal(t, "NO_TARGET", v.(*errdetails.ErrorInfo).GetReason())
}

func TestConnectErrorOfPlainError(t *testing.T) {
	t.Parallel()
	require.NoError(t, ConnectError(nil))
	require.Equal(t, connect.CodeUnknown, connect.CodeOf(ConnectError(errors.New("boom"))))
}

func TestNewRequiresEveryClient(t *testing.T) {
	t.Parallel()
	_, err := New(t.Context(), Clients{})
	require.EqualError(t, err, "ingest client is required")
}
