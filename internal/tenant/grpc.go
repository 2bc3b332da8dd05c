package tenant

import (
	"context"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/auth"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// MetadataKey is the gRPC metadata key that carries the internal token.
const MetadataKey = "x-alexus-identity"

// AuthFunc returns a go-grpc-middleware auth function that verifies the
// internal token in the incoming metadata and puts its identity into the
// context. A missing, expired or foreign-signed token is UNAUTHENTICATED.
func AuthFunc(v *Verifier) auth.AuthFunc {
	return func(ctx context.Context) (context.Context, error) {
		vals := metadata.ValueFromIncomingContext(ctx, MetadataKey)
		if len(vals) != 1 || vals[0] == "" {
			return nil, status.Error(codes.Unauthenticated, "missing internal identity token")
		}
		id, err := v.Verify(vals[0])
		if err != nil {
			return nil, status.Error(codes.Unauthenticated, err.Error())
		}
		return WithIdentity(ctx, id), nil
	}
}

// UnaryClientInterceptor signs the context's identity into every outgoing
// unary call. A call without an identity fails before it leaves the process.
func UnaryClientInterceptor(s *Signer) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		ctx, err := outgoing(ctx, s)
		if err != nil {
			return err
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}

// StreamClientInterceptor is UnaryClientInterceptor for streaming calls.
func StreamClientInterceptor(s *Signer) grpc.StreamClientInterceptor {
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		ctx, err := outgoing(ctx, s)
		if err != nil {
			return nil, err
		}
		return streamer(ctx, desc, cc, method, opts...)
	}
}

func outgoing(ctx context.Context, s *Signer) (context.Context, error) {
	id, ok := FromContext(ctx)
	if !ok {
		return nil, status.Error(codes.Unauthenticated, "outgoing call without a tenant identity in context")
	}
	tok, err := s.Sign(id)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	// Set, not append: whatever identity arrived with the incoming call is
	// replaced by one we signed from the verified context.
	md, _ := metadata.FromOutgoingContext(ctx)
	md = md.Copy()
	md.Set(MetadataKey, tok)
	return metadata.NewOutgoingContext(ctx, md), nil
}
