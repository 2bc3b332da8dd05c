package main

import "github.com/alexus-platform/alexus/bench/internal/harness"

// reportedSettings are the settings that bound the orchestrator's
// throughput, listed in the report with the value the run used.
var reportedSettings = []string{
	"ALEXUS_ORCHESTRATOR_CONCURRENCY",
	"ALEXUS_ORCHESTRATOR_READ_COUNT",
	"ALEXUS_POSTGRES_MAX_CONNS",
	"ALEXUS_ACTIONS_WORKERS",
}

// planeSettings reads the reported settings' defaults from a plane's help
// text and says, for each, the value the run used: its default, or what a
// -plane-env set. A setting the help does not list is left out.
func planeSettings(help string, planeEnv []string) []string {
	return harness.PlaneSettings(help, planeEnv, reportedSettings, map[string]string{
		"ALEXUS_POSTGRES_MAX_CONNS": "default: pgx's, max(4, cores) per plane; the action plane takes workers + 16",
	})
}
