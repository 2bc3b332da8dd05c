package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/alexus-platform/alexus/services/orchestrator"
	"github.com/alexus-platform/alexus/services/orchestrator/reasoning"
)

// options are the command-line flags.
type options struct {
	root      string
	generate  bool
	executeAt float64
	clarifyAt float64
	verbose   bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	def := orchestrator.DefaultConfig()
	var o options
	fs := flag.NewFlagSet("bench/triage", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.root, "root", ".", "repository root, where testdata/triage is")
	fs.BoolVar(&o.generate, "generate", false, "rewrite testdata/triage/cases.json from the catalogue and exit")
	fs.Float64Var(&o.executeAt, "execute-at", def.ExecuteAt, "confidence at or above which an action executes (the orchestrator's default)")
	fs.Float64Var(&o.clarifyAt, "clarify-at", def.ClarifyAt, "confidence at or above which a person is asked (the orchestrator's default)")
	fs.BoolVar(&o.verbose, "v", false, "also print every case's normalised signal and answer to stderr")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if !(o.executeAt > 0 && o.executeAt <= 1) || !(o.clarifyAt >= 0 && o.clarifyAt <= o.executeAt) {
		return o, errors.New("want 0 <= -clarify-at <= -execute-at <= 1 and -execute-at > 0")
	}
	return o, nil
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "bench/triage:", err)
		return 2
	}
	path := casesPath(o.root)
	if o.generate {
		set, err := generate()
		if err == nil {
			err = writeSet(path, set)
		}
		if err != nil {
			fmt.Fprintln(stderr, "bench/triage:", err)
			return 1
		}
		fmt.Fprintf(stderr, "wrote %d cases to %s\n", len(set.Cases), path)
		return 0
	}
	set, err := loadSet(path)
	if err == nil {
		err = set.validate()
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench/triage:", err)
		return 1
	}
	th := reasoning.Thresholds{ExecuteAt: o.executeAt, ClarifyAt: o.clarifyAt}
	results, err := evaluate(context.Background(), set, th)
	if err != nil {
		fmt.Fprintln(stderr, "bench/triage:", err)
		return 1
	}
	if o.verbose {
		for _, r := range results {
			fmt.Fprintf(stderr, "%-8s %-14s %-22q want %s/%s/%s got %s/%s/%s conf %.2f; %s\n", r.Case.ID, r.Case.Source, truncate(r.Got.Title, 60),
				r.Case.Expected.Intent, r.Case.Expected.Severity, r.Case.Expected.Decision,
				r.Got.Intent, r.Got.Severity, r.Got.Decision, r.Got.Confidence, r.Got.Rationale)
		}
	}
	writeReport(stdout, set, score(results), th, os.Getenv("ALEXUS_LLM_BASE_URL"))
	return 0
}
