// Package webhook executes webhook actions as River jobs: its worker posts
// an HMAC-signed JSON body to the tenant's registered target. The run of a
// job (loading the action, recording each attempt's outcome, leaving
// retries and backoff to River) is package job's; a 2xx answer delivers
// the action and any other answer or failure is retried.
//
// Receivers verify a delivery with Verify: the signature covers the
// timestamp and the exact body bytes, and the idempotency key header lets
// them drop a redelivery.
package webhook
