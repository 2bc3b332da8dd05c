// Package tenantcache keeps a value per tenant for a short time: settings
// and rules that a hot path reads on every signal or call but that change
// rarely. A replica's own writes take effect at once (Forget); another
// replica's within the TTL.
package tenantcache

import (
	"context"
	"sync"
	"time"

	"github.com/alexus-platform/alexus/internal/tenant"
)

// maxTenants bounds the entries kept; past it, expired entries are dropped
// before a new one is added, so a replica serving many tenants does not
// grow without bound.
const maxTenants = 10000

// Cache holds one T per tenant for TTL. It is safe for concurrent use.
type Cache[T any] struct {
	ttl  time.Duration
	load func(ctx context.Context) (T, error)
	now  func() time.Time

	mu      sync.Mutex
	entries map[tenant.ID]entry[T]
	// writes counts Forget calls, so a load that a write overtook is not
	// kept.
	writes uint64
}

type entry[T any] struct {
	v       T
	expires time.Time
}

// New returns a Cache that loads the context's tenant's value with load.
func New[T any](ttl time.Duration, load func(ctx context.Context) (T, error)) *Cache[T] {
	return &Cache[T]{ttl: ttl, load: load, now: time.Now, entries: map[tenant.ID]entry[T]{}}
}

// Get returns the context's tenant's value, loading it when it is missing
// or older than the TTL. A failed load is not cached.
func (c *Cache[T]) Get(ctx context.Context) (T, error) {
	var zero T
	t, err := tenant.Require(ctx)
	if err != nil {
		return zero, err
	}
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[t]
	writes := c.writes
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.v, nil
	}
	v, err := c.load(ctx)
	if err != nil {
		return zero, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.writes != writes {
		return v, nil
	}
	if len(c.entries) >= maxTenants {
		for id, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, id)
			}
		}
	}
	c.entries[t] = entry[T]{v: v, expires: now.Add(c.ttl)}
	return v, nil
}

// Forget drops t's value after a write, so the next Get reads it again,
// and keeps any load that started before the write from being cached.
func (c *Cache[T]) Forget(t tenant.ID) {
	c.mu.Lock()
	delete(c.entries, t)
	c.writes++
	c.mu.Unlock()
}
