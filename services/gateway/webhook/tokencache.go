package webhook

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"

	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// tokenCache remembers which tenant and source an integration token
// resolved to, for a short TTL, so that a vendor posting many alerts does
// not cost a Postgres round trip per request. Only successful lookups are
// cached: an unknown token always asks Postgres, so a typo cannot poison the
// cache, and a revoked token stops working within one TTL. Entries are keyed
// by the token's SHA-256; the token itself is never kept.
type tokenCache struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[[sha256.Size]byte]tokenEntry
}

type tokenEntry struct {
	tenant  tenant.ID
	source  string
	expires time.Time
}

// maxCachedTokens bounds the cache; when full it starts over, which costs
// one lookup per token and keeps memory flat whatever callers send.
const maxCachedTokens = 10_000

func newTokenCache(ttl time.Duration) *tokenCache {
	return &tokenCache{ttl: ttl, now: time.Now, entries: make(map[[sha256.Size]byte]tokenEntry)}
}

// resolve returns the tenant and source of token, from the cache when a
// fresh answer is there and from Postgres otherwise.
func (c *tokenCache) resolve(ctx context.Context, db *store.DB, token string) (tenant.ID, string, error) {
	if c.ttl <= 0 {
		return provision.ResolveIntegrationToken(ctx, db, token)
	}
	key := keyOf(token)
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.tenant, e.source, nil
	}
	t, source, err := provision.ResolveIntegrationToken(ctx, db, token)
	if err != nil {
		return "", "", err
	}
	c.mu.Lock()
	if len(c.entries) >= maxCachedTokens {
		clear(c.entries)
	}
	c.entries[key] = tokenEntry{tenant: t, source: source, expires: now.Add(c.ttl)}
	c.mu.Unlock()
	return t, source, nil
}

func keyOf(token string) [sha256.Size]byte { return sha256.Sum256([]byte(token)) }
