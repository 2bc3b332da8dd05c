package main

import "github.com/alexus-platform/alexus/bench/internal/harness"

// reportedSettings bound the action plane's throughput; the report lists
// them with the value the run used.
var reportedSettings = []string{
	"ALEXUS_ACTIONS_WORKERS",
	"ALEXUS_ACTIONS_POLL_INTERVAL",
	"ALEXUS_ACTIONS_WEBHOOK_TIMEOUT",
	"ALEXUS_POSTGRES_MAX_CONNS",
}

// planeSettings reads the reported settings' defaults from the plane's
// help text and says, for each, the value the run used: its default, or
// what a -plane-env set.
func planeSettings(help string, planeEnv []string) []string {
	return harness.PlaneSettings(help, planeEnv, reportedSettings, map[string]string{
		"ALEXUS_POSTGRES_MAX_CONNS": "default: the action plane takes workers + 16",
	})
}
