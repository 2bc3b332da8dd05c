package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLimitEnv(t *testing.T) {
	t.Parallel()
	help := `
      --gateway-max-body-bytes int                 largest request body (ALEXUS_GATEWAY_MAX_BODY_BYTES) (default 1048576)
      --ingest-dedup-window duration               how long repeats of a firing alert count as duplicates (ALEXUS_INGEST_DEDUP_WINDOW) (default 24h0m0s)
      --ingest-raw-payload-cap int                 bytes of raw payload kept per signal (ALEXUS_INGEST_RAW_PAYLOAD_CAP) (default 65536)
      --ingest-rate-per-second int                 payloads per second per tenant (ALEXUS_INGEST_RATE_PER_SECOND) (default 500)
      --ingest-rate-burst int                      burst (ALEXUS_INGEST_RATE_BURST) (default 1000)
      --ingest-max-in-flight int                   calls at once (ALEXUS_INGEST_MAX_IN_FLIGHT) (default 64)
      --ingest-max-in-flight-per-tenant int        calls at once per tenant (ALEXUS_INGEST_MAX_IN_FLIGHT_PER_TENANT) (default 16)
      --orchestrator-concurrency int               entries processed at once (ALEXUS_ORCHESTRATOR_CONCURRENCY) (default 64)
`
	env, notes := limitEnv(help, 32)
	require.Equal(t, []string{
		"ALEXUS_INGEST_RATE_PER_SECOND=1000000",
		"ALEXUS_INGEST_RATE_BURST=1000000",
		"ALEXUS_INGEST_MAX_IN_FLIGHT_PER_TENANT=32",
	}, env)
	require.Len(t, notes, 4)

	env, notes = limitEnv("      --ingest-max-batch-items int   most items (ALEXUS_INGEST_MAX_BATCH_ITEMS) (default 1000)\n", 32)
	require.Empty(t, env)
	require.Equal(t, []string{"alexus ingest --help lists no rate limit or in-flight bound"}, notes)
}
