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
	// how long a process may take to become ready.
	harness.Flags
	mix             string
	dup             float64
	concurrency     int
	requests        int
	duration        time.Duration
	rate            float64
	timeout         time.Duration
	ceiling         bool
	alertmanager    bool
	alertmanagerBin string
	settle          time.Duration
	rounds          int
	seed            uint64
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench/ingest", flag.ContinueOnError)
	o.Register(fs, "ALEXUS_POSTGRES_MAX_CONNS=16", "process")
	fs.StringVar(&o.mix, "mix", "", "sources and weights, e.g. alertmanager=5,generic=1 (default: every registered source with a generator, weighted by defaultWeights)")
	fs.Float64Var(&o.dup, "dup", 0.3, "share of requests that repeat an earlier accepted alert's payload (0-1)")
	fs.IntVar(&o.concurrency, "c", 32, "concurrent keep-alive connections, one request in flight on each")
	fs.IntVar(&o.requests, "n", 200000, "requests per system (ignored when -d is set)")
	fs.DurationVar(&o.duration, "d", 0, "run each system for this long instead of -n requests")
	fs.Float64Var(&o.rate, "rate", 0, "pace all connections together to at most this many requests/s (0: as fast as answers come)")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "client timeout of one request")
	fs.BoolVar(&o.ceiling, "ceiling", true, "also measure the bare net/http + pipelined XADD ceiling")
	fs.BoolVar(&o.alertmanager, "alertmanager", false, "also drive Prometheus Alertmanager's v2 API with the same alerts")
	fs.StringVar(&o.alertmanagerBin, "alertmanager-bin", "", "alertmanager binary (default: alertmanager, else prometheus-alertmanager, on PATH)")
	fs.DurationVar(&o.settle, "settle", 3*time.Second, "pause before each system's run, so the previous one's work has drained")
	fs.IntVar(&o.rounds, "rounds", 1, "split -n (or -d) into this many rounds, the systems taking turns, so background load on a shared machine weighs on each alike")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the duplicate choice")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case o.dup < 0 || o.dup > 1:
		return o, errors.New("-dup must be between 0 and 1")
	case o.concurrency < 1:
		return o, errors.New("-c must be at least 1")
	case o.duration <= 0 && o.requests < 1:
		return o, errors.New("-n must be at least 1, or set -d")
	case o.rounds < 1 || (o.duration <= 0 && o.rounds > o.requests):
		return o, errors.New("-rounds must be at least 1 and at most -n")
	}
	return o, nil
}

func main() {
	os.Exit(harness.Main("bench/ingest", os.Args[1:], parseFlags, bench))
}
