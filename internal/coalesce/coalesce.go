// Package coalesce runs the concurrent calls made under one key together.
//
// A call that finds its key with fewer than Config.MaxInFlight runs going
// runs at once, alone, in its caller's goroutine and context. One that
// finds them all busy waits, and every call that waits while a run is
// going goes with the next one, as one batch. Nothing is delayed to make a
// batch: a call waits only for a run of its own key to end, and batches
// grow only as whatever the runs call falls behind. That is what turns a
// burst of small writes (webhook deliveries to the ingestion plane, a
// tenant's new incidents into Postgres) into few large ones, where most of
// each small one's cost was being a call at all.
package coalesce

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Config sets how calls are coalesced.
type Config struct {
	// MaxItems is the most calls one batch carries; 1 turns coalescing off.
	MaxItems int
	// MaxInFlight is how many runs of one key may be going before its next
	// calls wait to go together.
	MaxInFlight int
	// Timeout bounds one batch, which runs in a context of its own.
	Timeout time.Duration
	// BatchContext makes a batch's context from its first call's; nil
	// keeps the first call's values without its cancellation. A caller
	// whose contexts carry values that belong to one call only (a trace
	// span, outgoing metadata) passes one that keeps just what a batch
	// needs.
	BatchContext func(first context.Context) context.Context
}

// Validate names the first bad field.
func (c Config) Validate() error {
	switch {
	case c.MaxItems < 1:
		return fmt.Errorf("coalesce: max items %d must be at least 1", c.MaxItems)
	case c.MaxInFlight < 1:
		return fmt.Errorf("coalesce: max in flight %d must be at least 1", c.MaxInFlight)
	case c.Timeout <= 0:
		return fmt.Errorf("coalesce: timeout %s must be positive", c.Timeout)
	}
	return nil
}

// One runs a single call in its caller's context.
type One[T, R any] func(ctx context.Context, item T) (R, error)

// Many runs a batch and returns one result per item, in order, or an error
// that is every item's.
type Many[T, R any] func(ctx context.Context, items []T) ([]R, error)

// Coalescer runs calls keyed by K, with items T and results R.
type Coalescer[K comparable, T, R any] struct {
	cfg  Config
	one  One[T, R]
	many Many[T, R]

	mu   sync.Mutex
	keys map[K]*queue[T, R]
}

// queue is one key's runs going and calls waiting.
type queue[T, R any] struct {
	inFlight int
	waiting  []*call[T, R]
}

// A call's state: waiting to go, gone with a batch, or given up by its
// caller before it went (and then it never goes).
const (
	stateWaiting int32 = iota
	stateSent
	stateAbandoned
)

type call[T, R any] struct {
	ctx   context.Context
	item  T
	state atomic.Int32
	// done is closed once res and err are set.
	done chan struct{}
	res  R
	err  error
}

// New returns a Coalescer that runs lone calls with one and batches with
// many; cfg must be valid.
func New[K comparable, T, R any](cfg Config, one One[T, R], many Many[T, R]) (*Coalescer[K, T, R], error) {
	if one == nil || many == nil {
		return nil, errors.New("coalesce: both run functions are required")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Coalescer[K, T, R]{cfg: cfg, one: one, many: many, keys: make(map[K]*queue[T, R])}, nil
}

// Do runs item at once when key has a run to spare, and otherwise with
// key's next batch. A caller whose ctx ends before its batch goes gets
// ctx's error and its item never runs; one whose batch went gets ctx's
// error too, and the item may or may not have run, as with any call whose
// caller hung up.
func (c *Coalescer[K, T, R]) Do(ctx context.Context, key K, item T) (R, error) {
	if c.cfg.MaxItems == 1 {
		return c.one(ctx, item)
	}
	c.mu.Lock()
	q := c.keys[key]
	if q == nil {
		q = &queue[T, R]{}
		c.keys[key] = q
	}
	if q.inFlight < c.cfg.MaxInFlight {
		q.inFlight++
		c.mu.Unlock()
		defer c.finished(key)
		return c.one(ctx, item)
	}
	d := &call[T, R]{ctx: ctx, item: item, done: make(chan struct{})}
	q.waiting = append(q.waiting, d)
	var full []*call[T, R]
	if len(q.waiting) >= c.cfg.MaxItems {
		// A full batch goes now, even above MaxInFlight, rather than the
		// queue growing without bound; whatever it calls bounds its own load.
		full, q.waiting = q.waiting, nil
		q.inFlight++
	}
	c.mu.Unlock()
	if full != nil {
		go c.run(key, full)
	}
	select {
	case <-d.done:
		return d.res, d.err
	case <-ctx.Done():
		d.state.CompareAndSwap(stateWaiting, stateAbandoned)
		var zero R
		return zero, ctx.Err()
	}
}

// finished ends one run of key and sends whatever waited for it.
func (c *Coalescer[K, T, R]) finished(key K) {
	c.mu.Lock()
	q := c.keys[key]
	q.inFlight--
	var next []*call[T, R]
	switch {
	case len(q.waiting) > 0 && (q.inFlight < c.cfg.MaxInFlight || len(q.waiting) >= c.cfg.MaxItems):
		// Above MaxInFlight (after full batches went early) the waiting
		// calls wait for the runs to drain back below it; a run still
		// going will start them.
		next, q.waiting = q.waiting, nil
		q.inFlight++
	case q.inFlight == 0 && len(q.waiting) == 0:
		delete(c.keys, key)
	}
	c.mu.Unlock()
	if next != nil {
		go c.run(key, next)
	}
}

// run sends the calls of batch still wanted, alone when one is left, and
// answers each.
func (c *Coalescer[K, T, R]) run(key K, batch []*call[T, R]) {
	defer c.finished(key)
	live := batch[:0]
	for _, d := range batch {
		if d.state.CompareAndSwap(stateWaiting, stateSent) {
			live = append(live, d)
		}
	}
	switch len(live) {
	case 0:
		return
	case 1:
		d := live[0]
		d.res, d.err = c.one(d.ctx, d.item)
		close(d.done)
		return
	}
	base := context.WithoutCancel(live[0].ctx)
	if c.cfg.BatchContext != nil {
		base = c.cfg.BatchContext(live[0].ctx)
	}
	ctx, cancel := context.WithTimeout(base, c.cfg.Timeout)
	defer cancel()
	items := make([]T, len(live))
	for k, d := range live {
		items[k] = d.item
	}
	res, err := c.many(ctx, items)
	if err == nil && len(res) != len(live) {
		err = fmt.Errorf("coalesce: a batch of %d answered %d results", len(live), len(res))
	}
	for k, d := range live {
		if err != nil {
			d.err = err
		} else {
			d.res = res[k]
		}
		close(d.done)
	}
}

// Waiting returns how many calls of key wait for a run.
func (c *Coalescer[K, T, R]) Waiting(key K) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if q := c.keys[key]; q != nil {
		return len(q.waiting)
	}
	return 0
}
