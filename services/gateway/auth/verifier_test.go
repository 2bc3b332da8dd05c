package auth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/gateway/auth"
	"github.com/alexus-platform/alexus/services/gateway/auth/authtest"
)

var devSecret = []byte("0123456789abcdef0123456789abcdef")

type verifierBundle struct {
	ctx      context.Context
	issuer   *authtest.Issuer
	verifier *auth.Verifier
}

func setupVerifier(t *testing.T, mutate func(*auth.Config)) *verifierBundle {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	iss := authtest.NewIssuer(t)
	cfg := iss.Config()
	if mutate != nil {
		mutate(&cfg)
	}
	v, err := auth.NewVerifier(ctx, cfg, nil)
	require.NoError(t, err)
	return &verifierBundle{ctx: ctx, issuer: iss, verifier: v}
}

func TestVerifierAcceptsRS256AndES256(t *testing.T) {
	t.Parallel()
	b := setupVerifier(t, nil)

	for name, tok := range map[string]string{
		"RS256": b.issuer.SignRS256(t, b.issuer.Claims("acme")),
		"ES256": b.issuer.SignES256(t, b.issuer.Claims("acme")),
	} {
		id, err := b.verifier.Verify(b.ctx, tok)
		require.NoError(t, err, name)
		require.Equal(t, tenant.Identity{Tenant: "acme", Subject: "user-1"}, id, name)
	}
}

func TestVerifierRefusesBadTokens(t *testing.T) {
	t.Parallel()
	b := setupVerifier(t, nil)
	iss := b.issuer

	otherRSA, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	pubDER, err := x509.MarshalPKIXPublicKey(&iss.RSA.PublicKey)
	require.NoError(t, err)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})

	with := func(k string, v any) jwt.MapClaims {
		c := iss.Claims("acme")
		c[k] = v
		return c
	}
	without := func(k string) jwt.MapClaims {
		c := iss.Claims("acme")
		delete(c, k)
		return c
	}
	cases := map[string]string{
		"wrong issuer":          iss.SignRS256(t, with("iss", "https://evil.test")),
		"wrong audience":        iss.SignRS256(t, with("aud", "someone-else")),
		"expired":               iss.SignRS256(t, with("exp", time.Now().Add(-time.Hour).Unix())),
		"no expiry":             iss.SignRS256(t, without("exp")),
		"not yet valid":         iss.SignRS256(t, with("nbf", time.Now().Add(time.Hour).Unix())),
		"alg none":              authtest.Sign(t, jwt.SigningMethodNone, "", iss.Claims("acme"), jwt.UnsafeAllowNoneSignatureType),
		"HS256 not configured":  authtest.Sign(t, jwt.SigningMethodHS256, "", iss.Claims("acme"), devSecret),
		"HS256 with public key": authtest.Sign(t, jwt.SigningMethodHS256, authtest.RSAKeyID, iss.Claims("acme"), pubPEM),
		"alg not in allow-list": authtest.Sign(t, jwt.SigningMethodRS384, authtest.RSAKeyID, iss.Claims("acme"), iss.RSA),
		"unknown key, known id": authtest.Sign(t, jwt.SigningMethodRS256, authtest.RSAKeyID, iss.Claims("acme"), otherRSA),
		"unknown key id":        authtest.Sign(t, jwt.SigningMethodRS256, "rsa-unknown", iss.Claims("acme"), otherRSA),
		"unknown key, no id":    authtest.Sign(t, jwt.SigningMethodRS256, "", iss.Claims("acme"), otherRSA),
		"missing tenant claim":  iss.SignRS256(t, without("tenant_id")),
		"tenant not a string":   iss.SignRS256(t, with("tenant_id", 42)),
		"invalid tenant id":     iss.SignRS256(t, with("tenant_id", "Acme Corp!")),
		"garbage":               "not.a.jwt",
		"empty":                 "",
	}
	for name, tok := range cases {
		_, err := b.verifier.Verify(b.ctx, tok)
		require.ErrorIs(t, err, auth.ErrUnauthenticated, name)
		require.Equal(t, "unauthenticated", auth.ConnectError(err).Code().String(), name)
	}
}

func TestVerifierAcceptsKeyWithoutKeyID(t *testing.T) {
	t.Parallel()
	b := setupVerifier(t, nil)

	// Some identity providers omit "kid"; every published key is tried.
	tok := authtest.Sign(t, jwt.SigningMethodES256, "", b.issuer.Claims("acme"), b.issuer.EC)
	id, err := b.verifier.Verify(b.ctx, tok)
	require.NoError(t, err)
	require.Equal(t, tenant.ID("acme"), id.Tenant)
}

func TestVerifierLeewayAllowsSmallSkew(t *testing.T) {
	t.Parallel()
	b := setupVerifier(t, nil)

	c := b.issuer.Claims("acme")
	c["exp"] = time.Now().Add(-10 * time.Second).Unix()
	_, err := b.verifier.Verify(b.ctx, b.issuer.SignRS256(t, c))
	require.NoError(t, err, "a token expired 10s ago is inside the 30s leeway")
}

