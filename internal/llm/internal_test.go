package llm

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/tenant"
)

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		headers map[string]string
		want    time.Duration
		ok      bool
	}{
		{"none", nil, 0, false},
		{"seconds", map[string]string{"Retry-After": "7"}, 7 * time.Second, true},
		{"fractional seconds", map[string]string{"Retry-After": "0.25"}, 250 * time.Millisecond, true},
		{"milliseconds first", map[string]string{"Retry-After-Ms": "1500", "Retry-After": "9"}, 1500 * time.Millisecond, true},
		{"bad milliseconds fall back", map[string]string{"Retry-After-Ms": "soon", "Retry-After": "2"}, 2 * time.Second, true},
		{"http date", map[string]string{"Retry-After": now.Add(30 * time.Second).Format(http.TimeFormat)}, 30 * time.Second, true},
		{"past date", map[string]string{"Retry-After": now.Add(-time.Minute).Format(http.TimeFormat)}, 0, false},
		{"capped seconds", map[string]string{"Retry-After": "3600"}, time.Minute, true},
		{"capped huge", map[string]string{"Retry-After": "1e300"}, time.Minute, true},
		{"zero", map[string]string{"Retry-After": "0"}, 0, false},
		{"negative", map[string]string{"Retry-After": "-5"}, 0, false},
		{"garbage", map[string]string{"Retry-After": "later"}, 0, false},
		{"infinite", map[string]string{"Retry-After": "+Inf"}, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			for k, v := range tc.headers {
				h.Set(k, v)
			}
			got, ok := retryAfter(h, now, time.Minute)
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.want, got)
		})
	}
}

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
