package rpc

import (
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/alexus-platform/alexus/internal/tenant"
)

// flowControlWindow is the HTTP/2 stream and connection window of the
// planes' gRPC clients and servers.
const flowControlWindow = 1 << 20

// Dial returns a client connection to a plane at target that signs the
// context's identity into every call. Calls made without an identity in the
// context fail with UNAUTHENTICATED before leaving the process.
//
// The mesh runs on a private network in this release, so the transport is
// plaintext; the identity token, not the transport, carries the tenant.
func Dial(target string, signer *tenant.Signer, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	opts = append([]grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		// Static flow-control windows turn off grpc-go's BDP estimation,
		// whose pings and window updates cost a plane a few frames (and
		// system calls) per round trip under load. The mesh is a private,
		// low-latency network where 1 MiB is ample for every call.
		grpc.WithInitialWindowSize(flowControlWindow),
		grpc.WithInitialConnWindowSize(flowControlWindow),
		grpc.WithChainUnaryInterceptor(tenant.UnaryClientInterceptor(signer)),
		grpc.WithChainStreamInterceptor(tenant.StreamClientInterceptor(signer)),
	}, opts...)
	cc, err := grpc.NewClient(target, opts...)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", target, err)
	}
	return cc, nil
}
