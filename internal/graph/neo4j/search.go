package neo4j

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/alexus-platform/alexus/internal/graph"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// candidates is how long each list fused by HybridSearch is at least: RRF
// needs more than the k it returns to let a node high in one list and
// middling in the other win.
const candidates = 50

// maxQueryWords bounds the distinct words of a lexical query: each becomes
// two Lucene clauses (title and body), and Lucene refuses a query of more
// than 1024 clauses. Later words are ignored.
const maxQueryWords = 256

// lexicalCypher ranks the tenant's nodes by the full-text index. The
// procedure searches every tenant's nodes; the MATCH on the yielded node
// keeps the context's tenant's, and the filters apply, before the cut.
const lexicalCypher = `
CALL db.index.fulltext.queryNodes('` + textIndex + `', $query) YIELD node, score
MATCH (node:KGNode {tenant_id: $tenant})
WHERE (size($kinds) = 0 OR node.kind IN $kinds) AND (size($types) = 0 OR node.type IN $types)
RETURN node.id AS id, score
ORDER BY score DESC, id
LIMIT $limit`

// vectorCypher ranks the tenant's embedded nodes by exact cosine
// similarity to $vector. vector.similarity.cosine returns (1 + cos) / 2,
// which orders as cos does.
const vectorCypher = `
MATCH (n:KGNode {tenant_id: $tenant})
WHERE n.has_vector = true AND (size($kinds) = 0 OR n.kind IN $kinds) AND (size($types) = 0 OR n.type IN $types)
WITH n.id AS id, vector.similarity.cosine(n.embedding, $vector) AS score
WHERE score IS NOT NULL
RETURN id, score
ORDER BY score DESC, id
LIMIT $limit`

// HybridSearch ranks the tenant's nodes for q: the best max(K, 50) by
// full text and the best max(K, 50) by cosine similarity, fused with
// Reciprocal Rank Fusion. A zero query vector is similar to nothing and
// contributes no vector list.
func (g *Graph) HybridSearch(ctx context.Context, q graph.Query) ([]graph.Hit, error) {
	if _, err := tenant.Require(ctx); err != nil {
		return nil, err
	}
	if err := graph.ValidateQuery(q, g.dim); err != nil {
		return nil, err
	}
	var vector []float64
	for _, x := range q.Vector {
		if x != 0 {
			vector = make([]float64, len(q.Vector))
			for i, x := range q.Vector {
				vector[i] = float64(x)
			}
			break
		}
	}
	lucene := luceneQuery(q.Text)
	kinds := make([]string, len(q.Filters.Kinds))
	for i, k := range q.Filters.Kinds {
		kinds[i] = string(k)
	}
	types := append([]string{}, q.Filters.Types...)
	params := map[string]any{"kinds": kinds, "types": types, "limit": int64(max(q.K, candidates))}

	var hits []graph.Hit
	err := g.read(ctx, func(t *tx) error {
		var lexical, vec graph.Ranked
		if lucene != "" {
			p := cloneParams(params)
			p["query"] = lucene
			recs, err := t.run(lexicalCypher, p)
			if err != nil {
				return fmt.Errorf("lexical search: %w", err)
			}
			if lexical, err = ranked(recs, func(s float64) float64 { return s }); err != nil {
				return fmt.Errorf("lexical search: %w", err)
			}
		}
		if vector != nil {
			p := cloneParams(params)
			p["vector"] = vector
			recs, err := t.run(vectorCypher, p)
			if err != nil {
				return fmt.Errorf("vector search: %w", err)
			}
			if vec, err = ranked(recs, func(s float64) float64 { return 2*s - 1 }); err != nil {
				return fmt.Errorf("vector search: %w", err)
			}
		}

		fused := graph.Fuse(lexical, vec, q.K, q.RRFK)
		nodes, err := nodesByID(t, graph.HitIDs(fused))
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

func cloneParams(p map[string]any) map[string]any {
	out := make(map[string]any, len(p)+1)
	for k, v := range p {
		out[k] = v
	}
	return out
}

// ranked reads records of (id, score) into a list, mapping each score, and
// orders it best first with equal mapped scores by ID, so ranks agree with
// the scores a hit carries even where the mapping rounds two apart scores
// together.
func ranked(recs []*neo4j.Record, score func(float64) float64) (graph.Ranked, error) {
	type item struct {
		id    string
		score float64
	}
	items := make([]item, 0, len(recs))
	for _, rec := range recs {
		id, _ := rec.Get("id")
		s, _ := rec.Get("score")
		idStr, ok := id.(string)
		f, ok2 := s.(float64)
		if !ok || !ok2 {
			return graph.Ranked{}, fmt.Errorf("unexpected row (%T, %T)", id, s)
		}
		items = append(items, item{idStr, score(f)})
	}
	slices.SortStableFunc(items, func(a, b item) int {
		return cmp.Or(cmp.Compare(b.score, a.score), cmp.Compare(a.id, b.id))
	})
	var r graph.Ranked
	for _, it := range items {
		r.IDs, r.Scores = append(r.IDs, it.id), append(r.Scores, it.score)
	}
	return r, nil
}

// luceneQuery turns free text into a Lucene query over the full-text
// index's two fields, the title boosted twice: title:(w1 w2)^2 OR
// body:(w1 w2), any word matching. Words are the text's whitespace-separated
// parts, lower-cased (the analyzer lower-cases anyway, and AND, OR and NOT
// are operators only in upper case), repeated ones dropped, and escaped, so
// no user text is Lucene syntax; parts without a letter or digit are
// dropped. The analyzer then splits each part as it split the documents.
// It returns "" when no word is left: there is nothing to search.
func luceneQuery(text string) string {
	var words []string
	seen := map[string]bool{}
	for _, w := range strings.Fields(strings.ToLower(text)) {
		if seen[w] || !strings.ContainsFunc(w, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
			continue
		}
		seen[w] = true
		words = append(words, escapeLucene(w))
		if len(words) == maxQueryWords {
			break
		}
	}
	if len(words) == 0 {
		return ""
	}
	ws := strings.Join(words, " ")
	return "title:(" + ws + ")^2 OR body:(" + ws + ")"
}

// luceneSpecial are the characters Lucene's classic query parser gives a
// meaning to (its QueryParser.escape list).
const luceneSpecial = `\+-!():^[]"{}~*?|&/`

// escapeLucene puts a backslash before every character of s that Lucene's
// query syntax would read as an operator.
func escapeLucene(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(luceneSpecial, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
