package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// options are the command-line flags.
type options struct {
	signals        int
	warmup         int
	postgresURL    string
	redisURL       string
	logLevel       string
	planeEnv       envList
	bin            string
	readyTimeout   time.Duration
	timeout        time.Duration
	poll           time.Duration
	profileDir     string
	profileSeconds int
	keep           bool
}

// envList is a repeatable KEY=VALUE flag.
type envList []string

func (e *envList) String() string { return strings.Join(*e, " ") }

func (e *envList) Set(v string) error {
	if k, _, ok := strings.Cut(v, "="); !ok || k == "" {
		return fmt.Errorf("%q is not KEY=VALUE", v)
	}
	*e = append(*e, v)
	return nil
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench/orchestrator", flag.ContinueOnError)
	fs.IntVar(&o.signals, "n", 20000, "OPENED signals written to the tenant's stream before the orchestrator starts")
	fs.IntVar(&o.warmup, "warmup", 1000, "signals run through the pipeline first, before ANALYZE and the measured backlog (0: measure a freshly migrated, never analysed database)")
	fs.StringVar(&o.postgresURL, "postgres-url", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "admin URL of the Postgres server; a fresh database alexus_bench_<rand> is created on it and dropped at the end")
	fs.StringVar(&o.redisURL, "redis-url", "redis://127.0.0.1:6379/0", "Redis URL; everything goes under a fresh namespace deleted at the end")
	fs.StringVar(&o.logLevel, "log-level", "info", "ALEXUS_LOG_LEVEL of the planes (info is the production default)")
	fs.Var(&o.planeEnv, "plane-env", "extra KEY=VALUE for both planes, e.g. ALEXUS_ORCHESTRATOR_CONCURRENCY=128 (repeatable)")
	fs.StringVar(&o.bin, "bin", "", "alexus binary to run instead of building ./cmd/alexus")
	fs.DurationVar(&o.readyTimeout, "ready-timeout", time.Minute, "how long each plane may take to become ready")
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
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	o, err := parseFlags(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(os.Stderr, "bench/orchestrator:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := bench(ctx, o, os.Stderr)
	if rep != nil {
		rep.print(os.Stdout)
	}
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(os.Stderr, "bench/orchestrator: interrupted; everything it started was stopped and removed")
		return 130
	case errors.Is(err, errMismatch):
		return 1
	case err != nil:
		fmt.Fprintln(os.Stderr, "bench/orchestrator:", err)
		return 1
	}
	return 0
}
