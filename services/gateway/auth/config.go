package auth

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Development defaults for the issuer and audience that `alexus dev` and
// `alexus dev token` agree on.
const (
	DevIssuer   = "alexus-dev"
	DevAudience = "alexus"
)

// MinDevSecretLen is the shortest HS256 secret accepted (256 bits), the
// key size RFC 7518 requires for HS256.
const MinDevSecretLen = 32

// asymmetricAlgs are the algorithms that may appear in Algorithms. HS256 is
// deliberately absent: a shared secret is enabled only through
// DevHS256Secret, and "none" is never accepted.
var asymmetricAlgs = []string{
	"RS256", "RS384", "RS512",
	"PS256", "PS384", "PS512",
	"ES256", "ES384", "ES512",
	"EdDSA",
}

// Config says which JWTs the gateway accepts.
type Config struct {
	// JWKSURL is where the identity provider publishes its signing keys
	// (env ALEXUS_JWT_JWKS_URL). Required unless DevHS256Secret is set.
	JWKSURL string
	// JWKSRefreshInterval is how often the key set is fetched again in the
	// background (env ALEXUS_JWT_JWKS_REFRESH, default 1h). A token naming an
	// unknown key id also triggers a refresh, at most every 30s.
	JWKSRefreshInterval time.Duration
	// Issuer is the required "iss" claim (env ALEXUS_JWT_ISSUER).
	Issuer string
	// Audience is the required "aud" claim (env ALEXUS_JWT_AUDIENCE).
	Audience string
	// Algorithms is the allow-list of asymmetric signing algorithms for JWKS
	// keys (env ALEXUS_JWT_ALGORITHMS, comma-separated, default RS256,ES256).
	// "none" and HMAC algorithms are refused here.
	Algorithms []string
	// DevHS256Secret, when set, makes HS256 tokens signed with it acceptable
	// (env ALEXUS_DEV_JWT_SECRET). For `alexus dev` only; at least 32 bytes.
	DevHS256Secret []byte
	// TenantClaim names the claim that carries the tenant ID (env
	// ALEXUS_JWT_TENANT_CLAIM, default "tenant_id").
	TenantClaim string
	// Leeway is the clock skew allowed on exp and nbf (env ALEXUS_JWT_LEEWAY,
	// default 30s).
	Leeway time.Duration
}

// DefaultConfig returns the defaults; JWKSURL, Issuer and Audience have
// none and must be set.
func DefaultConfig() Config {
	return Config{
		JWKSRefreshInterval: time.Hour,
		Algorithms:          []string{"RS256", "ES256"},
		TenantClaim:         "tenant_id",
		Leeway:              30 * time.Second,
	}
}

// Validate names the first bad field.
func (c Config) Validate() error {
	if c.JWKSURL == "" && len(c.DevHS256Secret) == 0 {
		return errors.New("auth.jwks_url: required unless auth.dev_hs256_secret is set")
	}
	if c.JWKSURL != "" {
		u, err := url.Parse(c.JWKSURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("auth.jwks_url: %q is not an http(s) URL", c.JWKSURL)
		}
		if c.JWKSRefreshInterval <= 0 {
			return fmt.Errorf("auth.jwks_refresh_interval: %s must be positive", c.JWKSRefreshInterval)
		}
		if len(c.Algorithms) == 0 {
			return errors.New("auth.algorithms: at least one algorithm is needed with a JWKS URL")
		}
	}
	for _, a := range c.Algorithms {
		if !slices.Contains(asymmetricAlgs, a) {
			return fmt.Errorf("auth.algorithms: %q is not allowed (choose from %s; HS256 only via the dev secret)", a, strings.Join(asymmetricAlgs, ", "))
		}
	}
	if len(c.DevHS256Secret) > 0 && len(c.DevHS256Secret) < MinDevSecretLen {
		return fmt.Errorf("auth.dev_hs256_secret: %d bytes, need at least %d", len(c.DevHS256Secret), MinDevSecretLen)
	}
	if c.Issuer == "" {
		return errors.New("auth.issuer: required")
	}
	if c.Audience == "" {
		return errors.New("auth.audience: required")
	}
	if c.TenantClaim == "" {
		return errors.New("auth.tenant_claim: required")
	}
	if c.Leeway < 0 || c.Leeway > 5*time.Minute {
		return fmt.Errorf("auth.leeway: %s must be between 0 and 5m", c.Leeway)
	}
	return nil
}

// allowedAlgs is the full allow-list the parser enforces.
func (c Config) allowedAlgs() []string {
	algs := slices.Clone(c.Algorithms)
	if c.JWKSURL == "" {
		// Without a key set no asymmetric token can verify; listing the
		// algorithms anyway would only produce worse error messages.
		algs = nil
	}
	if len(c.DevHS256Secret) > 0 {
		algs = append(algs, "HS256")
	}
	return algs
}
