package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/alexus-platform/alexus/internal/embed"
	"github.com/alexus-platform/alexus/internal/graph"
	neo4jgraph "github.com/alexus-platform/alexus/internal/graph/neo4j"
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
	fmt.Fprintf(log, "database %s\n", d.Name)
	defer func() {
		if o.keepDB {
			fmt.Fprintf(log, "kept database %s\n", d.Name)
			return
		}
		if err := d.drop(); err != nil {
			fmt.Fprintf(log, "drop database %s: %v\n", d.Name, err)
		}
	}()

	if o.quality {
		local, err := embed.NewLocal(o.dim)
		if err != nil {
			return rep, err
		}
		adapters := []adapter{{name: "postgres", open: func(_ context.Context, dim int) (graph.Graph, func(), error) {
			g, err := postgres.New(d.db, postgres.Config{Dimension: dim})
			return g, func() {}, err
		}}}
		if a, note := neo4jAdapter(); note != "" {
			rep.notes = append(rep.notes, note)
		} else {
			adapters = append(adapters, a)
		}
		model, note := configuredEmbedder()
		if model == nil {
			rep.notes = append(rep.notes, note)
		}
		for _, a := range adapters {
			if err := qualityRun(ctx, d, a, local, "larkspur", qs, corpus, o, rep, log); err != nil {
				if a.name == "postgres" {
					return rep, err
				}
				rep.notes = append(rep.notes, fmt.Sprintf("%s: %v", a.name, err))
				continue
			}
			if model != nil {
				if err := qualityRun(ctx, d, a, model, "larkspur-model", qs, corpus, o, rep, log); err != nil {
					rep.notes = append(rep.notes, fmt.Sprintf("%s, configured model %s: %v", a.name, model.Model(), err))
				}
			}
		}
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

// adapter is a graph adapter the quality run evaluates: open returns a
// graph of dimension dim and what closes it.
type adapter struct {
	name string
	open func(ctx context.Context, dim int) (graph.Graph, func(), error)
}

// qualityRun loads the corpus for tenant t with embedder e into adapter a
// and evaluates every mode, plus the RRF sweep. The tenant's nodes are
// cleared first, for stores that outlive a run (Neo4j).
func qualityRun(ctx context.Context, d *database, a adapter, e embed.Embedder, t string, qs QuerySet, corpus Corpus, o options, rep *report, log io.Writer) error {
	g, closeGraph, err := a.open(ctx, e.Dimension())
	if err != nil {
		return err
	}
	defer closeGraph()
	tctx, err := ensureTenant(ctx, d.db, tenant.ID(t))
	if err != nil {
		return err
	}
	if err := clearTenant(tctx, g); err != nil {
		return err
	}
	start := time.Now()
	if err := loadCorpusInto(tctx, g, e, corpus); err != nil {
		return err
	}
	fmt.Fprintf(log, "loaded %d documents with %s (%d dimensions) in %s\n", len(corpus.Docs), e.Model(), e.Dimension(), time.Since(start).Round(time.Millisecond))
	rows, err := evaluate(tctx, g, e, a.name, qs, o.k, modes, log)
	if err != nil {
		return err
	}
	rep.quality = append(rep.quality, rows...)
	var sweep []mode
	for _, k := range rrfSweep {
		sweep = append(sweep, mode{name: "hybrid rrf_k=" + strconv.Itoa(k), text: true, vector: true, rrfK: k})
	}
	rows, err = evaluate(tctx, g, e, a.name, qs, o.k, sweep, log)
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

// neo4jAdapter is the Neo4j adapter when ALEXUS_NEO4J_URL (with
// ALEXUS_NEO4J_USER, ALEXUS_NEO4J_PASSWORD, ALEXUS_NEO4J_DATABASE) names a
// server, or a note saying why it is not evaluated.
func neo4jAdapter() (adapter, string) {
	url := os.Getenv("ALEXUS_NEO4J_URL")
	if url == "" {
		return adapter{}, "neo4j: not evaluated (ALEXUS_NEO4J_URL is not set)"
	}
	return adapter{name: "neo4j", open: func(ctx context.Context, dim int) (graph.Graph, func(), error) {
		driver, err := neo4jgraph.Open(ctx, url, os.Getenv("ALEXUS_NEO4J_USER"), os.Getenv("ALEXUS_NEO4J_PASSWORD"))
		if err != nil {
			return nil, nil, err
		}
		g, err := neo4jgraph.New(ctx, driver, neo4jgraph.Config{Database: os.Getenv("ALEXUS_NEO4J_DATABASE"), Dimension: dim})
		if err != nil {
			_ = driver.Close(ctx)
			return nil, nil, err
		}
		return g, func() { _ = driver.Close(context.Background()) }, nil
	}}, ""
}

// clearTenant deletes every node of the context's tenant.
func clearTenant(ctx context.Context, g graph.Graph) error {
	for {
		page, err := g.ListNodes(ctx, "", "", graph.MaxListLimit)
		if err != nil || len(page) == 0 {
			return err
		}
		ids := make([]string, len(page))
		for i, n := range page {
			ids[i] = n.ID
		}
		if err := g.DeleteNodes(ctx, ids); err != nil {
			return err
		}
	}
}
