package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPlaneSettings(t *testing.T) {
	t.Parallel()
	help := `
      --actions-workers int                        webhook jobs run at once (ALEXUS_ACTIONS_WORKERS) (default 32)
      --orchestrator-concurrency int               entries processed at once (ALEXUS_ORCHESTRATOR_CONCURRENCY) (default 64)
      --orchestrator-group string                  consumer group of the orchestrator replicas (default "orchestrator")
      --postgres-max-conns int                     Postgres pool size; 0 means pgx's default (ALEXUS_POSTGRES_MAX_CONNS)
`
	got := planeSettings(help, []string{"ALEXUS_ORCHESTRATOR_CONCURRENCY=128", "GOGC=400"})
	require.Equal(t, []string{
		"ALEXUS_ORCHESTRATOR_CONCURRENCY=128 (-plane-env; default 64)",
		"ALEXUS_POSTGRES_MAX_CONNS=0 (default: pgx's, max(4, cores) per plane; the action plane takes workers + 16)",
		"ALEXUS_ACTIONS_WORKERS=32 (default)",
	}, got)
}
