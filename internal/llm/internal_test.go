package llm

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/tenant"
)

func TestUnfence(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`{"a":1}`:                      `{"a":1}`,
		"  {\"a\":1}\n":                `{"a":1}`,
		"```json\n{\"a\":1}\n```":      `{"a":1}`,
		"```Json \n{\"a\":1}```":       `{"a":1}`,
		"```\n{\"a\":1}\n```":          `{"a":1}`,
		"```json {\"a\":1}```":         "```json {\"a\":1}```", // no newline after the tag
		"```python\n{\"a\":1}\n```":    "```python\n{\"a\":1}\n```",
		"note ```json\n{\"a\":1}\n```": "note ```json\n{\"a\":1}\n```",
		"```json\n{\"a\":1}\n``` note": "```json\n{\"a\":1}\n``` note",
		"``````":                       "``````",
		"```":                          "```",
	} {
		require.Equal(t, want, unfence(in), in)
	}
}

func TestLimiterForgetsIdleTenants(t *testing.T) {
	t.Parallel()
	l := newLimiter(time.Millisecond)
	ctx := context.Background()
	var releases []func()
	for _, id := range []string{"a", "b", "b"} {
		release, err := l.acquire(ctx, tenantID(id), 2)
		require.NoError(t, err)
		releases = append(releases, release)
	}
	require.Equal(t, 2, l.size())
	_, err := l.acquire(ctx, "b", 2)
	require.ErrorIs(t, err, ErrBusy)
	require.Equal(t, 2, l.size(), "a failed waiter leaves no trace")
	for _, r := range releases {
		r()
		r() // a second release is harmless
	}
	require.Zero(t, l.size())
}

func TestLimiterBoundsConcurrency(t *testing.T) {
	t.Parallel()
	l := newLimiter(time.Minute)
	var (
		mu            sync.Mutex
		inFlight, top int
		wg            sync.WaitGroup
	)
	for range 20 {
		wg.Go(func() {
			release, err := l.acquire(context.Background(), "a", 3)
			if err != nil {
				t.Error(err)
				return
			}
			defer release()
			mu.Lock()
			inFlight++
			top = max(top, inFlight)
			mu.Unlock()
			time.Sleep(2 * time.Millisecond)
			mu.Lock()
			inFlight--
			mu.Unlock()
		})
	}
	wg.Wait()
	require.Equal(t, 3, top)
	require.Zero(t, l.size())
}

func TestLimiterNoWait(t *testing.T) {
	t.Parallel()
	l := newLimiter(0)
	release, err := l.acquire(context.Background(), "a", 1)
	require.NoError(t, err)
	defer release()
	_, err = l.acquire(context.Background(), "a", 1)
	require.ErrorIs(t, err, ErrBusy)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = l.acquire(ctx, "z", 1)
	require.ErrorIs(t, err, context.Canceled)
}

func tenantID(s string) tenant.ID { return tenant.ID(s) }
