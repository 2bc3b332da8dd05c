package pipeline

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/alexus-platform/alexus/internal/rediskey"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// ConsumerConfig says how a Consumer reads the signal streams. The
// orchestrator's Config embeds it, so each field's environment variable is
// given in its comment.
type ConsumerConfig struct {
	// Group is the consumer group every replica joins
	// (ALEXUS_ORCHESTRATOR_GROUP, default "orchestrator").
	Group string
	// Consumer is this replica's name in the group
	// (ALEXUS_ORCHESTRATOR_CONSUMER, default <hostname>-<pid>). Names must
	// be unique among live replicas.
	Consumer string
	// Concurrency is the number of entries processed at once
	// (ALEXUS_ORCHESTRATOR_CONCURRENCY, default 64).
	Concurrency int
	// ReadCount is the most entries read per tenant stream per read, and
	// claimed per stream per claim pass (ALEXUS_ORCHESTRATOR_READ_COUNT,
	// default 16).
	ReadCount int64
	// Block is how long a read waits for new entries
	// (ALEXUS_ORCHESTRATOR_BLOCK, default 1s). It also bounds how long a
	// stopping replica waits for its last read.
	Block time.Duration
	// ClaimMinIdle is how long an entry must have been pending before any
	// replica takes it over and retries it (ALEXUS_ORCHESTRATOR_CLAIM_MIN_IDLE,
	// default 90s). It must exceed twice EntryTimeout: an entry handed to a
	// busy worker waits for at most the entry running there and then runs
	// for at most EntryTimeout, so no other replica takes over an entry that
	// is only queued or slow.
	ClaimMinIdle time.Duration
	// ClaimInterval is how often idle entries are looked for
	// (ALEXUS_ORCHESTRATOR_CLAIM_INTERVAL, default 5s).
	ClaimInterval time.Duration
	// MaxDeliveries is how often an entry is tried before it goes to the
	// dead-letter stream (ALEXUS_ORCHESTRATOR_MAX_DELIVERIES, default 5).
	MaxDeliveries int64
	// DiscoverInterval is how often the registry of tenant streams is read
	// again (ALEXUS_ORCHESTRATOR_DISCOVER_INTERVAL, default 500ms): a new
	// tenant's first alert waits at most this long (plus one Block) to be seen.
	DiscoverInterval time.Duration
	// EntryTimeout bounds the processing of one entry, all stages included
	// (ALEXUS_ORCHESTRATOR_ENTRY_TIMEOUT, default 30s). It also bounds how
	// long a stopping replica waits for the entries it has started.
	EntryTimeout time.Duration
	// DeadLetterMaxLen caps each tenant's dead-letter stream, approximately,
	// dropping the oldest (ALEXUS_ORCHESTRATOR_DEAD_LETTER_MAX_LEN, default
	// 10000).
	DeadLetterMaxLen int64
}

// Validate names the first bad field. Its errors carry no package prefix;
// the orchestrator's Config adds its own.
func (c ConsumerConfig) Validate() error {
	switch {
	case c.Group == "":
		return errors.New("group must not be empty")
	case c.Consumer == "":
		return errors.New("consumer must not be empty")
	case c.Concurrency < 1:
		return fmt.Errorf("concurrency %d must be at least 1", c.Concurrency)
	case c.ReadCount < 1:
		return fmt.Errorf("read count %d must be at least 1", c.ReadCount)
	case c.Block <= 0:
		return fmt.Errorf("block %s must be positive", c.Block)
	case c.EntryTimeout <= 0:
		return fmt.Errorf("entry timeout %s must be positive", c.EntryTimeout)
	case c.ClaimMinIdle <= 2*c.EntryTimeout:
		return fmt.Errorf("claim min idle %s must be more than twice entry timeout %s", c.ClaimMinIdle, c.EntryTimeout)
	case c.ClaimInterval <= 0:
		return fmt.Errorf("claim interval %s must be positive", c.ClaimInterval)
	case c.MaxDeliveries < 1:
		return fmt.Errorf("max deliveries %d must be at least 1", c.MaxDeliveries)
	case c.DiscoverInterval <= 0:
		return fmt.Errorf("discover interval %s must be positive", c.DiscoverInterval)
	case c.DeadLetterMaxLen < 1:
		return fmt.Errorf("dead letter max len %d must be at least 1", c.DeadLetterMaxLen)
	}
	return nil
}

