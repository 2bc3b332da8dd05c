package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/alexus-platform/alexus/internal/embed"
	"github.com/alexus-platform/alexus/internal/graph"
)

// mode is one way of searching: which parts of the query are sent.
type mode struct {
	name         string
	text, vector bool
	rrfK         int
}

// The three modes the issue compares. HybridSearch with only text (or only
// a vector) returns that one list, in its order.
var modes = []mode{
	{name: "lexical", text: true},
	{name: "vector", vector: true},
	{name: "hybrid", text: true, vector: true},
}

// rrfSweep is the diagnostic: hybrid with other RRF constants than the
// default, through Query.RRFK.
var rrfSweep = []int{5, 20, graph.DefaultRRFK, 200}

// qualityRow is one line of the quality table.
type qualityRow struct {
	adapter, embedder, mode string
	ndcg, recall3, recall2  float64
	p50, p95                time.Duration
	perQuery                []float64 // nDCG of each query
}

// loadCorpusInto embeds every document with e and upserts it as the
// context's tenant in batches.
func loadCorpusInto(ctx context.Context, g graph.Graph, e embed.Embedder, c Corpus) error {
	const batch = 200
	for start := 0; start < len(c.Docs); start += batch {
		docs := c.Docs[start:min(len(c.Docs), start+batch)]
		texts := make([]string, len(docs))
		for i, d := range docs {
			texts[i] = d.Text()
		}
		vecs, err := e.Embed(ctx, texts)
		if err != nil {
			return fmt.Errorf("embed documents with %s: %w", e.Model(), err)
		}
		nodes := make([]graph.Node, len(docs))
		for i, d := range docs {
			nodes[i] = d.Node()
			nodes[i].Embedding = vecs[i]
		}
		if err := g.UpsertNodes(ctx, nodes); err != nil {
			return fmt.Errorf("upsert documents: %w", err)
		}
	}
	return nil
}

// evaluate runs every query in every mode against g (already loaded for
// the context's tenant) and scores the results.
func evaluate(ctx context.Context, g graph.Graph, e embed.Embedder, adapter string, qs QuerySet, k int, ms []mode, log io.Writer) ([]qualityRow, error) {
	texts := make([]string, len(qs.Queries))
	for i, q := range qs.Queries {
		texts[i] = q.Text
	}
	vecs, err := e.Embed(ctx, texts)
	if err != nil {
		return nil, fmt.Errorf("embed queries with %s: %w", e.Model(), err)
	}
	// One untimed search loads the tenant's vectors into memory.
	if _, err := g.HybridSearch(ctx, graph.Query{Text: texts[0], Vector: vecs[0], K: k}); err != nil {
		return nil, err
	}
	var rows []qualityRow
	for _, m := range ms {
		row := qualityRow{adapter: adapter, embedder: e.Model(), mode: m.name}
		var n, r3, r2 []float64
		lat := make([]time.Duration, 0, len(qs.Queries))
		for i, q := range qs.Queries {
			gq := graph.Query{K: k, RRFK: m.rrfK}
			if m.text {
				gq.Text = q.Text
			}
			if m.vector {
				gq.Vector = vecs[i]
			}
			t0 := time.Now()
			hits, err := g.HybridSearch(ctx, gq)
			lat = append(lat, time.Since(t0))
			if err != nil {
				return nil, fmt.Errorf("%s search %s: %w", m.name, q.ID, err)
			}
			ids := make([]string, len(hits))
			for j, h := range hits {
				ids[j] = h.Node.ID
			}
			n = append(n, ndcg(ids, q.Judgments, k))
			r3 = append(r3, recall(ids, q.Judgments, k, 3))
			r2 = append(r2, recall(ids, q.Judgments, k, 2))
		}
		row.ndcg, row.recall3, row.recall2, row.perQuery = mean(n), mean(r3), mean(r2), n
		row.p50, row.p95 = percentile(lat, 50), percentile(lat, 95)
		fmt.Fprintf(log, "  %s / %s / %s: nDCG@%d %.3f\n", adapter, e.Model(), m.name, k, row.ndcg)
		rows = append(rows, row)
	}
	return rows, nil
}
