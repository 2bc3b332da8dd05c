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
	signals        int
	warmup         int
	bin            string
	timeout        time.Duration
	poll           time.Duration
	profileDir     string
	profileSeconds int
	keep           bool
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench/orchestrator", flag.ContinueOnError)
	fs.IntVar(&o.signals, "n", 20000, "OPENED signals written to the tenant's stream before the orchestrator starts")
	fs.IntVar(&o.warmup, "warmup", 1000, "signals run through the pipeline first, before ANALYZE and the measured backlog (0: measure a freshly migrated, never analysed database)")
	o.Register(fs, "ALEXUS_ORCHESTRATOR_CONCURRENCY=128", "plane")
	fs.StringVar(&o.bin, "bin", "", "alexus binary to run instead of building ./cmd/alexus")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Minute, "give up when the backlog is not decided within this long")
	fs.DurationVar(&o.poll, "poll", 200*time.Millisecond, "how often the consumer group's progress is read")
	fs.StringVar(&o.profileDir, "profile", "", "folder to write CPU profiles of the orchestrator and actions planes to, taken during the drain (off when empty)")
	fs.IntVar(&o.profileSeconds, "profile-seconds", 10, "length of the -profile CPU profiles")
	fs.BoolVar(&o.keep, "keep", false, "leave the database, the Redis namespace and the planes' logs in place for inspection (the planes are stopped all the same)")
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
	case o.timeout <= 0:
		return o, errors.New("-timeout must be positive")
	case o.profileSeconds < 1:
		return o, errors.New("-profile-seconds must be at least 1")
	}
	return o, nil
}

func main() {
	os.Exit(harness.Main("bench/orchestrator", os.Args[1:], parseFlags, bench))
}