// Entry is one stream entry handed to a Handler.
type Entry struct {
	// Tenant is the tenant in the stream's key: the only tenant the entry
	// may act for.
	Tenant tenant.ID
	// Stream is the stream's key and ID the entry's ID in it.
	Stream string
	ID     string
	// Values are the entry's fields.
	Values map[string]any
	// Deliveries counts how often the entry has been delivered, this time
	// included.
	Deliveries int64
}

// Handler processes entries.
type Handler interface {
	// Key returns the ordering key of e. Entries with equal keys go to the
	// same worker, so they are processed one after another, in stream
	// order, within a replica.
	Key(e Entry) string
	// Handle processes e. It returns nil once e's effects are durable; an
	// error leaves e pending to be retried, except a Permanent one, which
	// sends it to the dead-letter stream at once.
	Handle(ctx context.Context, e Entry) error
}

// GiveUpHandler is a Handler that is told, before an entry goes to the
// dead-letter stream, that the consumer is giving up on it, so it can hand
// what the entry was about to a person instead of leaving it half done.
type GiveUpHandler interface {
	Handler
	GiveUp(ctx context.Context, e Entry, cause error)
}

// permanentError marks an error that retrying cannot fix.
type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

// Permanent marks err as one no retry can fix, such as an entry that does
// not decode; the consumer dead-letters such an entry without waiting for
// MaxDeliveries.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err: err}
}

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// Consumer reads every registered tenant's signal stream with one consumer
// group and hands entries to a bounded pool of workers.
//
// Acknowledgement is the handler's success: an entry is XACKed only after
// Handle returned nil, and is otherwise left pending, to be reclaimed with
// XAUTOCLAIM (by this replica or another) once it has been idle for
// ClaimMinIdle. An entry delivered more than MaxDeliveries times goes to the
// tenant's dead-letter stream instead.
type Consumer struct {
	cfg   ConsumerConfig
	space rediskey.Space
	rdb   redis.UniversalClient
	h     Handler
	log   *zap.Logger

	// streams is owned by the reader goroutine; the claimer reads a copy.
	mu      sync.Mutex
	streams []string
	known   map[string]bool

	// inflight holds the entries this replica has read or claimed and not
	// yet settled: waiting to be handed to a worker, queued or running. A
	// claim finding one of them skips it, so an entry that is only slow or
	// waiting for a busy worker is never run twice here, nor overtaken by
	// a later entry of its key.
	inflightMu sync.Mutex
	inflight   map[string]bool
	// lastErr remembers why an entry last failed here, so the dead letter
	// can say why rather than only how often.
	lastErr map[string]string
}

// NewConsumer returns a Consumer of the tenant streams under space; Run
// starts it.
func NewConsumer(cfg ConsumerConfig, space rediskey.Space, rdb redis.UniversalClient, h Handler, log *zap.Logger) *Consumer {
	return &Consumer{
		cfg:      cfg,
		space:    space,
		rdb:      rdb,
		h:        h,
		log:      log,
		known:    map[string]bool{},
		inflight: map[string]bool{},
		lastErr:  map[string]string{},
	}
}

type job struct{ e Entry }

// Run consumes until ctx is done, then stops reading and claiming, lets the
// entries already running finish (within EntryTimeout), and returns.
// Entries read or queued but not begun are left pending, to be reclaimed.
func (c *Consumer) Run(ctx context.Context) error {
	workers := make([]chan job, c.cfg.Concurrency)
	var wg sync.WaitGroup
	for i := range workers {
		// One queued job per worker: enough to keep workers busy between
		// reads, small enough that a stopping replica leaves little behind.
		workers[i] = make(chan job, 1)
		wg.Add(1)
		go func(ch <-chan job) {
			defer wg.Done()
			for j := range ch {
				if ctx.Err() != nil {
					// Stopping: an entry that has not begun stays pending
					// for another replica (or this one after a restart).
					c.unmarkInflight(j.e)
					continue
				}
				c.process(ctx, j.e)
			}
		}(workers[i])
	}
	var loops sync.WaitGroup
	loops.Add(2)
	go func() { defer loops.Done(); c.readLoop(ctx, workers) }()
	go func() { defer loops.Done(); c.claimLoop(ctx, workers) }()
	loops.Wait()
	for _, ch := range workers {
		close(ch)
	}
	wg.Wait()
	return nil
}

