package main

import (
	"errors"
	"flag"
	"os"

	"github.com/alexus-platform/alexus/bench/internal/harness"
)

// options are the command-line flags.
type options struct {
	// Flags are the stack's: stores, the plane's log level and settings,
	// and how long it may take to become ready.
	harness.Flags
	// RunFlags are the run's: binary, deadline, profiling, -keep.
	harness.RunFlags
	actions int
	callers int
	warmup  int
	// drain pauses the webhook queue while the measured actions are
	// submitted, then resumes it and measures the jobs draining.
	drain bool
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench/actions", flag.ContinueOnError)
	fs.IntVar(&o.actions, "n", 20000, "webhook actions submitted in the measured phase, each with its own idempotency key")
	fs.IntVar(&o.callers, "c", 64, "concurrent ExecuteAction callers")
	fs.IntVar(&o.warmup, "warmup", 1000, "actions submitted and delivered first, outside the measurement")
	fs.BoolVar(&o.drain, "drain", false, "submit the measured actions with the webhook queue paused, then resume it and measure the job throughput draining that backlog (CPU and the profile then cover the drain only)")
	o.Flags.Register(fs, "ALEXUS_ACTIONS_WORKERS=256", "plane")
	o.RunFlags.Register(fs, harness.RunUsage{
		Timeout:        "give up when the actions are not all delivered and SUCCEEDED within this long",
		Profile:        "folder to write a CPU profile of the action plane to, taken from the start of the measured phase (off when empty)",
		ProfileSeconds: "length of the -profile CPU profile",
		Keep:           "leave the database, the Redis namespace and the plane's log in place for inspection (the plane is stopped all the same)",
	})
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case o.actions < 1:
		return o, errors.New("-n must be at least 1")
	case o.callers < 1:
		return o, errors.New("-c must be at least 1")
	case o.warmup < 0:
		return o, errors.New("-warmup must not be negative")
	}
	return o, o.RunFlags.Validate()
}

func main() {
	os.Exit(harness.Main("bench/actions", os.Args[1:], parseFlags, bench))
}
