package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/alexus-platform/alexus/internal/embed"
	"github.com/alexus-platform/alexus/internal/graph/postgres"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// bench runs the evaluation and the latency benchmark on a throw-away
// database and returns the report, partial when err is set.
func bench(ctx context.Context, o options, log io.Writer) (*report, error) {
	rep := &report{k: o.k, dim: o.dim}
	corpus, qs, err := loadCorpus(o.root)
	if err != nil {
		return rep, err
	}
	rep.docs, rep.queries = len(corpus.Docs), len(qs.Queries)

	d, err := createDatabase(ctx, o.postgresURL)
	if err != nil {
		return rep, err
	}
	fmt.Fprintf(log, "database %s\n", d.name)
	defer func() {
		if o.keepDB {
			fmt.Fprintf(log, "kept database %s\n", d.name)
			return
		}
		if err := d.drop(); err != nil {
			fmt.Fprintf(log, "drop database %s: %v\n", d.name, err)
		}
	}()

	if o.quality {
		local, err := embed.NewLocal(o.dim)
		if err != nil {
			return rep, err
		}
		if err := qualityRun(ctx, d, local, "larkspur", qs, corpus, o, rep, log); err != nil {
			return rep, err
		}
		if model, note := configuredEmbedder(); model != nil {
			if err := qualityRun(ctx, d, model, "larkspur-model", qs, corpus, o, rep, log); err != nil {
				rep.notes = append(rep.notes, fmt.Sprintf("configured model %s: %v", model.Model(), err))
			}
		} else {
			rep.notes = append(rep.notes, note)
		}
		rep.notes = append(rep.notes, neo4jNote())
	}
	if o.latency {
		lr, err := latencyRun(ctx, d, o, corpus, qs, log)
		rep.latency = lr
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// qualityRun loads the corpus for tenant t with embedder e into the
// Postgres adapter and evaluates every mode, plus the RRF sweep.
func qualityRun(ctx context.Context, d *database, e embed.Embedder, t string, qs QuerySet, corpus Corpus, o options, rep *report, log io.Writer) error {
	g, err := postgres.New(d.db, postgres.Config{Dimension: e.Dimension()})
	if err != nil {
		return err
	}
	tctx, err := ensureTenant(ctx, d.db, tenant.ID(t))
	if err != nil {
		return err
	}
	start := time.Now()
	if err := loadCorpusInto(tctx, g, e, corpus); err != nil {
		return err
	}
	fmt.Fprintf(log, "loaded %d documents with %s (%d dimensions) in %s\n", len(corpus.Docs), e.Model(), e.Dimension(), time.Since(start).Round(time.Millisecond))
	rows, err := evaluate(tctx, g, e, "postgres", qs, o.k, modes, log)
	if err != nil {
		return err
	}
	rep.quality = append(rep.quality, rows...)
	var sweep []mode
	for _, k := range rrfSweep {
		sweep = append(sweep, mode{name: "hybrid rrf_k=" + strconv.Itoa(k), text: true, vector: true, rrfK: k})
	}
	rows, err = evaluate(tctx, g, e, "postgres", qs, o.k, sweep, log)
	if err != nil {
		return err
	}
	rep.sweep = append(rep.sweep, rows...)
	return nil
}

// configuredEmbedder is the OpenAI-compatible model named by
// ALEXUS_EMBED_BASE_URL, ALEXUS_EMBED_MODEL and ALEXUS_EMBED_API_KEY (and
// ALEXUS_GRAPH_DIMENSION, default 1536), or nil with a note saying why not.
func configuredEmbedder() (embed.Embedder, string) {
	base := os.Getenv("ALEXUS_EMBED_BASE_URL")
	if base == "" {
		return nil, "configured model: not run (ALEXUS_EMBED_BASE_URL is not set)"
	}
	dim := 1536
	if v := os.Getenv("ALEXUS_GRAPH_DIMENSION"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, fmt.Sprintf("configured model: not run (ALEXUS_GRAPH_DIMENSION %q is not a number)", v)
		}
		dim = n
	}
	e, err := embed.NewOpenAI(embed.OpenAIConfig{
		BaseURL:   base,
		Model:     os.Getenv("ALEXUS_EMBED_MODEL"),
		APIKey:    os.Getenv("ALEXUS_EMBED_API_KEY"),
		Dimension: dim,
	})
	if err != nil {
		return nil, fmt.Sprintf("configured model: not run (%v)", err)
	}
	return e, ""
}

// neo4jNote says that the Neo4j adapter (internal/graph/neo4j) was not
// evaluated: this program drives only the Postgres adapter so far.
func neo4jNote() string {
	if os.Getenv("ALEXUS_NEO4J_URL") == "" {
		return "neo4j: not evaluated (ALEXUS_NEO4J_URL is not set; this program also drives only the Postgres adapter so far)"
	}
	return "neo4j: not evaluated (ALEXUS_NEO4J_URL is set, but this program drives only the Postgres adapter so far)"
}
