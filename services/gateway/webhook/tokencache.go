package webhook

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"

	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/secretbox"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// integration is what an integration token stands for, with its signing
// secret unsealed (nil when the vendor does not sign).
type integration struct {
	tenant tenant.ID
	id     string
	source string
	secret []byte
}

// tokenCache remembers which integration a token resolved to, for a short
// TTL, so that a vendor posting many alerts does
// not cost a Postgres round trip per request. Only successful lookups are
// cached: an unknown token always asks Postgres, so a typo cannot poison the
// cache, and a revoked token stops working within one TTL. Entries are keyed
// by the token's SHA-256; the token itself is never kept.
type tokenCache struct {
	ttl  time.Duration
	now  func() time.Time
	keys *secretbox.Keyring

	mu      sync.Mutex
	entries map[[sha256.Size]byte]tokenEntry
}

type tokenEntry struct {
	in      integration
	expires time.Time
}

// maxCachedTokens bounds the cache; when full it starts over, which costs
// one lookup per token and keeps memory flat whatever callers send.
const maxCachedTokens = 10_000

// newTokenCache returns a cache; keys unseals signing secrets (nil when
// none is configured, and then an integration with a secret cannot be
// served).
func newTokenCache(ttl time.Duration, keys *secretbox.Keyring) *tokenCache {
	return &tokenCache{ttl: ttl, now: time.Now, keys: keys, entries: make(map[[sha256.Size]byte]tokenEntry)}
}

// resolve returns the integration of token, from the cache when a fresh
// answer is there and from Postgres otherwise.
func (c *tokenCache) resolve(ctx context.Context, db *store.DB, token string) (integration, error) {
	key := keyOf(token)
	now := c.now()
	if c.ttl > 0 {
		c.mu.Lock()
		e, ok := c.entries[key]
		c.mu.Unlock()
		if ok && now.Before(e.expires) {
			return e.in, nil
		}
	}
	r, err := provision.ResolveIntegrationToken(ctx, db, token)
	if err != nil {
		return integration{}, err
	}
	secret, err := provision.OpenSigningSecret(c.keys, r)
	if err != nil {
		return integration{}, err
	}
	in := integration{tenant: r.Tenant, id: r.IntegrationID, source: r.Source, secret: secret}
	if c.ttl > 0 {
		c.mu.Lock()
		if len(c.entries) >= maxCachedTokens {
			clear(c.entries)
		}
		c.entries[key] = tokenEntry{in: in, expires: now.Add(c.ttl)}
		c.mu.Unlock()
	}
	return in, nil
}

func keyOf(token string) [sha256.Size]byte { return sha256.Sum256([]byte(token)) }
