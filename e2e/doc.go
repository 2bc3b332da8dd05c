// Package e2e holds Alexus's end-to-end tests: every plane runs on real
// ports over the real Postgres and Redis, wired exactly as `alexus dev` wires
// them, and the tests drive them through the gateway with real HTTP, Connect
// and gRPC clients.
package e2e