func TestVerifierHS256WhenConfigured(t *testing.T) {
	t.Parallel()
	b := setupVerifier(t, func(c *auth.Config) {
		c.DevHS256Secret = devSecret
		c.Issuer, c.Audience = auth.DevIssuer, auth.DevAudience
	})

	tok, err := auth.DevToken(devSecret, "dev-tenant", "alice", auth.DevIssuer, auth.DevAudience, time.Minute)
	require.NoError(t, err)
	id, err := b.verifier.Verify(b.ctx, tok)
	require.NoError(t, err)
	require.Equal(t, tenant.Identity{Tenant: "dev-tenant", Subject: "alice"}, id)

	forged, err := auth.DevToken([]byte("another-secret-of-32-bytes-or-so!"), "dev-tenant", "alice", auth.DevIssuer, auth.DevAudience, time.Minute)
	require.NoError(t, err)
	_, err = b.verifier.Verify(b.ctx, forged)
	require.ErrorIs(t, err, auth.ErrUnauthenticated)
}

func TestVerifierDevOnlyWithoutJWKS(t *testing.T) {
	t.Parallel()
	cfg := auth.DefaultConfig()
	cfg.DevHS256Secret = devSecret
	cfg.Issuer, cfg.Audience = auth.DevIssuer, auth.DevAudience
	v, err := auth.NewVerifier(context.Background(), cfg, nil)
	require.NoError(t, err)

	tok, err := auth.DevToken(devSecret, "dev", "bob", auth.DevIssuer, auth.DevAudience, time.Minute)
	require.NoError(t, err)
	_, err = v.Verify(context.Background(), tok)
	require.NoError(t, err)

	iss := authtest.NewIssuer(t)
	c := iss.Claims("dev")
	c["iss"], c["aud"] = auth.DevIssuer, auth.DevAudience
	_, err = v.Verify(context.Background(), iss.SignRS256(t, c))
	require.ErrorIs(t, err, auth.ErrUnauthenticated, "RS256 is refused when no JWKS is configured")
}

func TestVerifierCustomTenantClaim(t *testing.T) {
	t.Parallel()
	b := setupVerifier(t, func(c *auth.Config) { c.TenantClaim = "https://alexus.dev/tenant" })

	c := b.issuer.Claims("ignored")
	c["https://alexus.dev/tenant"] = "globex"
	id, err := b.verifier.Verify(b.ctx, b.issuer.SignRS256(t, c))
	require.NoError(t, err)
	require.Equal(t, tenant.ID("globex"), id.Tenant, "the tenant comes from the configured claim only")
}

func TestVerifierFailingJWKSRefusesWithoutPanic(t *testing.T) {
	t.Parallel()
	iss := authtest.NewIssuer(t)
	cfg := iss.Config()
	cfg.JWKSURL = authtest.FailingJWKSURL(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	v, err := auth.NewVerifier(ctx, cfg, nil)
	require.NoError(t, err, "the gateway starts while the identity provider is down")

	for _, tok := range []string{
		iss.SignRS256(t, iss.Claims("acme")),
		authtest.Sign(t, jwt.SigningMethodES256, "", iss.Claims("acme"), iss.EC),
	} {
		_, err = v.Verify(ctx, tok)
		require.ErrorIs(t, err, auth.ErrUnauthenticated)
	}
}

func TestDevTokenRefusesBadInput(t *testing.T) {
	t.Parallel()
	_, err := auth.DevToken([]byte("short"), "acme", "a", auth.DevIssuer, auth.DevAudience, time.Minute)
	require.ErrorContains(t, err, "need at least 32")
	_, err = auth.DevToken(devSecret, "Not Valid", "a", auth.DevIssuer, auth.DevAudience, time.Minute)
	require.ErrorIs(t, err, tenant.ErrInvalidID)
	_, err = auth.DevToken(devSecret, "acme", "a", auth.DevIssuer, auth.DevAudience, 0)
	require.ErrorContains(t, err, "ttl")
}

func TestConfigValidateNamesBadField(t *testing.T) {
	t.Parallel()
	good := func() auth.Config {
		c := auth.DefaultConfig()
		c.JWKSURL, c.Issuer, c.Audience = "https://idp.test/jwks", "iss", "aud"
		return c
	}
	require.NoError(t, good().Validate())

	cases := map[string]func(*auth.Config){
		"auth.jwks_url":         func(c *auth.Config) { c.JWKSURL = "" },
		"auth.jwks_url: \"ftp":  func(c *auth.Config) { c.JWKSURL = "ftp://x/jwks" },
		"auth.algorithms: \"HS": func(c *auth.Config) { c.Algorithms = []string{"HS256"} },
		"auth.algorithms: \"no": func(c *auth.Config) { c.Algorithms = []string{"none"} },
		"auth.algorithms: at":   func(c *auth.Config) { c.Algorithms = nil },
		"auth.dev_hs256_secret": func(c *auth.Config) { c.DevHS256Secret = []byte("short") },
		"auth.issuer":           func(c *auth.Config) { c.Issuer = "" },
		"auth.audience":         func(c *auth.Config) { c.Audience = "" },
		"auth.tenant_claim":     func(c *auth.Config) { c.TenantClaim = "" },
		"auth.leeway":           func(c *auth.Config) { c.Leeway = -time.Second },
		"auth.jwks_refresh":     func(c *auth.Config) { c.JWKSRefreshInterval = 0 },
	}
	for want, mutate := range cases {
		c := good()
		mutate(&c)
		require.ErrorContains(t, c.Validate(), want)
	}
}
