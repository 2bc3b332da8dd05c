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
	// Flags are the stack's: stores, the plane's log level and settings,
	// and how long it may take to become ready.
	harness.Flags
	actions        int
	callers        int
	warmup         int
	bin            string
	timeout        time.Duration
	profileDir     string
	profileSeconds int
	keep           bool
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench/actions", flag.ContinueOnError)
	fs.IntVar(&o.actions, "n", 20000, "webhook actions submitted in the measured phase, each with its own idempotency key")
	fs.IntVar(&o.callers, "c", 64, "concurrent ExecuteAction callers")
	fs.IntVar(&o.warmup, "warmup", 1000, "actions submitted and delivered first, outside the measurement")
	o.Register(fs, "ALEXUS_ACTIONS_WORKERS=256", "plane")
	fs.StringVar(&o.bin, "bin", "", "alexus binary to run instead of building ./cmd/alexus")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Minute, "give up when the actions are not all delivered and SUCCEEDED within this long")
	fs.StringVar(&o.profileDir, "profile", "", "folder to write a CPU profile of the action plane to, taken from the start of the measured phase (off when empty)")
	fs.IntVar(&o.profileSeconds, "profile-seconds", 10, "length of the -profile CPU profile")
	fs.BoolVar(&o.keep, "keep", false, "leave the database, the Redis namespace and the plane's log in place for inspection (the plane is stopped all the same)")
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
	case o.timeout <= 0:
		return o, errors.New("-timeout must be positive")
	case o.profileSeconds < 1:
		return o, errors.New("-profile-seconds must be at least 1")
	}
	return o, nil
}

func main() {
	os.Exit(harness.Main("bench/actions", os.Args[1:], parseFlags, bench))
}
