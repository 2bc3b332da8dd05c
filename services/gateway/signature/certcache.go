package signature

import (
	"container/list"
	"context"
	"crypto/x509"
	"fmt"
	"sync"
	"time"
)

// certCache keeps SNS signing certificates by URL, so that a flood of
// messages costs one fetch per certificate per TTL rather than one per
// message. It is a bounded LRU with a TTL; it also remembers failures for a
// short while, and makes concurrent requests for one URL share one fetch.
type certCache struct {
	size       int
	ttl        time.Duration
	failureTTL time.Duration
	now        func() time.Time
	fetch      func(context.Context, string) (*x509.Certificate, error)
	// fetchSlots bounds the fetches under way: a send acquires a slot.
	fetchSlots chan struct{}

	mu       sync.Mutex
	order    *list.List // of *certEntry, the most recently used first
	entries  map[string]*list.Element
	inflight map[string]*certFetch
}

// certEntry is a cached outcome: a certificate, or the error of a failed
// fetch.
type certEntry struct {
	url     string
	cert    *x509.Certificate
	err     error
	expires time.Time
}

// certFetch is a fetch under way, which every caller asking for its URL
// meanwhile waits for. cert and err are written before done is closed.
type certFetch struct {
	done chan struct{}
	cert *x509.Certificate
	err  error
}

func newCertCache(size int, ttl, failureTTL time.Duration, maxFetches int, now func() time.Time,
	fetch func(context.Context, string) (*x509.Certificate, error),
) *certCache {
	return &certCache{
		size:       size,
		ttl:        ttl,
		failureTTL: failureTTL,
		now:        now,
		fetch:      fetch,
		fetchSlots: make(chan struct{}, maxFetches),
		order:      list.New(),
		entries:    make(map[string]*list.Element),
		inflight:   make(map[string]*certFetch),
	}
}

// get returns the certificate at certURL, from the cache or fetched. The
// fetch runs apart from ctx, so that a caller giving up does not fail the
// others waiting for the same certificate, and is bounded by the
// verifier's timeout instead; a caller whose ctx ends stops waiting.
func (c *certCache) get(ctx context.Context, certURL string) (*x509.Certificate, error) {
	c.mu.Lock()
	if el, ok := c.entries[certURL]; ok {
		e := el.Value.(*certEntry)
		if c.now().Before(e.expires) {
			c.order.MoveToFront(el)
			c.mu.Unlock()
			return e.cert, e.err
		}
		c.order.Remove(el)
		delete(c.entries, certURL)
	}
	f, ok := c.inflight[certURL]
	if !ok {
		select {
		case c.fetchSlots <- struct{}{}:
		default:
			c.mu.Unlock()
			return nil, fmt.Errorf("%w: %d SNS certificate fetches are already under way", ErrUnavailable, cap(c.fetchSlots))
		}
		f = &certFetch{done: make(chan struct{})}
		c.inflight[certURL] = f
		go c.run(context.WithoutCancel(ctx), certURL, f)
	}
	c.mu.Unlock()

	select {
	case <-f.done:
		return f.cert, f.err
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: waiting for the SNS signing certificate: %w", ErrUnavailable, context.Cause(ctx))
	}
}

// run fetches for f, stores the outcome and wakes the waiters.
func (c *certCache) run(ctx context.Context, certURL string, f *certFetch) {
	cert, err := c.fetch(ctx, certURL)
	<-c.fetchSlots

	c.mu.Lock()
	delete(c.inflight, certURL)
	c.store(certURL, cert, err)
	f.cert, f.err = cert, err
	c.mu.Unlock()
	close(f.done)
}

// store caches an outcome, evicting the least recently used entries beyond
// the size. c.mu must be held.
func (c *certCache) store(certURL string, cert *x509.Certificate, err error) {
	ttl := c.ttl
	if err != nil {
		ttl = c.failureTTL
	}
	if ttl <= 0 {
		return
	}
	c.entries[certURL] = c.order.PushFront(&certEntry{url: certURL, cert: cert, err: err, expires: c.now().Add(ttl)})
	for c.order.Len() > c.size {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.entries, oldest.Value.(*certEntry).url)
	}
}
