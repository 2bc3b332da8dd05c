// Package webhook receives vendor alerts at POST /v1/webhooks/{source}.
//
// A vendor authenticates with a bearer token that is either a tenant JWT or
// an integration token (starting with provision.TokenPrefix, "alx_"), which
// is bound to one tenant and one source. The raw JSON payload, with a few
// selected headers, is forwarded to the ingest plane with the tenant's
// identity; the answer is 202 Accepted only after ingest confirmed that
// every new signal was stored. Errors are JSON bodies
// {"error": ..., "code": ...} with the HTTP status a vendor's retry logic
// expects (429 and 503 carry Retry-After).
//
// Integrators send many payloads of one source at once to
// POST /v1/webhooks/{source}/batch as {"items": [...]}; the gateway streams
// them to ingest's IngestBatch and answers 200 with a verdict per item
// (accepted, duplicate, resolved, or rejected with its reason).
package webhook
