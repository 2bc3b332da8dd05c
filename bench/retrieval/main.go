package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/alexus-platform/alexus/internal/graph"
	"github.com/alexus-platform/alexus/internal/store/storetest"
)

// options are the command-line flags.
type options struct {
	postgresURL    string
	root           string
	generate       bool
	quality        bool
	latency        bool
	dim            int
	k              int
	latencyDocs    int
	otherTenants   int
	otherDocs      int
	latencyQueries int
	recallQueries  int
	keepDB         bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench/retrieval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.postgresURL, "postgres-url", storetest.AdminURL(), "admin URL of the Postgres server (default: ALEXUS_TEST_POSTGRES_URL, else ALEXUS_POSTGRES_URL, else storetest's default); alexus_bench_retrieval_<rand> is created on it and dropped at the end")
	fs.StringVar(&o.root, "root", ".", "repository root, where testdata/retrieval is")
	fs.BoolVar(&o.generate, "generate", false, "regenerate testdata/retrieval/{corpus,queries}.json from the catalogue and exit")
	fs.BoolVar(&o.quality, "quality", true, "run the labelled queries and report nDCG and recall")
	fs.BoolVar(&o.latency, "latency", true, "run the latency benchmark at -latency-docs documents")
	fs.IntVar(&o.dim, "dim", graph.DefaultDimension, "dimension of the local embedder (and of the latency run)")
	fs.IntVar(&o.k, "k", 10, "results per query, and the cut-off of nDCG and recall")
	fs.IntVar(&o.latencyDocs, "latency-docs", 20_000, "documents of the measured tenant in the latency run")
	fs.IntVar(&o.otherTenants, "other-tenants", 9, "other tenants present in the latency run")
	fs.IntVar(&o.otherDocs, "other-docs", 2_000, "documents of each other tenant")
	fs.IntVar(&o.latencyQueries, "latency-queries", 500, "timed hybrid searches in the latency run")
	fs.IntVar(&o.recallQueries, "recall-queries", 200, "vector searches checked against a brute-force top-k")
	fs.BoolVar(&o.keepDB, "keep-db", false, "leave the database in place at the end (its name is printed)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case o.dim < 64:
		return o, errors.New("-dim must be at least 64 (the local embedder's minimum)")
	case o.k < 1 || o.k > graph.MaxK:
		return o, fmt.Errorf("-k must be between 1 and %d", graph.MaxK)
	case o.latencyDocs < o.k || o.otherTenants < 0 || o.otherDocs < 0:
		return o, errors.New("-latency-docs must be at least -k, -other-tenants and -other-docs not negative")
	case o.latencyQueries < 1 || o.recallQueries < 0:
		return o, errors.New("-latency-queries must be at least 1, -recall-queries not negative")
	}
	return o, nil
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	o, err := parseFlags(args, os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(os.Stderr, "bench/retrieval:", err)
		return 2
	}
	if o.generate {
		c, q, err := writeCorpus(o.root)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench/retrieval:", err)
			return 1
		}
		fmt.Fprintf(os.Stderr, "wrote %d documents and %d queries under %s/testdata/retrieval\n", len(c.Docs), len(q.Queries), o.root)
		return 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := bench(ctx, o, os.Stderr)
	rep.print(os.Stdout)
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(os.Stderr, "bench/retrieval: interrupted; the database was dropped")
		return 130
	case err != nil:
		fmt.Fprintln(os.Stderr, "bench/retrieval:", err)
		return 1
	}
	return 0
}
