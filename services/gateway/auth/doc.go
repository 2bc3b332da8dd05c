// Package auth verifies who is calling the gateway.
//
// A Verifier checks tenant JWTs: RS256/ES256 (or any other listed asymmetric
// algorithm) against keys from a JWKS URL that is refreshed in the
// background, and HS256 against a shared secret only when one is configured
// for development. It enforces issuer, audience, expiry, not-before and an
// algorithm allow-list, and takes the tenant from a configurable claim.
//
// Tenants answers whether a verified tenant has been provisioned (caching
// positive answers briefly), or provisions it on first use in `alexus dev`.
// An Authenticator combines both and provides the Connect interceptor that
// puts the verified identity into every handler's context.
package auth
