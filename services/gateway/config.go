package gateway

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/alexus-platform/alexus/services/gateway/auth"
	"github.com/alexus-platform/alexus/services/gateway/coalesce"
)

// maxMaxBodyBytes bounds MaxBodyBytes; a gateway buffering bigger bodies
// than this per request is misconfigured.
const maxMaxBodyBytes = 64 << 20

// Config configures the gateway. Environment names are the ones `alexus`
// reads; see each field.
type Config struct {
	// Auth says which JWTs are accepted (ALEXUS_JWT_* and
	// ALEXUS_DEV_JWT_SECRET; see auth.Config).
	Auth auth.Config
	// CORSAllowedOrigins lists the browser origins allowed to call the
	// Connect services, e.g. "https://dash.example.com" (env
	// ALEXUS_GATEWAY_CORS_ORIGINS, comma-separated). Empty disables CORS.
	CORSAllowedOrigins []string
	// MaxBodyBytes caps every request body and Connect message (env
	// ALEXUS_GATEWAY_MAX_BODY_BYTES, default 1 MiB).
	MaxBodyBytes int64
	// DevAutoCreateTenants creates a tenant named in a valid token on first
	// use. Set by `alexus dev` only; it has no environment variable so that
	// production cannot turn it on by accident.
	DevAutoCreateTenants bool
	// DevDefaultWebhookURL is the "default" webhook target given to tenants
	// created by DevAutoCreateTenants; `alexus dev` points it at its local receiver.
	DevDefaultWebhookURL string
	// TenantCacheTTL is how long a "tenant exists" answer is cached (env
	// ALEXUS_GATEWAY_TENANT_CACHE_TTL, default 1m; 0 asks Postgres every
	// call).
	TenantCacheTTL time.Duration
	// IntegrationTokenCacheTTL is how long a resolved integration token is
	// trusted without asking Postgres again; a revoked token stops working
	// within it (env ALEXUS_GATEWAY_TOKEN_CACHE_TTL, default 5s; 0 asks every
	// request).
	IntegrationTokenCacheTTL time.Duration
	// ReadHeaderTimeout bounds how long a client may take to send request
	// headers (env ALEXUS_GATEWAY_READ_HEADER_TIMEOUT, default 10s). There is
	// deliberately no overall read or write timeout: WatchIncidents streams
	// live as long as the caller watches.
	ReadHeaderTimeout time.Duration
	// ShutdownTimeout is how long Run waits for in-flight calls after its
	// context is done before closing connections (env
	// ALEXUS_GATEWAY_SHUTDOWN_TIMEOUT, default 10s).
	ShutdownTimeout time.Duration
	// IngestCoalesce sets how a tenant's concurrent webhook deliveries share
	// calls to the ingestion plane (see package coalesce): the most
	// deliveries per IngestBatch call (env ALEXUS_GATEWAY_INGEST_BATCH_ITEMS,
	// default 64, at most the plane's ALEXUS_INGEST_MAX_BATCH_ITEMS; 1 sends
	// every delivery alone), the calls per tenant in flight before
	// deliveries wait to go together (ALEXUS_GATEWAY_INGEST_CALLS_PER_TENANT,
	// default 2) and the timeout of one batch call
	// (ALEXUS_GATEWAY_INGEST_BATCH_TIMEOUT, default 30s).
	IngestCoalesce coalesce.Config
}

// DefaultConfig returns the defaults. Auth.JWKSURL (or Auth.DevHS256Secret),
// Auth.Issuer and Auth.Audience must still be set.
func DefaultConfig() Config {
	return Config{
		Auth:                     auth.DefaultConfig(),
		MaxBodyBytes:             1 << 20,
		TenantCacheTTL:           time.Minute,
		IntegrationTokenCacheTTL: 5 * time.Second,
		ReadHeaderTimeout:        10 * time.Second,
		ShutdownTimeout:          10 * time.Second,
		IngestCoalesce:           coalesce.DefaultConfig(),
	}
}

// Validate names the first bad field.
func (c Config) Validate() error {
	if err := c.Auth.Validate(); err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	for _, o := range c.CORSAllowedOrigins {
		if o == "*" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return fmt.Errorf("gateway: cors_allowed_origins: %q is not an origin like https://dash.example.com", o)
		}
	}
	if c.MaxBodyBytes <= 0 || c.MaxBodyBytes > maxMaxBodyBytes {
		return fmt.Errorf("gateway: max_body_bytes: %d must be between 1 and %d", c.MaxBodyBytes, maxMaxBodyBytes)
	}
	if c.DevDefaultWebhookURL != "" {
		u, err := url.Parse(c.DevDefaultWebhookURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("gateway: dev_default_webhook_url: %q is not an http(s) URL", c.DevDefaultWebhookURL)
		}
	}
	if c.IntegrationTokenCacheTTL < 0 || c.IntegrationTokenCacheTTL > time.Minute {
		return fmt.Errorf("gateway: integration_token_cache_ttl: %s must be between 0 and 1m, so revocation takes effect soon", c.IntegrationTokenCacheTTL)
	}
	if c.TenantCacheTTL < 0 {
		return fmt.Errorf("gateway: tenant_cache_ttl: %s must not be negative", c.TenantCacheTTL)
	}
	if c.ReadHeaderTimeout <= 0 {
		return errors.New("gateway: read_header_timeout: must be positive")
	}
	if c.ShutdownTimeout <= 0 {
		return errors.New("gateway: shutdown_timeout: must be positive")
	}
	if err := c.IngestCoalesce.Validate(); err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	return nil
}