// readLoop reads new entries of all known streams with one XREADGROUP,
// ReadCount per stream, so a busy tenant cannot crowd out a quiet one in
// any single read.
func (c *Consumer) readLoop(ctx context.Context, workers []chan job) {
	// Redis calls run without ctx's cancellation: cutting a blocking read
	// short would leave entries delivered to us but never seen. The read
	// returns within Block anyway.
	rctx := context.WithoutCancel(ctx)
	var lastDiscover time.Time
	for ctx.Err() == nil {
		if time.Since(lastDiscover) >= c.cfg.DiscoverInterval {
			if err := c.discover(rctx); err != nil {
				c.log.Warn("discover tenant streams failed", zap.Error(err))
			}
			lastDiscover = time.Now()
		}
		keys := c.snapshot()
		if len(keys) == 0 {
			wait(ctx, c.cfg.DiscoverInterval)
			continue
		}
		args := make([]string, 0, 2*len(keys))
		args = append(args, keys...)
		for range keys {
			args = append(args, ">")
		}
		res, err := c.rdb.XReadGroup(rctx, &redis.XReadGroupArgs{
			Group:    c.cfg.Group,
			Consumer: c.cfg.Consumer,
			Streams:  args,
			Count:    c.cfg.ReadCount,
			Block:    c.cfg.Block,
		}).Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			if redis.HasErrorPrefix(err, "NOGROUP") {
				// A stream (or its group) was deleted; create them again.
				c.forget()
				lastDiscover = time.Time{}
			}
			c.log.Warn("read signal streams failed", zap.Error(err))
			wait(ctx, c.cfg.Block)
			continue
		}
		// Every entry read is marked in flight before any is handed over:
		// while the first waits for a busy worker, the claim loop must not
		// take the others for stalled ones and run them out of order.
		var batch []Entry
		for _, s := range res {
			t, ok := c.space.TenantFromKey(s.Stream)
			if !ok {
				continue
			}
			for _, m := range s.Messages {
				e := Entry{Tenant: t, Stream: s.Stream, ID: m.ID, Values: m.Values, Deliveries: 1}
				if c.markInflight(e) {
					batch = append(batch, e)
				}
			}
		}
		c.dispatchAll(ctx, workers, batch)
	}
}

// discover reads the registry of tenants with streams and makes sure the
// consumer group exists on each new one. Group creation starts at 0, so a
// tenant whose first entries arrived before any orchestrator ran loses
// none of them.
func (c *Consumer) discover(ctx context.Context) error {
	members, err := c.rdb.SMembers(ctx, c.space.Global(rediskey.StreamRegistry)).Result()
	if err != nil {
		return fmt.Errorf("read stream registry: %w", err)
	}
	var errs []error
	for _, m := range members {
		t, err := tenant.Parse(m)
		if err != nil {
			c.log.Warn("stream registry holds an invalid tenant id; skipped", zap.Error(err))
			continue
		}
		key := c.space.Tenant(t, rediskey.SignalStream)
		c.mu.Lock()
		known := c.known[key]
		c.mu.Unlock()
		if known {
			continue
		}
		err = c.rdb.XGroupCreateMkStream(ctx, key, c.cfg.Group, "0").Err()
		if err != nil && !redis.HasErrorPrefix(err, "BUSYGROUP") {
			errs = append(errs, fmt.Errorf("create consumer group on stream of tenant %s: %w", t, err))
			continue
		}
		c.mu.Lock()
		c.known[key] = true
		c.streams = append(c.streams, key)
		slices.Sort(c.streams)
		c.mu.Unlock()
		c.log.Info("consuming signal stream", zap.String("tenant_id", string(t)))
	}
	return errors.Join(errs...)
}

func (c *Consumer) snapshot() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.streams)
}

func (c *Consumer) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.streams = nil
	c.known = map[string]bool{}
}

// claimLoop periodically takes over entries that have been pending longer
// than ClaimMinIdle on any consumer of the group: those of crashed
// replicas, and this replica's own failures, which are retried this way.
func (c *Consumer) claimLoop(ctx context.Context, workers []chan job) {
	rctx := context.WithoutCancel(ctx)
	cursors := map[string]string{}
	tick := time.NewTicker(c.cfg.ClaimInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for _, key := range c.snapshot() {
			if ctx.Err() != nil {
				return
			}
			next, err := c.claim(ctx, rctx, workers, key, cursors[key])
			if err != nil {
				c.log.Warn("claim idle entries failed", zap.String("stream", key), zap.Error(err))
				continue
			}
			cursors[key] = next
		}
	}
}

