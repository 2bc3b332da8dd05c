package proxy

import (
	"context"
	"errors"
	"io"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

// unary forwards one request to a plane's unary method.
func unary[Req, Res any](
	ctx context.Context,
	req *connect.Request[Req],
	call func(context.Context, *Req, ...grpc.CallOption) (*Res, error),
) (*connect.Response[Res], error) {
	res, err := call(ctx, req.Msg)
	if err != nil {
		return nil, ConnectError(err)
	}
	return connect.NewResponse(res), nil
}

// clientStream forwards a client stream message by message and returns the
// plane's single answer. A caller who breaks off mid-stream cancels the
// upstream call, so the plane never takes a half-sent stream as complete.
func clientStream[Req, Res any](
	ctx context.Context,
	in *connect.ClientStream[Req],
	call func(context.Context, ...grpc.CallOption) (grpc.ClientStreamingClient[Req, Res], error),
) (*connect.Response[Res], error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	up, err := call(ctx)
	if err != nil {
		return nil, ConnectError(err)
	}
	for in.Receive() {
		if err := up.Send(in.Msg()); err != nil {
			if errors.Is(err, io.EOF) {
				// The plane ended the stream early; its status comes with
				// CloseAndRecv below.
				break
			}
			return nil, ConnectError(err)
		}
	}
	if err := in.Err(); err != nil {
		return nil, err
	}
	res, err := up.CloseAndRecv()
	if err != nil {
		return nil, ConnectError(err)
	}
	return connect.NewResponse(res), nil
}

// serverStream forwards a plane's server stream until either side ends:
// the plane finishing (or failing), the caller going away, or stop being
// done (the gateway shutting down), which ends the stream with UNAVAILABLE
// so the caller reconnects elsewhere.
func serverStream[Req, Res any](
	ctx context.Context,
	stop context.Context,
	req *connect.Request[Req],
	out *connect.ServerStream[Res],
	call func(context.Context, *Req, ...grpc.CallOption) (grpc.ServerStreamingClient[Res], error),
) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(stop, cancel)()
	up, err := call(ctx, req.Msg)
	if err != nil {
		return ConnectError(err)
	}
	for {
		msg, err := up.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if stop.Err() != nil {
				return connect.NewError(connect.CodeUnavailable, errors.New("gateway is shutting down, reconnect"))
			}
			return ConnectError(err)
		}
		if err := out.Send(msg); err != nil {
			return err
		}
	}
}

// ConnectError turns a plane's gRPC status error into a Connect error with
// the same code, message and details.
func ConnectError(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return connect.NewError(connect.CodeUnknown, err)
	}
	cerr := connect.NewError(connect.Code(st.Code()), errors.New(st.Message()))
	for _, d := range st.Proto().GetDetails() {
		if detail, derr := connect.NewErrorDetail(d); derr == nil {
			cerr.AddDetail(detail)
		}
	}
	return cerr
}
