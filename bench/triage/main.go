package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/alexus-platform/alexus/services/orchestrator"
	"github.com/alexus-platform/alexus/services/orchestrator/reasoning"
)

// options are the command-line flags.
type options struct {
	root      string
	set       string
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
	fs.StringVar(&o.set, "set", "cases", "labelled set to score: cases (testdata/triage/cases.json, in-sample) or heldout (testdata/triage/heldout.json)")
	fs.BoolVar(&o.generate, "generate", false, "rewrite testdata/triage/cases.json and heldout.json from their catalogues and exit")
	fs.Float64Var(&o.executeAt, "execute-at", def.ExecuteAt, "confidence at or above which an action executes (the orchestrator's default)")
	fs.Float64Var(&o.clarifyAt, "clarify-at", def.ClarifyAt, "confidence at or above which a person is asked (the orchestrator's default)")
	fs.BoolVar(&o.verbose, "v", false, "also print every case's normalised signal and answer to stderr")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if !(o.executeAt > 0 && o.executeAt <= 1) || !(o.clarifyAt >= 0 && o.clarifyAt <= o.executeAt) {
		return o, errors.New("want 0 <= -clarify-at <= -execute-at <= 1 and -execute-at > 0")
	}
	if !slices.ContainsFunc(sets, func(s setSpec) bool { return s.name == o.set }) {
		return o, fmt.Errorf("-set %q: want cases or heldout", o.set)
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
	if o.generate {
		for _, sp := range sets {
			path := sp.path(o.root)
			set, err := sp.generate()
			if err == nil {
				err = writeSet(path, set)
			}
			if err != nil {
				fmt.Fprintln(stderr, "bench/triage:", err)
				return 1
			}
			fmt.Fprintf(stderr, "wrote %d cases to %s\n", len(set.Cases), path)
		}
		return 0
	}
	var path string
	for _, sp := range sets {
		if sp.name == o.set {
			path = sp.path(o.root)
		}
	}
	if o.set != "cases" {
		fmt.Fprintf(stderr, "bench/triage: scoring the %s set, %s\n", o.set, path)
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
	ctx := context.Background()
	h, err := handler(th, nil)
	if err != nil {
		fmt.Fprintln(stderr, "bench/triage:", err)
		return 1
	}
	results, err := evaluate(ctx, set, h)
	if err != nil {
		fmt.Fprintln(stderr, "bench/triage:", err)
		return 1
	}
	if o.verbose {
		printCases(stderr, "heuristic", results)
	}
	var model *modelRun
	if cfg := llmConfigFromEnv(); cfg.BaseURL != "" {
		model, err = runModel(ctx, set, th, cfg)
		if err != nil {
			fmt.Fprintln(stderr, "bench/triage:", err)
			return 1
		}
		if o.verbose {
			printCases(stderr, "model", model.results)
		}
	}
	writeReport(stdout, set, "testdata/triage/"+o.set+".json", score(results), th, model)
	return 0
}

func printCases(w io.Writer, path string, results []Result) {
	for _, r := range results {
		fmt.Fprintf(w, "%-9s %-8s %-14s %-22q want %s/%s/%s got %s/%s/%s conf %.2f; %s %s\n", path, r.Case.ID, r.Case.Source, truncate(r.Got.Title, 60),
			r.Case.Expected.Intent, r.Case.Expected.Severity, r.Case.Expected.Decision,
			r.Got.Intent, r.Got.Severity, r.Got.Decision, r.Got.Confidence, r.Got.Rationale, r.Got.Fallbacks[0])
	}
}

// llmConfigFromEnv reads the orchestrator's ALEXUS_LLM_* variables.
func llmConfigFromEnv() orchestrator.LLMConfig {
	cfg := orchestrator.DefaultConfig().LLM
	cfg.BaseURL = os.Getenv("ALEXUS_LLM_BASE_URL")
	cfg.Model = os.Getenv("ALEXUS_LLM_MODEL")
	cfg.APIKey = os.Getenv("ALEXUS_LLM_API_KEY")
	if d, err := time.ParseDuration(os.Getenv("ALEXUS_LLM_TIMEOUT")); err == nil {
		cfg.Timeout = d
	}
	cfg.JSONMode, _ = strconv.ParseBool(os.Getenv("ALEXUS_LLM_JSON_MODE"))
	return cfg
}

// runModel evaluates the set on the model path.
func runModel(ctx context.Context, set Set, th reasoning.Thresholds, cfg orchestrator.LLMConfig) (*modelRun, error) {
	if cfg.Model == "" {
		return nil, errors.New("ALEXUS_LLM_BASE_URL is set but ALEXUS_LLM_MODEL is not")
	}
	m, err := cfg.Client(nil)
	if err != nil {
		return nil, err
	}
	h, err := handler(th, m)
	if err != nil {
		return nil, err
	}
	results, err := evaluate(ctx, set, h)
	if err != nil {
		return nil, err
	}
	return &modelRun{url: cfg.BaseURL, model: cfg.Model, results: results, scores: score(results)}, nil
}
