package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/alexus-platform/alexus/internal/tenant"
)

// ErrUnauthenticated wraps every reason a caller is not who it claims to be:
// no token, a malformed one, or one that fails verification.
var ErrUnauthenticated = errors.New("unauthenticated")

// Key-set fetching limits. A token with an unknown key id may trigger a
// refresh, but at most every unknownKIDEvery, and a request waits for the
// refresh limiter at most unknownKIDWait, so a flood of forged key ids can
// neither hammer the identity provider nor stall requests for long.
const (
	jwksHTTPTimeout = 10 * time.Second
	unknownKIDEvery = 30 * time.Second
	unknownKIDWait  = 3 * time.Second
)

// Verifier checks tenant JWTs. It is safe for concurrent use.
type Verifier struct {
	parser      *jwt.Parser
	tenantClaim string
	devSecret   []byte
	jwks        keyfunc.Keyfunc
}

// NewVerifier builds a Verifier for cfg. When cfg names a JWKS URL it fetches
// the key set once (a failure is logged, not returned, so the gateway can
// start while the identity provider is down; tokens fail until the keys
// arrive) and refreshes it in the background until ctx is done.
func NewVerifier(ctx context.Context, cfg Config, log *zap.Logger) (*Verifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = zap.NewNop()
	}
	v := &Verifier{
		parser: jwt.NewParser(
			jwt.WithValidMethods(cfg.allowedAlgs()),
			jwt.WithIssuer(cfg.Issuer),
			jwt.WithAudience(cfg.Audience),
			jwt.WithExpirationRequired(),
			jwt.WithLeeway(cfg.Leeway),
		),
		tenantClaim: cfg.TenantClaim,
	}
	if len(cfg.DevHS256Secret) > 0 {
		v.devSecret = cfg.DevHS256Secret
	}
	if cfg.JWKSURL != "" {
		kf, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{cfg.JWKSURL}, keyfunc.Override{
			HTTPTimeout:       jwksHTTPTimeout,
			RefreshInterval:   cfg.JWKSRefreshInterval,
			RefreshUnknownKID: rate.NewLimiter(rate.Every(unknownKIDEvery), 1),
			RateLimitWaitMax:  unknownKIDWait,
			RefreshErrorHandlerFunc: func(u string) func(context.Context, error) {
				return func(_ context.Context, err error) {
					log.Warn("refreshing JWKS failed; tokens signed by keys not yet fetched will be refused",
						zap.String("jwks_url", u), zap.Error(err))
				}
			},
		})
		if err != nil {
			return nil, fmt.Errorf("set up JWKS client for %s: %w", cfg.JWKSURL, err)
		}
		v.jwks = kf
	}
	return v, nil
}

// Verify checks token and returns the identity it carries. Every refusal
// wraps ErrUnauthenticated; the token itself never appears in the error.
func (v *Verifier) Verify(ctx context.Context, token string) (tenant.Identity, error) {
	claims := jwt.MapClaims{}
	if _, err := v.parser.ParseWithClaims(token, claims, v.keyFor(ctx)); err != nil {
		return tenant.Identity{}, fmt.Errorf("%w: %w", ErrUnauthenticated, err)
	}
	raw, ok := claims[v.tenantClaim]
	if !ok {
		return tenant.Identity{}, fmt.Errorf("%w: token has no %q claim", ErrUnauthenticated, v.tenantClaim)
	}
	s, ok := raw.(string)
	if !ok {
		return tenant.Identity{}, fmt.Errorf("%w: claim %q is not a string", ErrUnauthenticated, v.tenantClaim)
	}
	t, err := tenant.Parse(s)
	if err != nil {
		return tenant.Identity{}, fmt.Errorf("%w: claim %q: %w", ErrUnauthenticated, v.tenantClaim, err)
	}
	sub, err := claims.GetSubject()
	if err != nil {
		return tenant.Identity{}, fmt.Errorf("%w: %w", ErrUnauthenticated, err)
	}
	return tenant.Identity{Tenant: t, Subject: sub}, nil
}

// keyFor picks the verification key by the token's algorithm family. The
// parser has already refused algorithms outside the allow-list, and the
// HMAC secret is returned only for HMAC tokens, so a token cannot make the
// gateway verify an HMAC signature with a public key (algorithm confusion).
func (v *Verifier) keyFor(ctx context.Context) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		if _, ok := t.Method.(*jwt.SigningMethodHMAC); ok {
			if v.devSecret == nil {
				return nil, errors.New("HMAC tokens are not accepted")
			}
			return v.devSecret, nil
		}
		if v.jwks == nil {
			return nil, errors.New("no JWKS configured for asymmetric tokens")
		}
		return v.jwks.KeyfuncCtx(ctx)(t)
	}
}
