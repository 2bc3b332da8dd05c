package ingest_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/internal/rediskey"
	"github.com/alexus-platform/alexus/internal/redistest"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/ingest"
)

// Two replicas, each with its own Redis connections and shared pipelines,
// receiving the same new alert many times at once make exactly one signal:
// one OPENED, every other delivery REPEATED of it, and one stream entry per
// delivery.
func TestReplicasReceivingTheSameAlertMakeOneSignal(t *testing.T) {
	t.Parallel()
	rdb, ns := redistest.New(t)
	other := redis.NewClient(rdb.Options())
	t.Cleanup(func() { _ = other.Close() })
	cfg := ingest.DefaultConfig()
	cfg.Namespace = ns
	cfg.RatePerSecond, cfg.RateBurst = 1_000_000, 1_000_000
	replicas := []*ingest.Ingester{
		ingest.NewIngester(cfg, zap.NewNop(), rdb, nil),
		ingest.NewIngester(cfg, zap.NewNop(), other, nil),
	}
	ctx := tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: "acme", Subject: "test"})

	const perReplica = 40
	for round := range 5 {
		payload := []byte(fmt.Sprintf(`{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"Race","round":"%d"},"startsAt":"2026-11-29T05:00:00Z","fingerprint":"race%04d"}]}`, round, round))
		var wg sync.WaitGroup
		results := make(chan ingest.Result, 2*perReplica)
		errs := make(chan error, 2*perReplica)
		for _, r := range replicas {
			for range perReplica {
				wg.Add(1)
				go func() {
					defer wg.Done()
					res, err := r.Ingest(ctx, "alertmanager", payload, nil)
					if err != nil {
						errs <- err
						return
					}
					results <- res[0]
				}()
			}
		}
		wg.Wait()
		close(results)
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		opened, repeated, ids := 0, 0, map[string]bool{}
		for r := range results {
			switch r.Kind {
			case signalv1.EventKind_EVENT_KIND_OPENED:
				opened++
			case signalv1.EventKind_EVENT_KIND_REPEATED:
				repeated++
			}
			ids[r.SignalID] = true
		}
		require.Equal(t, 1, opened, "round %d", round)
		require.Equal(t, 2*perReplica-1, repeated, "round %d", round)
		require.Len(t, ids, 1, "every delivery names the one signal")
	}
	n, err := rdb.XLen(context.Background(), ns.Tenant("acme", rediskey.SignalStream)).Result()
	require.NoError(t, err)
	require.Equal(t, int64(5*2*perReplica), n)
}
