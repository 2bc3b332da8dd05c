package rpc

import (
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/alexus-platform/alexus/internal/tenant"
)

// Dial returns a client connection to a plane at target that signs the
// context's identity into every call. Calls made without an identity in the
// context fail with UNAUTHENTICATED before leaving the process.
//
// The mesh runs on a private network in this release, so the transport is
// plaintext; the identity token, not the transport, carries the tenant.
func Dial(target string, signer *tenant.Signer, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	opts = append([]grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithChainUnaryInterceptor(tenant.UnaryClientInterceptor(signer)),
		grpc.WithChainStreamInterceptor(tenant.StreamClientInterceptor(signer)),
	}, opts...)
	cc, err := grpc.NewClient(target, opts...)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", target, err)
	}
	return cc, nil
}
