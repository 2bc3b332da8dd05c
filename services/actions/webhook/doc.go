// Package webhook executes webhook actions as River jobs: it enqueues the
// job in the transaction that records the action, and its worker posts an
// HMAC-signed JSON body to the tenant's registered target, records each
// attempt's outcome and leaves retries and backoff to River.
//
// Receivers verify a delivery with Verify: the signature covers the
// timestamp and the exact body bytes, and the idempotency key header lets
// them drop a redelivery.
package webhook
