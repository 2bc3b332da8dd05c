package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/alexus-platform/alexus/internal/rediskey"
	"github.com/alexus-platform/alexus/internal/redistest"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/orchestrator/pipeline"
)

// stubHandler records what it handles and answers with fn.
type stubHandler struct {
	mu      sync.Mutex
	handled []pipeline.Entry
	fn      func(pipeline.Entry) error
}

func (h *stubHandler) Key(e pipeline.Entry) string {
	if k, ok := e.Values["key"].(string); ok {
		return k
	}
	return e.ID
}

func (h *stubHandler) Handle(_ context.Context, e pipeline.Entry) error {
	h.mu.Lock()
	h.handled = append(h.handled, e)
	h.mu.Unlock()
	if h.fn == nil {
		return nil
	}
	return h.fn(e)
}

func (h *stubHandler) entries() []pipeline.Entry {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]pipeline.Entry(nil), h.handled...)
}

type consumerBundle struct {
	rdb   *redis.Client
	space rediskey.Space
	cfg   pipeline.ConsumerConfig
	h     *stubHandler
}

const testTenant = tenant.ID("acme")

func setupConsumer(t *testing.T, fn func(pipeline.Entry) error) *consumerBundle {
	t.Helper()
	rdb, space := redistest.New(t)
	return &consumerBundle{
		rdb:   rdb,
		space: space,
		h:     &stubHandler{fn: fn},
		cfg: pipeline.ConsumerConfig{
			Group:            "orchestrator",
			Consumer:         "live",
			Concurrency:      4,
			ReadCount:        16,
			Block:            50 * time.Millisecond,
			ClaimMinIdle:     40 * time.Millisecond,
			ClaimInterval:    20 * time.Millisecond,
			MaxDeliveries:    3,
			DiscoverInterval: 20 * time.Millisecond,
			EntryTimeout:     5 * time.Second,
			DeadLetterMaxLen: 1000,
		},
	}
}

// start runs a consumer until the test ends.
func (b *consumerBundle) start(t *testing.T) {
	t.Helper()
	cancel, done := b.run(t)
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
}

// run runs a consumer until cancel is called; done yields Run's result.
func (b *consumerBundle) run(t *testing.T) (cancel context.CancelFunc, done <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := pipeline.NewConsumer(b.cfg, b.space, b.rdb, b.h, zaptest.NewLogger(t))
	ch := make(chan error, 1)
	go func() { ch <- c.Run(ctx) }()
	return cancel, ch
}

func (b *consumerBundle) stream() string { return b.space.Tenant(testTenant, rediskey.SignalStream) }

func (b *consumerBundle) add(t *testing.T, values map[string]any) string {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, b.rdb.SAdd(ctx, b.space.Global(rediskey.StreamRegistry), string(testTenant)).Err())
	id, err := b.rdb.XAdd(ctx, &redis.XAddArgs{Stream: b.stream(), Values: values}).Result()
	require.NoError(t, err)
	return id
}

func (b *consumerBundle) pending(t *testing.T) int64 {
	t.Helper()
	p, err := b.rdb.XPending(context.Background(), b.stream(), b.cfg.Group).Result()
	require.NoError(t, err)
	return p.Count
}

func (b *consumerBundle) deadLetters(t *testing.T) []redis.XMessage {
	t.Helper()
	msgs, err := b.rdb.XRange(context.Background(), b.space.Tenant(testTenant, rediskey.DeadLetters), "-", "+").Result()
	require.NoError(t, err)
	return msgs
}

func TestConsumerAcksHandledEntriesInKeyOrder(t *testing.T) {
	t.Parallel()
	b := setupConsumer(t, nil)
	var ids []string
	for i := range 30 {
		ids = append(ids, b.add(t, map[string]any{"key": fmt.Sprintf("k%d", i%3), "n": fmt.Sprint(i)}))
	}
	b.start(t)

	require.Eventually(t, func() bool { return len(b.h.entries()) == 30 }, 10*time.Second, 10*time.Millisecond)
	require.Eventually(t, func() bool { return b.pending(t) == 0 }, 10*time.Second, 10*time.Millisecond)

	// Entries of one key were handled in stream order.
	last := map[string]string{}
	for _, e := range b.h.entries() {
		require.Equal(t, testTenant, e.Tenant, "the tenant is the stream's")
		k := e.Values["key"].(string)
		if prev, ok := last[k]; ok {
			require.Less(t, indexOf(ids, prev), indexOf(ids, e.ID), "key %s out of order", k)
		}
		last[k] = e.ID
	}
	require.Empty(t, b.deadLetters(t))
}

func TestConsumerDeadLettersAfterMaxDeliveries(t *testing.T) {
	t.Parallel()
	b := setupConsumer(t, func(pipeline.Entry) error { return errors.New("downstream is broken") })
	id := b.add(t, map[string]any{"event": "payload"})
	b.start(t)

	require.Eventually(t, func() bool { return len(b.deadLetters(t)) == 1 }, 10*time.Second, 10*time.Millisecond)
	dl := b.deadLetters(t)[0]
	require.Equal(t, "payload", dl.Values["event"], "the original fields are kept")
	require.Equal(t, id, dl.Values["entry_id"])
	require.Equal(t, "3", dl.Values["deliveries"])
	require.Contains(t, dl.Values["error"], "downstream is broken")
	require.Eventually(t, func() bool { return b.pending(t) == 0 }, 10*time.Second, 10*time.Millisecond)

	handled := b.h.entries()
	require.Len(t, handled, int(b.cfg.MaxDeliveries), "tried exactly MaxDeliveries times")
	for i, e := range handled {
		require.Equal(t, int64(i+1), e.Deliveries)
	}
}

