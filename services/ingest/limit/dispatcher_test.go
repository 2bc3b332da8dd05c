package limit_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/ingest/limit"
)

func acquire(t *testing.T, d *limit.Dispatcher, ten tenant.ID) func() {
	t.Helper()
	release, err := d.Acquire(context.Background(), ten)
	require.NoError(t, err)
	return release
}

func TestDispatcherTenantShare(t *testing.T) {
	t.Parallel()
	d := limit.NewDispatcher(4, 2, 0)
	a1 := acquire(t, d, "acme")
	a2 := acquire(t, d, "acme")

	_, err := d.Acquire(context.Background(), "acme")
	r := requireRefusal(t, err, limit.ReasonTenantBusy)
	require.Equal(t, limit.BusyRetryAfter, r.RetryAfter)
	b1 := acquire(t, d, "beta")

	a1()
	a1() // a second release gives nothing back twice
	ofAcme, total := d.InFlight("acme")
	require.Equal(t, 1, ofAcme)
	require.Equal(t, 2, total)
	a3 := acquire(t, d, "acme")
	_, err = d.Acquire(context.Background(), "acme")
	requireRefusal(t, err, limit.ReasonTenantBusy)

	a2()
	a3()
	b1()
	ofAcme, total = d.InFlight("acme")
	require.Zero(t, ofAcme)
	require.Zero(t, total)
}

func TestDispatcherReplicaFull(t *testing.T) {
	t.Parallel()
	d := limit.NewDispatcher(2, 2, 0)
	a := acquire(t, d, "acme")
	b := acquire(t, d, "beta")
	// Gamma holds nothing, but the replica is full.
	_, err := d.Acquire(context.Background(), "gamma")
	requireRefusal(t, err, limit.ReasonIngestBusy)
	// Acme is at neither limit's share, and still gets INGEST_BUSY.
	_, err = d.Acquire(context.Background(), "acme")
	requireRefusal(t, err, limit.ReasonIngestBusy)
	b()
	acquire(t, d, "gamma")()
	a()
}

func TestDispatcherWaitsForASlot(t *testing.T) {
	t.Parallel()
	// The wait is long enough never to expire in this test; the slot is
	// given back by the test, not by time.
	d := limit.NewDispatcher(1, 1, time.Minute)
	hold := acquire(t, d, "acme")

	got := make(chan error, 1)
	go func() {
		release, err := d.Acquire(context.Background(), "beta")
		if err == nil {
			release()
		}
		got <- err
	}()
	hold()
	require.NoError(t, <-got)
}

func TestDispatcherWaitEnds(t *testing.T) {
	t.Parallel()
	d := limit.NewDispatcher(2, 1, 20*time.Millisecond)
	hold := acquire(t, d, "acme")
	defer hold()

	start := time.Now()
	_, err := d.Acquire(context.Background(), "acme")
	requireRefusal(t, err, limit.ReasonTenantBusy)
	require.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond, "it waited")

	long := limit.NewDispatcher(1, 1, time.Minute)
	holdLong := acquire(t, long, "acme")
	defer holdLong()
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan error, 1)
	go func() {
		_, err := long.Acquire(ctx, "acme")
		got <- err
	}()
	cancel()
	require.ErrorIs(t, <-got, context.Canceled)
}

// TestDispatcherUnderContention hammers the dispatcher from many goroutines
// of a few tenants and checks, with counters of its own, that no tenant ever
// holds more than its share nor the replica more than its maximum.
func TestDispatcherUnderContention(t *testing.T) {
	t.Parallel()
	const maxAll, perTenant, workers, rounds = 6, 3, 32, 200
	for _, wait := range []time.Duration{0, time.Millisecond} {
		d := limit.NewDispatcher(maxAll, perTenant, wait)
		tenants := []tenant.ID{"t0", "t1", "t2", "t3"}
		var total atomic.Int64
		var per [4]atomic.Int64
		var granted, refused atomic.Int64
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				k := w % len(tenants)
				for range rounds {
					release, err := d.Acquire(context.Background(), tenants[k])
					if err != nil {
						var r *limit.Refusal
						require.ErrorAs(t, err, &r)
						refused.Add(1)
						continue
					}
					granted.Add(1)
					if n := total.Add(1); n > maxAll {
						t.Errorf("%d calls in flight, more than %d", n, maxAll)
					}
					if n := per[k].Add(1); n > perTenant {
						t.Errorf("tenant %s has %d calls in flight, more than %d", tenants[k], n, perTenant)
					}
					per[k].Add(-1)
					total.Add(-1)
					release()
				}
			})
		}
		wg.Wait()
		require.Equal(t, int64(workers*rounds), granted.Load()+refused.Load())
		require.Positive(t, granted.Load())
		_, inFlight := d.InFlight("t0")
		require.Zero(t, inFlight, "every slot was given back")
	}
}
