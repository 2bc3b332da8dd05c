package main

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/services/actions/webhook"
)

func TestPercentiles(t *testing.T) {
	t.Parallel()
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	p := percentilesOf(d)
	require.Equal(t, percentiles{n: 100, p50: 50 * time.Millisecond, p90: 90 * time.Millisecond, p99: 99 * time.Millisecond, max: 100 * time.Millisecond}, p)
	require.Equal(t, percentiles{}, percentilesOf(nil))
	one := percentilesOf([]time.Duration{time.Second})
	require.Equal(t, time.Second, one.p50)
	require.Equal(t, time.Second, one.p99)
}

func TestMeasuredIndex(t *testing.T) {
	t.Parallel()
	for key, want := range map[string]int{"bench-0": 0, "bench-9": 9} {
		i, ok := measuredIndex(key, 10)
		require.True(t, ok, key)
		require.Equal(t, want, i)
	}
	for _, key := range []string{"bench-10", "bench--1", "bench-01", "bench-", "warmup-1", ""} {
		_, ok := measuredIndex(key, 10)
		require.False(t, ok, key)
	}
}

// The receiver counts deliveries by key and flags duplicates, unknown keys
// and bad signatures.
func TestReceiverCheck(t *testing.T) {
	t.Parallel()
	secret := []byte(strings.Repeat("k", 32))
	r := newReceiver(secret, time.Now(), 3)
	t.Cleanup(r.close)
	post := func(key string, sign bool) {
		t.Helper()
		body := `{"idempotency_key":"` + key + `"}`
		req, err := http.NewRequest(http.MethodPost, r.srv.URL, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set(webhook.HeaderIdempotencyKey, key)
		req.Header.Set(webhook.HeaderTimestamp, "1")
		if sign {
			req.Header.Set(webhook.HeaderSignature, webhook.Sign(secret, "1", []byte(body)))
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
	post("bench-0", true)
	post("bench-1", true)
	post("warmup-0", true)
	require.Equal(t, 2, r.measuredDelivered())
	require.Equal(t, 1, r.warmupDelivered())
	require.Equal(t, deliveryCheck{once: 2, missing: 1}, r.check())
	require.False(t, r.check().ok())

	post("bench-2", true)
	require.True(t, r.check().ok())
	post("bench-2", true)
	post("warmup-0", true)
	post("other", false)
	require.Equal(t, deliveryCheck{once: 2, duplicated: 1, warmupDuplicated: 1, unknown: 1, badSignatures: 1}, r.check())
}

func TestWaitFor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	far := time.Now().Add(time.Minute)
	n := 0
	require.NoError(t, waitFor(ctx, "x", 3, far, time.Minute, time.Millisecond, func() (int, error) { n++; return n, nil }))
	require.ErrorContains(t, waitFor(ctx, "x", 3, far, 10*time.Millisecond, time.Millisecond, func() (int, error) { return 1, nil }),
		"waiting for x: stuck at 1 of 3")
	require.ErrorContains(t, waitFor(ctx, "x", 3, time.Now(), time.Minute, time.Millisecond, func() (int, error) { return 2, nil }),
		"waiting for x: 2 of 3 at the -timeout")
	gone := errors.New("plane exited")
	require.ErrorIs(t, waitFor(ctx, "x", 3, far, time.Minute, time.Millisecond, func() (int, error) { return 0, gone }), gone)
}

func TestPlaneSettings(t *testing.T) {
	t.Parallel()
	help := `
      --actions-workers int                        webhook jobs run at once, the "webhook" queue's workers (ALEXUS_ACTIONS_WORKERS) (default 32)
      --postgres-max-conns int                     Postgres pool size; 0 means pgx's default (ALEXUS_POSTGRES_MAX_CONNS)
`
	require.Equal(t, []string{
		"ALEXUS_ACTIONS_WORKERS=256 (-plane-env; default 32)",
		"ALEXUS_POSTGRES_MAX_CONNS=0 (default: the action plane takes workers + 16)",
	}, planeSettings(help, []string{"ALEXUS_ACTIONS_WORKERS=256"}))
}
