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
// The gateway holds no state of its own beyond a short cache of which
// tenants exist.
package gateway
