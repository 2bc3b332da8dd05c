// Package proxy forwards the gateway's public Connect services to the
// planes' gRPC clients.
//
// Each public method is one line over a generic forwarder (unary, client
// stream, server stream) that calls the plane with the caller's context, in
// which the auth interceptor has put the verified identity; the plane client
// signs that identity into the outgoing call. Plane errors come back with
// the same code, message and details.
package proxy
