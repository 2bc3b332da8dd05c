package autopipe_test

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/redistest"
	"github.com/alexus-platform/alexus/services/ingest/autopipe"
)

// Many concurrent callers each get their own commands' results, in order,
// whatever pipeline carried them.
func TestConcurrentCallersGetTheirOwnResults(t *testing.T) {
	t.Parallel()
	rdb, space := redistest.New(t)
	p := autopipe.New(rdb)
	ctx := context.Background()

	const callers, rounds = 64, 50
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for c := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprintf("%s:counter:%d", space, c)
			for r := range rounds {
				incr := redis.NewIntCmd(ctx, "incr", key)
				get := redis.NewStringCmd(ctx, "get", key)
				p.Do(ctx, nil, incr, get)
				if incr.Val() != int64(r+1) || get.Val() != fmt.Sprint(r+1) {
					errs <- fmt.Errorf("caller %d round %d: incr %d (%v), get %q (%v)", c, r, incr.Val(), incr.Err(), get.Val(), get.Err())
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

// Equal shared commands in one pipeline run once and all report its error;
// each caller's own commands still run.
func TestSharedCommandRunsOnce(t *testing.T) {
	t.Parallel()
	rdb, space := redistest.New(t)
	p := autopipe.New(rdb)
	ctx := context.Background()
	set := string(space) + ":set"

	const callers = 32
	var wg sync.WaitGroup
	shared := make([]*redis.IntCmd, callers)
	for c := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			shared[c] = redis.NewIntCmd(ctx, "sadd", set, "member")
			p.Do(ctx, &autopipe.Shared{Key: set + "/member", Cmd: shared[c]}, redis.NewIntCmd(ctx, "incr", string(space)+":n"))
		}()
	}
	wg.Wait()
	added := int64(0)
	for _, c := range shared {
		require.NoError(t, c.Err())
		added += c.Val()
	}
	require.Equal(t, int64(1), added, "the member is added once, by the first SADD sent")
	n, err := rdb.Get(ctx, string(space)+":n").Int()
	require.NoError(t, err)
	require.Equal(t, callers, n)
}

// When Redis is down, every command of every caller carries the error and
// no caller hangs.
func TestRedisDownFailsEveryCommand(t *testing.T) {
	t.Parallel()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := lis.Addr().String()
	require.NoError(t, lis.Close())
	rdb := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	p := autopipe.New(rdb)
	ctx := context.Background()

	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := redis.NewIntCmd(ctx, "incr", "k")
			p.Do(ctx, nil, cmd)
			require.Error(t, cmd.Err())
		}()
	}
	wg.Wait()
}

// panicOnce makes the first pipeline panic inside the client.
type panicOnce struct{ done bool }

func (h *panicOnce) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *panicOnce) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return next
}
func (h *panicOnce) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if !h.done {
			h.done = true
			panic("boom")
		}
		return next(ctx, cmds)
	}
}

// A pipeline that panics fails its commands and gives its slot back, so
// later callers are not stuck behind it.
func TestPanicFailsTheBatchAndFreesTheSlot(t *testing.T) {
	t.Parallel()
	rdb, space := redistest.New(t)
	rdb.AddHook(&panicOnce{})
	p := autopipe.New(rdb)
	ctx := context.Background()

	first := redis.NewIntCmd(ctx, "incr", string(space)+":n")
	p.Do(ctx, nil, first)
	require.ErrorContains(t, first.Err(), "boom")

	second := redis.NewIntCmd(ctx, "incr", string(space)+":n")
	p.Do(ctx, nil, second)
	require.NoError(t, second.Err())
	require.Equal(t, int64(1), second.Val())
}
