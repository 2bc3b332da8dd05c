// Package authtest stands in for an identity provider in tests: an
// httptest JWKS endpoint publishing an RSA and an EC key, and helpers that
// mint tokens signed by them.
package authtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"

	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/gateway/auth"
)

// Key ids published by the JWKS endpoint.
const (
	RSAKeyID = "rsa-1"
	ECKeyID  = "ec-1"
)

// Issuer is a fake identity provider.
type Issuer struct {
	// JWKSURL serves the public keys.
	JWKSURL string
	// Issuer and Audience are the values Config expects and Claims sets.
	Issuer, Audience string
	// RSA and EC are the signing keys behind RSAKeyID and ECKeyID.
	RSA *rsa.PrivateKey
	EC  *ecdsa.PrivateKey
}

// NewIssuer starts a JWKS server for t.
func NewIssuer(t testing.TB) *Issuer {
	t.Helper()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("generate RSA key: %v", err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generate EC key: %v", err)
	}
	ctx := context.Background()
	set := jwkset.NewMemoryStorage()
	for _, k := range []struct {
		pub any
		kid string
		alg jwkset.ALG
	}{
		{&rsaKey.PublicKey, RSAKeyID, jwkset.AlgRS256},
		{&ecKey.PublicKey, ECKeyID, jwkset.AlgES256},
	} {
		jwk, err := jwkset.NewJWKFromKey(k.pub, jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: k.kid, ALG: k.alg, USE: jwkset.UseSig}})
		if err != nil {
			t.Fatalf("build JWK %s: %v", k.kid, err)
		}
		if err := set.KeyWrite(ctx, jwk); err != nil {
			t.Fatalf("store JWK %s: %v", k.kid, err)
		}
	}
	body, err := set.JSONPublic(ctx)
	if err != nil {
		t.Fatalf("marshal JWKS: %v", err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return &Issuer{JWKSURL: srv.URL, Issuer: "https://idp.test", Audience: "alexus-api", RSA: rsaKey, EC: ecKey}
}

// FailingJWKSURL returns the URL of a JWKS endpoint that always answers 500.
func FailingJWKSURL(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "identity provider down", http.StatusInternalServerError)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// Config returns a verifier configuration that trusts this issuer.
func (i *Issuer) Config() auth.Config {
	cfg := auth.DefaultConfig()
	cfg.JWKSURL = i.JWKSURL
	cfg.Issuer = i.Issuer
	cfg.Audience = i.Audience
	return cfg
}

// Claims returns valid claims for tenant t and subject "user-1"; tests
// change them to make bad tokens.
func (i *Issuer) Claims(t tenant.ID) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss":       i.Issuer,
		"aud":       i.Audience,
		"sub":       "user-1",
		"tenant_id": string(t),
		"iat":       now.Unix(),
		"nbf":       now.Unix(),
		"exp":       now.Add(time.Hour).Unix(),
	}
}

// SignRS256 signs claims with the RSA key.
func (i *Issuer) SignRS256(t testing.TB, claims jwt.Claims) string {
	return Sign(t, jwt.SigningMethodRS256, RSAKeyID, claims, i.RSA)
}

// SignES256 signs claims with the EC key.
func (i *Issuer) SignES256(t testing.TB, claims jwt.Claims) string {
	return Sign(t, jwt.SigningMethodES256, ECKeyID, claims, i.EC)
}

// Token returns a valid RS256 token for tenant t.
func (i *Issuer) Token(t testing.TB, tn tenant.ID) string {
	return i.SignRS256(t, i.Claims(tn))
}

// Sign signs claims with method and key, naming kid in the header when it is
// not empty.
func Sign(t testing.TB, method jwt.SigningMethod, kid string, claims jwt.Claims, key any) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign %s token: %v", method.Alg(), err)
	}
	return s
}
