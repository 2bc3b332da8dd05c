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
			Space:            space,
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
	ctx, cancel := context.WithCancel(context.Background())
	c := pipeline.NewConsumer(b.cfg, b.rdb, b.h, zaptest.NewLogger(t))
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
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

func indexOf(ids []string, id string) int {
	for i, v := range ids {
		if v == id {
			return i
		}
	}
	return -1
}