// claim runs one XAUTOCLAIM page on key from cursor and returns the next
// cursor. Each tick takes at most ReadCount entries per stream, keeping
// reclaimed work as fair across tenants as new work.
func (c *Consumer) claim(ctx, rctx context.Context, workers []chan job, key, cursor string) (string, error) {
	t, ok := c.space.TenantFromKey(key)
	if !ok {
		return "0-0", nil
	}
	if cursor == "" {
		cursor = "0-0"
	}
	msgs, next, err := c.rdb.XAutoClaim(rctx, &redis.XAutoClaimArgs{
		Stream:   key,
		Group:    c.cfg.Group,
		MinIdle:  c.cfg.ClaimMinIdle,
		Start:    cursor,
		Count:    c.cfg.ReadCount,
		Consumer: c.cfg.Consumer,
	}).Result()
	if err != nil {
		return cursor, fmt.Errorf("xautoclaim: %w", err)
	}
	if len(msgs) == 0 {
		return next, nil
	}
	// Mark the claimed entries in flight first, skipping those read or
	// claimed here and not settled yet: they are waiting for their worker
	// or running, not stalled.
	var claimed []Entry
	for _, m := range msgs {
		if m.Values == nil {
			// The entry was deleted from the stream while pending.
			c.rdb.XAck(rctx, key, c.cfg.Group, m.ID)
			continue
		}
		e := Entry{Tenant: t, Stream: key, ID: m.ID, Values: m.Values}
		if c.markInflight(e) {
			claimed = append(claimed, e)
		}
	}
	if len(claimed) == 0 {
		return next, nil
	}
	// Only now ask which are still pending: an entry settled here between
	// XAUTOCLAIM and its marking (acknowledged, so no longer pending) must
	// not run again. XAUTOCLAIM has counted this delivery; XPENDING also
	// says how many there have been in all.
	pipe := c.rdb.Pipeline()
	counts := make([]*redis.XPendingExtCmd, len(claimed))
	for i, e := range claimed {
		counts[i] = pipe.XPendingExt(rctx, &redis.XPendingExtArgs{Stream: key, Group: c.cfg.Group, Start: e.ID, End: e.ID, Count: 1})
	}
	if _, err := pipe.Exec(rctx); err != nil && !errors.Is(err, redis.Nil) {
		for _, e := range claimed {
			c.unmarkInflight(e)
		}
		return next, fmt.Errorf("read delivery counts: %w", err)
	}
	var batch []Entry
	for i, e := range claimed {
		p := counts[i].Val()
		if len(p) != 1 {
			// Settled since XAUTOCLAIM returned it.
			c.unmarkInflight(e)
			continue
		}
		e.Deliveries = p[0].RetryCount
		if e.Deliveries > c.cfg.MaxDeliveries {
			reason := c.takeLastErr(e)
			if reason == "" {
				reason = "processing did not succeed"
			}
			// This delivery was only to take the entry over; it was not
			// processed, so the dead letter counts the attempts made.
			e.Deliveries--
			c.deadLetter(rctx, e, fmt.Errorf("gave up after %d deliveries: %s", e.Deliveries, reason))
			c.unmarkInflight(e)
			continue
		}
		batch = append(batch, e)
	}
	c.dispatchAll(ctx, workers, batch)
	return next, nil
}

// dispatchAll hands the entries of batch, each already marked in flight,
// to their workers in order. When ctx ends first, the entries not handed
// over are unmarked and left pending, to be reclaimed.
func (c *Consumer) dispatchAll(ctx context.Context, workers []chan job, batch []Entry) {
	for i, e := range batch {
		if !c.dispatch(ctx, workers, e) {
			for _, rest := range batch[i:] {
				c.unmarkInflight(rest)
			}
			return
		}
	}
}

// dispatch hands e to the worker of its key, waiting while that worker is
// busy; that wait is the back-pressure that keeps reads bounded. It
// reports false, leaving e to the caller, when ctx ends first.
func (c *Consumer) dispatch(ctx context.Context, workers []chan job, e Entry) bool {
	if ctx.Err() != nil {
		return false
	}
	h := fnv.New32a()
	h.Write([]byte(e.Tenant))
	h.Write([]byte{0})
	h.Write([]byte(c.h.Key(e)))
	select {
	case workers[h.Sum32()%uint32(len(workers))] <- job{e: e}:
		return true
	case <-ctx.Done():
		return false
	}
}

