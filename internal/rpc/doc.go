// Package rpc builds Alexus's internal gRPC servers and clients: the one
// ordered interceptor chain every plane uses, health and reflection, and
// clients that propagate the caller's identity on every downstream call.
package rpc
