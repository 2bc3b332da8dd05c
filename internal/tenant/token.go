package tenant

import (
	"errors"
	"fmt"
	"sync"
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

// maxCachedTokens bounds the signer's and the verifier's caches; when one
// is full it starts over, which costs one signature or verification per
// identity and keeps memory flat whatever callers send.
const maxCachedTokens = 10_000

// Signer mints internal tokens.
//
// Sign reuses the token it minted for the same identity during the first
// quarter of its TTL (15 s of the default 60 s), so a busy gateway signs
// once per tenant and subject every few seconds instead of on every call,
// and the planes' Verifier, which remembers the tokens it verified, checks
// each signature once. A reused token is still valid for at least three
// quarters of the TTL when it is sent.
type Signer struct {
	secret []byte
	ttl    time.Duration
	now    func() time.Time

	mu     sync.Mutex
	minted map[Identity]mintedToken
}

type mintedToken struct {
	token string
	at    time.Time
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
	return &Signer{secret: secret, ttl: ttl, now: time.Now, minted: make(map[Identity]mintedToken)}, nil
}

// Sign returns a token for id valid for at least three quarters of the
// signer's TTL from now: a fresh one, or one it minted for id less than a
// quarter of the TTL ago.
func (s *Signer) Sign(id Identity) (string, error) {
	now := s.now()
	s.mu.Lock()
	m, ok := s.minted[id]
	s.mu.Unlock()
	// A clock that stepped back makes the token's age negative; mint anew
	// then, so that iat is never in the future.
	if age := now.Sub(m.at); ok && age >= 0 && age < s.ttl/4 {
		return m.token, nil
	}
	tok, err := s.SignAt(id, now)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	if len(s.minted) >= maxCachedTokens {
		clear(s.minted)
	}
	s.minted[id] = mintedToken{token: tok, at: now}
	s.mu.Unlock()
	return tok, nil
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
//
// It remembers the tokens it accepted, until they expire, so a token the
// gateway reuses for many calls has its signature checked once. Only a
// byte-for-byte identical token is answered from memory: anything else,
// altered or forged, is parsed and checked in full.
type Verifier struct {
	secret []byte
	parser *jwt.Parser
	now    func() time.Time

	mu       sync.RWMutex
	verified map[string]verifiedToken
}

type verifiedToken struct {
	id      Identity
	expires time.Time
}

// NewVerifier returns a Verifier for secret.
func NewVerifier(secret []byte) (*Verifier, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("internal token secret is %d bytes, need at least %d", len(secret), MinSecretLen)
	}
	v := &Verifier{secret: secret, now: time.Now, verified: make(map[string]verifiedToken)}
	v.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(internalIssuer),
		jwt.WithAudience(internalAudience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(5*time.Second),
		// The same clock as the memory of verified tokens, so tests can
		// move both.
		jwt.WithTimeFunc(func() time.Time { return v.now() }),
	)
	return v, nil
}

// ErrBadToken wraps every reason a token is refused.
var ErrBadToken = errors.New("invalid internal token")

// Verify parses and checks token and returns the identity it carries.
func (v *Verifier) Verify(token string) (Identity, error) {
	now := v.now()
	v.mu.RLock()
	e, ok := v.verified[token]
	v.mu.RUnlock()
	// Until exp, without the parser's leeway: a remembered token is never
	// accepted for longer than a fresh check would accept it. Its nbf and
	// iat were in the past when it was checked and still are.
	if ok && now.Before(e.expires) {
		return e.id, nil
	}
	var claims internalClaims
	_, err := v.parser.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return v.secret, nil })
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %w", ErrBadToken, err)
	}
	t, err := Parse(claims.Tenant)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %w", ErrBadToken, err)
	}
	id := Identity{Tenant: t, Subject: claims.Subject}
	// WithExpirationRequired makes exp present on every accepted token.
	if exp := claims.ExpiresAt; exp != nil {
		v.mu.Lock()
		if len(v.verified) >= maxCachedTokens {
			clear(v.verified)
		}
		v.verified[token] = verifiedToken{id: id, expires: exp.Time}
		v.mu.Unlock()
	}
	return id, nil
}
