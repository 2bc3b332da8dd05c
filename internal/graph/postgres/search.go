package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/alexus-platform/alexus/internal/graph"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// candidates is how long each list fused by HybridSearch is at least: RRF
// needs more than the k it returns to let a node high in one list and
// middling in the other win.
const candidates = 50

// The lexical list is ranked in two tiers by the SQL function kg_lexical
// (migrations/00006_knowledge_graph.sql). A node matches when it holds any
// word of the text (kg_any_word: OR, for recall); those that also match the
// whole text as websearch_to_tsquery reads it (every word, phrases, "or",
// "-word") come first. Within a tier nodes rank by ts_rank over the words,
// normalised by document length and mapped into [0, 1); the first tier's
// score is that plus 1, so scores fall as ranks rise.
//
// ts_rank rather than ts_rank_cd: with an OR query every single word is a
// cover, so cover density mostly counts occurrences, while ts_rank rewards
// holding more of the query's distinct words and weighs the title's (A)
// above the body's (B).
//
// The tiers are two calls because the first is cheap (the GIN index
// intersects the words' postings) and, for a short query over a large
// corpus, usually fills the list alone, while the second must rank every
// node holding any word. kg_lexical filters on the transaction's tenant
// itself (see the migration for why it is a function); the explicit check
// below keeps this adapter's rule that every statement names the tenant.
const lexicalSQL = `SELECT id, score FROM kg_lexical($2, $3, $4, $5, $6) WHERE alexus_current_tenant() = $1`

const versionSQL = `SELECT coalesce((SELECT version FROM kg_versions WHERE tenant_id = $1), 0)`

// HybridSearch ranks the tenant's nodes for q: the best max(K, 50) by
// full text and the best max(K, 50) by cosine similarity, fused with
// Reciprocal Rank Fusion. A zero query vector is similar to nothing and
// contributes no vector list.
func (g *Graph) HybridSearch(ctx context.Context, q graph.Query) ([]graph.Hit, error) {
	if _, err := g.scoped(ctx); err != nil {
		return nil, err
	}
	if err := graph.ValidateQuery(q, g.dim); err != nil {
		return nil, err
	}
	var unit []float32
	if len(q.Vector) > 0 {
		unit = make([]float32, g.dim)
		normalise(unit, q.Vector)
		if dot(unit, unit) == 0 {
			unit = nil
		}
	}
	limit := max(q.K, candidates)
	kinds := make([]string, len(q.Filters.Kinds))
	for i, k := range q.Filters.Kinds {
		kinds[i] = string(k)
	}
	types := q.Filters.Types
	if types == nil {
		types = []string{}
	}

	var hits []graph.Hit
	err := g.inTenant(ctx, func(tx pgx.Tx, t tenant.ID) error {
		// The version and the first lexical tier travel in one round trip.
		// The version arrives first: when the tenant's vectors in memory
		// are current, they are scored here while Postgres ranks the text.
		b := &pgx.Batch{}
		if unit != nil {
			b.Queue(versionSQL, string(t))
		}
		if q.Text != "" {
			b.Queue(lexicalSQL, string(t), q.Text, kinds, types, limit, true)
		}
		br := tx.SendBatch(ctx, b)
		var (
			version int64
			vector  graph.Ranked
			scored  chan struct{}
		)
		if unit != nil {
			if err := br.QueryRow().Scan(&version); err != nil {
				br.Close()
				return fmt.Errorf("read graph version: %w", err)
			}
			if x := g.cache.get(t); x != nil && x.currentVersion() >= version {
				scored = make(chan struct{})
				defer func() { <-scored }() // on every return, errors too
				go func() {
					defer close(scored)
					vector = x.search(unit, limit, q.Filters)
				}()
			}
		}
		var lexical graph.Ranked
		if q.Text != "" {
			rows, _ := br.Query()
			if err := collectRanked(rows, &lexical); err != nil {
				br.Close()
				return fmt.Errorf("lexical search: %w", err)
			}
		}
		if err := br.Close(); err != nil {
			return fmt.Errorf("lexical search: %w", err)
		}
		if q.Text != "" && len(lexical.IDs) < limit {
			rows, _ := tx.Query(ctx, lexicalSQL, string(t), q.Text, kinds, types, limit-len(lexical.IDs), false)
			if err := collectRanked(rows, &lexical); err != nil {
				return fmt.Errorf("lexical search: %w", err)
			}
		}
		if scored != nil {
			<-scored
		} else if unit != nil {
			x, err := g.vectors(ctx, tx, t, version)
			if err != nil {
				return err
			}
			vector = x.search(unit, limit, q.Filters)
		}

		fused := graph.Fuse(lexical, vector, q.K, q.RRFK)
		nodes, err := nodesByID(ctx, tx, t, graph.HitIDs(fused))
		if err != nil {
			return err
		}
		hits = graph.FillHits(fused, nodes)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return hits, nil
}

// collectRanked appends rows of (id, score) to r.
func collectRanked(rows pgx.Rows, r *graph.Ranked) error {
	var (
		id    string
		score float64
	)
	_, err := pgx.ForEachRow(rows, []any{&id, &score}, func() error {
		r.IDs, r.Scores = append(r.IDs, id), append(r.Scores, score)
		return nil
	})
	return err
}