func TestConsumerDeadLettersPermanentErrorsAtOnce(t *testing.T) {
	t.Parallel()
	b := setupConsumer(t, func(pipeline.Entry) error { return pipeline.Permanent(errors.New("cannot decode")) })
	b.add(t, map[string]any{"event": "garbage"})
	b.start(t)

	require.Eventually(t, func() bool { return len(b.deadLetters(t)) == 1 }, 10*time.Second, 10*time.Millisecond)
	dl := b.deadLetters(t)[0]
	require.Equal(t, "1", dl.Values["deliveries"])
	require.Contains(t, dl.Values["error"], "cannot decode")
	require.Equal(t, int64(0), b.pending(t))
	require.Len(t, b.h.entries(), 1)
}

func TestConsumerReclaimsEntriesOfDeadConsumer(t *testing.T) {
	t.Parallel()
	b := setupConsumer(t, nil)
	ctx := context.Background()
	id := b.add(t, map[string]any{"event": "x"})
	require.NoError(t, b.rdb.XGroupCreateMkStream(ctx, b.stream(), b.cfg.Group, "0").Err())
	// A replica named "dead" reads the entry and dies before acking it.
	got, err := b.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: b.cfg.Group, Consumer: "dead", Streams: []string{b.stream(), ">"}, Count: 10}).Result()
	require.NoError(t, err)
	require.Len(t, got[0].Messages, 1)

	b.start(t)
	require.Eventually(t, func() bool { return b.pending(t) == 0 }, 10*time.Second, 10*time.Millisecond)
	handled := b.h.entries()
	require.Len(t, handled, 1)
	require.Equal(t, id, handled[0].ID)
	require.Equal(t, int64(2), handled[0].Deliveries, "the second delivery, by reclaim")
}

// blockFirst returns a handler function that holds the first entry it is
// given until release is closed, reporting on started that it began; the
// entries after it succeed at once.
func blockFirst(started chan<- string, release <-chan struct{}) func(pipeline.Entry) error {
	var once sync.Once
	return func(e pipeline.Entry) error {
		first := false
		once.Do(func() { first = true })
		if first {
			started <- e.ID
			<-release
		}
		return nil
	}
}

// deliveries returns the delivery count of every pending entry by ID.
func (b *consumerBundle) deliveries(t *testing.T) map[string]int64 {
	t.Helper()
	p, err := b.rdb.XPendingExt(context.Background(), &redis.XPendingExtArgs{Stream: b.stream(), Group: b.cfg.Group, Start: "-", End: "+", Count: 100}).Result()
	require.NoError(t, err)
	out := map[string]int64{}
	for _, e := range p {
		out[e.ID] = e.RetryCount
	}
	return out
}

func TestConsumerClaimSkipsEntriesWaitingForABusyWorker(t *testing.T) {
	t.Parallel()
	started, release := make(chan string, 1), make(chan struct{})
	b := setupConsumer(t, blockFirst(started, release))
	// One worker, so every entry after the first waits behind it: one in
	// the worker's queue, the rest read but not yet handed over.
	b.cfg.Concurrency = 1
	var ids []string
	for i := range 6 {
		ids = append(ids, b.add(t, map[string]any{"key": "k", "n": fmt.Sprint(i)}))
	}
	b.start(t)
	require.Equal(t, ids[0], <-started)

	// Wait until claim passes have taken every waiting entry over: this
	// replica's XAUTOCLAIM counts a delivery even for the entries it then
	// skips as in flight here.
	require.Eventually(t, func() bool {
		d := b.deliveries(t)
		for _, id := range ids {
			if d[id] < 2 {
				return false
			}
		}
		return true
	}, 10*time.Second, 10*time.Millisecond)
	close(release)

	require.Eventually(t, func() bool { return b.pending(t) == 0 }, 10*time.Second, 10*time.Millisecond)
	var got []string
	for _, e := range b.h.entries() {
		got = append(got, e.ID)
	}
	require.Equal(t, ids, got, "each entry handled once, in stream order")
	require.Empty(t, b.deadLetters(t))
}

func TestConsumerStopLeavesQueuedEntriesPending(t *testing.T) {
	t.Parallel()
	started, release := make(chan string, 1), make(chan struct{})
	b := setupConsumer(t, blockFirst(started, release))
	b.cfg.Concurrency = 1
	var ids []string
	for i := range 4 {
		ids = append(ids, b.add(t, map[string]any{"key": "k", "n": fmt.Sprint(i)}))
	}
	cancel, done := b.run(t)
	t.Cleanup(cancel)
	require.Equal(t, ids[0], <-started)
	require.Eventually(t, func() bool { return b.pending(t) == int64(len(ids)) }, 10*time.Second, 10*time.Millisecond, "all entries read")

	// Stop while the first entry runs: it finishes and is acknowledged;
	// the entries queued behind it do not begin and stay pending.
	cancel()
	close(release)
	require.NoError(t, <-done)

	require.Len(t, b.h.entries(), 1, "only the running entry was handled")
	d := b.deliveries(t)
	require.Len(t, d, len(ids)-1)
	require.NotContains(t, d, ids[0], "the running entry was acknowledged")
	require.Empty(t, b.deadLetters(t))
}

func indexOf(ids []string, id string) int {
	for i, v := range ids {
		if v == id {
			return i
		}
	}
	return -1
}
