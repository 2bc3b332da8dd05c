package sources

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/ingest/mapping"
	"github.com/alexus-platform/alexus/services/ingest/normalise"
)

// Snapshot is one tenant's compiled source configuration at one moment.
type Snapshot struct {
	rules     map[string]*mapping.Compiled
	broken    map[string]error
	overrides map[string]Override
}

// Rule returns the tenant's compiled rule called name. ok is false when
// there is none; err is set when there is one that no longer compiles.
func (s *Snapshot) Rule(name string) (n normalise.Normaliser, ok bool, err error) {
	if s == nil {
		return nil, false, nil
	}
	if err := s.broken[name]; err != nil {
		return nil, true, err
	}
	c, ok := s.rules[name]
	return c, ok, nil
}

// Override returns the tenant's override of source, if it has one.
func (s *Snapshot) Override(source string) (Override, bool) {
	if s == nil {
		return Override{}, false
	}
	o, ok := s.overrides[source]
	return o, ok
}

// Compile builds a Snapshot from stored rules and overrides. A rule that
// does not compile (say, after a CEL upgrade tightened a check) is kept as
// broken, so webhooks to it are refused with the reason instead of being
// taken for an unknown source.
func Compile(rules []SavedRule, overrides []Override) *Snapshot {
	s := &Snapshot{
		rules:     make(map[string]*mapping.Compiled, len(rules)),
		broken:    map[string]error{},
		overrides: make(map[string]Override, len(overrides)),
	}
	for _, r := range rules {
		c, err := mapping.Compile(r.Rule)
		if err != nil {
			s.broken[r.Name] = err
			continue
		}
		s.rules[r.Name] = c
	}
	for _, o := range overrides {
		s.overrides[o.Source] = o
	}
	return s
}

// Cache keeps each tenant's Snapshot for a TTL. A change saved through
// this process is seen at once (Invalidate); one saved through another
// ingest replica within the TTL.
type Cache struct {
	store *Store
	ttl   time.Duration
	now   func() time.Time
	group singleflight.Group

	mu      sync.RWMutex
	entries map[tenant.ID]cacheEntry
	// gens counts each tenant's invalidations, so a load that began before
	// one does not cache what it read.
	gens map[tenant.ID]uint64
}

// loadTimeout bounds one load of a tenant's configuration. The load runs
// apart from the caller's context, because callers that arrive meanwhile
// share it and must not fail when the first one goes away.
const loadTimeout = 5 * time.Second

// retryAfterFailure is how long an expired snapshot keeps serving after a
// failed reload before the next attempt, so a Postgres outage costs one
// query per tenant per interval, not one per alert.
const retryAfterFailure = time.Second

type cacheEntry struct {
	snap    *Snapshot
	expires time.Time
}

// NewCache returns a cache over store; ttl 0 loads on every call.
func NewCache(store *Store, ttl time.Duration) *Cache {
	return &Cache{store: store, ttl: ttl, now: time.Now, entries: map[tenant.ID]cacheEntry{}, gens: map[tenant.ID]uint64{}}
}

// Snapshot returns the context tenant's configuration, loading it when the
// cached one has expired. Concurrent loads of one tenant share one query.
// When a reload fails and an expired snapshot is at hand, that one is used
// (the failure is returned with it, and the snapshot serves on for
// retryAfterFailure before the next attempt) rather than failing intake
// while Postgres is briefly away; with none at hand, the error alone.
func (c *Cache) Snapshot(ctx context.Context) (*Snapshot, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.RLock()
	e, ok := c.entries[t]
	c.mu.RUnlock()
	if ok && c.now().Before(e.expires) {
		return e.snap, nil
	}
	v, err, _ := c.group.Do(string(t), func() (any, error) {
		c.mu.RLock()
		gen := c.gens[t]
		c.mu.RUnlock()
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), loadTimeout)
		defer cancel()
		rules, err := c.store.Rules(lctx)
		if err != nil {
			return nil, err
		}
		overrides, err := c.store.Overrides(lctx)
		if err != nil {
			return nil, err
		}
		snap := Compile(rules, overrides)
		c.mu.Lock()
		if c.gens[t] == gen {
			c.entries[t] = cacheEntry{snap: snap, expires: c.now().Add(c.ttl)}
		}
		c.mu.Unlock()
		return snap, nil
	})
	if err != nil {
		err = fmt.Errorf("load sources of tenant %s: %w", t, err)
		if !ok {
			return nil, err
		}
		c.mu.Lock()
		if cur, still := c.entries[t]; still && cur.snap == e.snap {
			c.entries[t] = cacheEntry{snap: e.snap, expires: c.now().Add(retryAfterFailure)}
		}
		c.mu.Unlock()
		return e.snap, err
	}
	return v.(*Snapshot), nil
}

// Invalidate drops the context tenant's cached snapshot, so the next call
// loads the configuration just saved.
func (c *Cache) Invalidate(ctx context.Context) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return
	}
	c.mu.Lock()
	delete(c.entries, t)
	c.gens[t]++
	c.mu.Unlock()
	// A load already under way read the old configuration; callers from
	// now on start a new one.
	c.group.Forget(string(t))
}