// process runs the handler for e and settles the entry. It is not cut
// short by the consumer stopping: an entry that has started is allowed to
// finish, within EntryTimeout.
func (c *Consumer) process(ctx context.Context, e Entry) {
	defer c.unmarkInflight(e)
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.EntryTimeout)
	defer cancel()
	log := c.log.With(zap.String("tenant_id", string(e.Tenant)), zap.String("entry_id", e.ID), zap.Int64("deliveries", e.Deliveries))
	err := c.h.Handle(pctx, e)
	switch {
	case err == nil:
		if err := c.rdb.XAck(pctx, e.Stream, c.cfg.Group, e.ID).Err(); err != nil {
			// The entry will be reclaimed and handled again, which the
			// handler makes a no-op.
			log.Warn("acknowledge entry failed", zap.Error(err))
		}
		c.takeLastErr(e)
	case IsPermanent(err):
		log.Warn("entry cannot be processed; dead-lettering", zap.Error(err))
		c.deadLetter(pctx, e, err)
	default:
		log.Warn("entry failed; it stays pending and will be retried", zap.Error(err))
		c.setLastErr(e, err)
	}
}

// deadLetter moves e to its tenant's dead-letter stream with the error and
// delivery count, and acknowledges it, in one MULTI (both keys are in the
// tenant's hash slot). A GiveUpHandler is told first.
func (c *Consumer) deadLetter(ctx context.Context, e Entry, cause error) {
	if g, ok := c.h.(GiveUpHandler); ok {
		gctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.EntryTimeout)
		g.GiveUp(gctx, e, cause)
		cancel()
	}
	vals := make(map[string]any, len(e.Values)+3)
	for k, v := range e.Values {
		vals[k] = v
	}
	vals["error"] = cause.Error()
	vals["deliveries"] = strconv.FormatInt(e.Deliveries, 10)
	vals["entry_id"] = e.ID
	pipe := c.rdb.TxPipeline()
	pipe.XAdd(ctx, &redis.XAddArgs{
		Stream: c.space.Tenant(e.Tenant, rediskey.DeadLetters),
		MaxLen: c.cfg.DeadLetterMaxLen,
		Approx: true,
		Values: vals,
	})
	pipe.XAck(ctx, e.Stream, c.cfg.Group, e.ID)
	log := c.log.With(zap.String("tenant_id", string(e.Tenant)), zap.String("entry_id", e.ID))
	if _, err := pipe.Exec(ctx); err != nil {
		log.Error("dead-letter entry failed; it stays pending", zap.Error(err))
		return
	}
	c.takeLastErr(e)
	log.Warn("entry dead-lettered", zap.Int64("deliveries", e.Deliveries), zap.String("error", cause.Error()))
}

func entryKey(e Entry) string { return e.Stream + "/" + e.ID }

func (c *Consumer) markInflight(e Entry) bool {
	c.inflightMu.Lock()
	defer c.inflightMu.Unlock()
	k := entryKey(e)
	if c.inflight[k] {
		return false
	}
	c.inflight[k] = true
	return true
}

func (c *Consumer) unmarkInflight(e Entry) {
	c.inflightMu.Lock()
	defer c.inflightMu.Unlock()
	delete(c.inflight, entryKey(e))
}

// maxRememberedErrors bounds lastErr; past it the memory is dropped, and
// dead letters of the forgotten entries say only how often they failed.
const maxRememberedErrors = 10000

func (c *Consumer) setLastErr(e Entry, err error) {
	c.inflightMu.Lock()
	defer c.inflightMu.Unlock()
	if len(c.lastErr) >= maxRememberedErrors {
		c.lastErr = map[string]string{}
	}
	c.lastErr[entryKey(e)] = err.Error()
}

func (c *Consumer) takeLastErr(e Entry) string {
	c.inflightMu.Lock()
	defer c.inflightMu.Unlock()
	k := entryKey(e)
	s := c.lastErr[k]
	delete(c.lastErr, k)
	return s
}

// wait returns after d or when ctx is done.
func wait(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
