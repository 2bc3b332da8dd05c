package main

import (
	"errors"
	"flag"
	"os"
	"time"

	"github.com/alexus-platform/alexus/bench/internal/harness"
)

// options are the command-line flags.
type options struct {
	// Flags are the stack's: stores, planes' log level and settings, and
	// how long a plane may take to become ready.
	harness.Flags
	// RunFlags are the run's: binary, deadline, profiling, -keep.
	harness.RunFlags
	signals int
	warmup  int
	poll    time.Duration
	floor   bool
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench/orchestrator", flag.ContinueOnError)
	fs.IntVar(&o.signals, "n", 20000, "OPENED signals written to the tenant's stream before the orchestrator starts")
	fs.IntVar(&o.warmup, "warmup", 1000, "signals run through the pipeline first, before ANALYZE and the measured backlog (0: measure a freshly migrated, never analysed database)")
	o.Flags.Register(fs, "ALEXUS_ORCHESTRATOR_CONCURRENCY=128", "plane")
	fs.DurationVar(&o.poll, "poll", 200*time.Millisecond, "how often the consumer group's progress is read")
	fs.BoolVar(&o.floor, "floor", true, "after the run, measure the storage floor: Postgres's CPU to store every row the run stored once more, in bulk (see README.md)")
	o.RunFlags.Register(fs, harness.RunUsage{
		Timeout:        "give up when the backlog is not decided within this long",
		Profile:        "folder to write CPU profiles of the orchestrator and actions planes to, taken during the drain (off when empty)",
		ProfileSeconds: "length of the -profile CPU profiles",
		Keep:           "leave the database, the Redis namespace and the planes' logs in place for inspection (the planes are stopped all the same)",
	})
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case o.signals < 1:
		return o, errors.New("-n must be at least 1")
	case o.warmup < 0:
		return o, errors.New("-warmup must not be negative")
	case o.poll <= 0:
		return o, errors.New("-poll must be positive")
	}
	return o, o.RunFlags.Validate()
}

func main() {
	os.Exit(harness.Main("bench/orchestrator", os.Args[1:], parseFlags, bench))
}
