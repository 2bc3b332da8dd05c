package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/alexus-platform/alexus/internal/tenant"
)

// DevToken mints an HS256 token for tenant t that a Verifier configured with
// the same DevHS256Secret, issuer and audience (and the default tenant claim,
// "tenant_id") accepts. `alexus dev token` prints one.
func DevToken(secret []byte, t tenant.ID, subject, issuer, audience string, ttl time.Duration) (string, error) {
	if len(secret) < MinDevSecretLen {
		return "", fmt.Errorf("dev token secret is %d bytes, need at least %d", len(secret), MinDevSecretLen)
	}
	if _, err := tenant.Parse(string(t)); err != nil {
		return "", fmt.Errorf("dev token: %w", err)
	}
	if ttl <= 0 {
		return "", errors.New("dev token ttl must be positive")
	}
	now := time.Now()
	claims := jwt.MapClaims{
		"tenant_id": string(t),
		"sub":       subject,
		"iss":       issuer,
		"aud":       audience,
		"iat":       now.Unix(),
		"nbf":       now.Unix(),
		"exp":       now.Add(ttl).Unix(),
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("sign dev token: %w", err)
	}
	return tok, nil
}
