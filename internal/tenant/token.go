package tenant

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The internal token is a JWT the gateway (and system workers) sign with a
// secret shared by the planes. It lives for seconds, names the tenant and
// the subject, and is accepted only with this issuer and audience, so a
// user's own JWT can never be replayed as an internal one.
const (
	internalIssuer   = "alexus"
	internalAudience = "alexus-internal"
	tenantClaim      = "tenant_id"
	// MinSecretLen is the shortest internal secret accepted (256 bits).
	MinSecretLen = 32
	// DefaultTokenTTL is how long an internal token is valid.
	DefaultTokenTTL = 60 * time.Second
)

type internalClaims struct {
	Tenant string `json:"tenant_id"`
	jwt.RegisteredClaims
}

// Signer mints internal tokens.
type Signer struct {
	secret []byte
	ttl    time.Duration
	now    func() time.Time
}

// NewSigner returns a Signer for secret, which must be at least
// MinSecretLen bytes. ttl <= 0 means DefaultTokenTTL.
func NewSigner(secret []byte, ttl time.Duration) (*Signer, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("internal token secret is %d bytes, need at least %d", len(secret), MinSecretLen)
	}
	if ttl <= 0 {
		ttl = DefaultTokenTTL
	}
	return &Signer{secret: secret, ttl: ttl, now: time.Now}, nil
}

// Sign returns a token for id, valid from now for the signer's TTL.
func (s *Signer) Sign(id Identity) (string, error) {
	return s.SignAt(id, s.now())
}

// SignAt returns a token for id as if signed at now; tests use it to make
// expired and not-yet-valid tokens.
func (s *Signer) SignAt(id Identity, now time.Time) (string, error) {
	if _, err := Parse(string(id.Tenant)); err != nil {
		return "", err
	}
	claims := internalClaims{
		Tenant: string(id.Tenant),
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    internalIssuer,
			Audience:  jwt.ClaimStrings{internalAudience},
			Subject:   id.Subject,
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now.Add(-5 * time.Second)),
			ExpiresAt: jwt.NewNumericDate(now.Add(s.ttl)),
		},
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.secret)
	if err != nil {
		return "", fmt.Errorf("sign internal token: %w", err)
	}
	return tok, nil
}

// Verifier checks internal tokens.
type Verifier struct {
	secret []byte
	parser *jwt.Parser
}

// NewVerifier returns a Verifier for secret.
func NewVerifier(secret []byte) (*Verifier, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("internal token secret is %d bytes, need at least %d", len(secret), MinSecretLen)
	}
	return &Verifier{
		secret: secret,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithIssuer(internalIssuer),
			jwt.WithAudience(internalAudience),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(5*time.Second),
		),
	}, nil
}

// ErrBadToken wraps every reason a token is refused.
var ErrBadToken = errors.New("invalid internal token")

// Verify parses and checks token and returns the identity it carries.
func (v *Verifier) Verify(token string) (Identity, error) {
	var claims internalClaims
	_, err := v.parser.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return v.secret, nil })
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %w", ErrBadToken, err)
	}
	t, err := Parse(claims.Tenant)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %w", ErrBadToken, err)
	}
	return Identity{Tenant: t, Subject: claims.Subject}, nil
}
