package ingest_test

import (
	"context"
	"fmt"
	"testing"

	"go.uber.org/zap"

	"github.com/alexus-platform/alexus/internal/redistest"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/ingest"
)

// BenchmarkIngest measures the ingest path below gRPC on the real Redis:
// normalise one Alertmanager alert, then claim and append it in one script.
// "new" makes every alert a new signal (SET NX wins, XADD OPENED); "repeat"
// makes every alert a duplicate of the first (XADD REPEATED). Both run with
// the rate limit off; "new+rate" is "new" with a rate charge that never
// refuses, made by the same script, to show what the limit costs.
func BenchmarkIngest(b *testing.B) {
	rdb, ns := redistest.New(b)
	ctx := tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: "bench", Subject: "bench"})

	for _, mode := range []string{"new", "repeat", "new+rate"} {
		b.Run(mode, func(b *testing.B) {
			cfg := ingest.DefaultConfig()
			cfg.Namespace = ns
			cfg.RatePerSecond = 0
			if mode == "new+rate" {
				cfg.RatePerSecond, cfg.RateBurst = 1<<30, 1<<30
			}
			ing := ingest.NewIngester(cfg, zap.NewNop(), rdb, nil)
			payloads := make([][]byte, b.N)
			for i := range payloads {
				fp := "bench0000"
				if mode != "repeat" {
					fp = fmt.Sprintf("%s%08x", mode, i)
				}
				payloads[i] = []byte(fmt.Sprintf(`{"version":"4","status":"firing","receiver":"r","groupKey":"g","alerts":[{"status":"firing","labels":{"alertname":"HighLatency","severity":"warning","instance":"api-%d:8080"},"annotations":{"summary":"p99 above 2s"},"startsAt":"2026-11-29T05:00:00Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":%q}]}`, i%50, fp))
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if _, err := ing.Ingest(ctx, "alertmanager", payloads[i], nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
