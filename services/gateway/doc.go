// Package gateway is Alexus's public edge: the only process browsers and
// vendors talk to.
//
// It serves the four public services (ingest, orchestrator, reasoning,
// actions) over Connect, gRPC and gRPC-Web on one port, and the vendor
// webhook endpoint POST /v1/webhooks/{source}. Every call is authenticated
// here (a tenant JWT, or an integration token for webhooks), the tenant is
// checked against Postgres, and the call is forwarded to the owning plane
// over gRPC with the verified identity in the context, from which the plane
// client re-signs a short-lived internal token. Nothing a caller types into a
// header, body or query string can choose the tenant.
//
// ARCHITECTURE.md lists the gateway as owning no state, and it owns no
// tables, but it is an exception to "no database": it holds an
// application-role Postgres pool (Deps.DB) and, through internal/provision
// only, reads
//
//   - whether a verified tenant exists (remembered for TenantCacheTTL), and
//   - integration-token hashes, to resolve a vendor's token to its tenant and
//     source (by hash, through a SECURITY DEFINER function).
//
// It writes only when Config.DevAutoCreateTenants is on, which `alexus dev`
// alone sets: a tenant named in a valid token is then created on first use,
// with a default webhook target. In production it never writes.
package gateway
