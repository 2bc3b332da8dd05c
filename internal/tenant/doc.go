// Package tenant is the one place Alexus decides who a call is for.
//
// It holds the tenant ID type, the Identity (tenant plus subject) that the
// gateway establishes from a verified JWT, the short-lived internal token
// that carries that identity between planes, and the gRPC interceptors that
// verify the token on the way into a plane and re-sign it on the way out.
//
// Code below the interceptors reads the tenant only from the context
// (FromContext / Require). Nothing downstream trusts a tenant ID typed into a
// body, header or query string.
package tenant
