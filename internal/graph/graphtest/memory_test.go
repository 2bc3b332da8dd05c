package graphtest

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/alexus-platform/alexus/internal/graph"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// The in-memory Graph below is the suite's own check: the simplest reading
// of graph.Graph, run under the lexical semantics a full-text engine may
// have (a multi-word query matching documents with all its words, or any)
// and with each ranked list cut at K or not, so the suite's expectations
// hold whichever an adapter has.

func TestMemory(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		opt  memOptions
		dim  int
	}{
		{"AllWords", memOptions{allWords: true}, 64},
		{"AnyWord", memOptions{}, 64},
		{"AllWordsCutAtK", memOptions{allWords: true, cutAtK: true}, 256},
		{"AnyWordCutAtK", memOptions{cutAtK: true}, graph.DefaultDimension},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			Run(t, c.dim, func(t *testing.T) graph.Graph { return newMemory(c.dim, c.opt) })
		})
	}
}

type memOptions struct {
	// allWords makes a multi-word query match only documents holding every
	// word, as Postgres' plainto_tsquery does; otherwise any word matches.
	allWords bool
	// cutAtK cuts each ranked list at K before fusion.
	cutAtK bool
}

type memory struct {
	dim int
	opt memOptions

	mu      sync.Mutex
	tenants map[tenant.ID]*memTenant
}

type memTenant struct {
	nodes map[string]graph.Node
	edges map[graph.Edge]bool
}

func newMemory(dim int, opt memOptions) *memory {
	return &memory{dim: dim, opt: opt, tenants: map[tenant.ID]*memTenant{}}
}

// lock returns the context's tenant's data, locked until unlock is called.
func (m *memory) lock(ctx context.Context) (*memTenant, func(), error) {
	id, err := tenant.Require(ctx)
	if err != nil {
		return nil, nil, err
	}
	m.mu.Lock()
	mt, ok := m.tenants[id]
	if !ok {
		mt = &memTenant{nodes: map[string]graph.Node{}, edges: map[graph.Edge]bool{}}
		m.tenants[id] = mt
	}
	return mt, m.mu.Unlock, nil
}

func (m *memory) Dimension() int { return m.dim }

func clone(n graph.Node) graph.Node {
	n.Properties = maps.Clone(n.Properties)
	n.Embedding = slices.Clone(n.Embedding)
	return n
}

func (m *memory) UpsertNodes(ctx context.Context, nodes []graph.Node) error {
	mt, unlock, err := m.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	for _, n := range nodes {
		if err := graph.ValidateNode(n, m.dim); err != nil {
			return err
		}
	}
	now := time.Now()
	for _, n := range nodes {
		n = clone(n)
		if len(n.Embedding) == 0 {
			n.Embedding = nil
		}
		n.UpdatedAt = now
		mt.nodes[n.ID] = n
	}
	return nil
}

func (m *memory) DeleteNodes(ctx context.Context, ids []string) error {
	mt, unlock, err := m.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	for _, id := range ids {
		if err := graph.ValidateID(id); err != nil {
			return err
		}
	}
	for _, id := range ids {
		delete(mt.nodes, id)
		for e := range mt.edges {
			if e.From == id || e.To == id {
				delete(mt.edges, e)
			}
		}
	}
	return nil
}

func (m *memory) Node(ctx context.Context, id string) (graph.Node, error) {
	mt, unlock, err := m.lock(ctx)
	if err != nil {
		return graph.Node{}, err
	}
	defer unlock()
	if err := graph.ValidateID(id); err != nil {
		return graph.Node{}, err
	}
	n, ok := mt.nodes[id]
	if !ok {
		return graph.Node{}, fmt.Errorf("%w: %q", graph.ErrNotFound, id)
	}
	return clone(n), nil
}

// checkEdges validates edges in the order every adapter should: IDs and
// type first, then that both ends exist, then their kinds.
func (mt *memTenant) checkEdges(edges []graph.Edge) error {
	for _, e := range edges {
		if err := graph.ValidateID(e.From); err != nil {
			return err
		}
		if err := graph.ValidateID(e.To); err != nil {
			return err
		}
		if err := graph.ValidateEdgeType(e.Type); err != nil {
			return err
		}
	}
	for _, e := range edges {
		from, ok := mt.nodes[e.From]
		if !ok {
			return fmt.Errorf("%w: edge %s from %q", graph.ErrNotFound, e.Type, e.From)
		}
		to, ok := mt.nodes[e.To]
		if !ok {
			return fmt.Errorf("%w: edge %s to %q", graph.ErrNotFound, e.Type, e.To)
		}
		if err := graph.ValidateEdge(e, from.Kind, to.Kind); err != nil {
			return err
		}
	}
	return nil
}

func (m *memory) UpsertEdges(ctx context.Context, edges []graph.Edge) error {
	mt, unlock, err := m.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if err := mt.checkEdges(edges); err != nil {
		return err
	}
	for _, e := range edges {
		mt.edges[e] = true
	}
	return nil
}

func (m *memory) DeleteEdges(ctx context.Context, edges []graph.Edge) error {
	mt, unlock, err := m.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	for _, e := range edges {
		delete(mt.edges, e)
	}
	return nil
}

func (m *memory) Traverse(ctx context.Context, id string, dir graph.Direction, types []graph.EdgeType, depth int) ([]graph.Neighbour, error) {
	mt, unlock, err := m.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := graph.ValidateTraverse(id, dir, types, depth); err != nil {
		return nil, err
	}
	if _, ok := mt.nodes[id]; !ok {
		return nil, fmt.Errorf("%w: %q", graph.ErrNotFound, id)
	}
	edges := slices.Collect(maps.Keys(mt.edges))
	seen := map[string]bool{id: true}
	frontier := map[string]bool{id: true}
	var out []graph.Neighbour
	for d := 1; d <= depth && len(frontier) > 0; d++ {
		next := map[string]graph.Edge{}
		for _, e := range edges {
			if len(types) > 0 && !slices.Contains(types, e.Type) {
				continue
			}
			var to string
			switch {
			case dir != graph.Incoming && frontier[e.From]:
				to = e.To
			case dir != graph.Outgoing && frontier[e.To]:
				to = e.From
			default:
				continue
			}
			if seen[to] {
				continue
			}
			// The contract's tie rule: the least (parent, Type, From, To).
			if b, ok := next[to]; !ok || cmp.Or(cmp.Compare(graph.Parent(to, e), graph.Parent(to, b)),
				cmp.Compare(e.Type, b.Type), cmp.Compare(e.From, b.From), cmp.Compare(e.To, b.To)) < 0 {
				next[to] = e
			}
		}
		frontier = map[string]bool{}
		for _, to := range slices.Sorted(maps.Keys(next)) {
			seen[to], frontier[to] = true, true
			out = append(out, graph.Neighbour{Node: clone(mt.nodes[to]), Edge: next[to], Depth: d})
		}
	}
	return out, nil
}

func (m *memory) HybridSearch(ctx context.Context, q graph.Query) ([]graph.Hit, error) {
	mt, unlock, err := m.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := graph.ValidateQuery(q, m.dim); err != nil {
		return nil, err
	}
	var lexical, vector []scored
	terms := words(q.Text)
	for _, n := range mt.nodes {
		if len(q.Filters.Kinds) > 0 && !slices.Contains(q.Filters.Kinds, n.Kind) ||
			len(q.Filters.Types) > 0 && !slices.Contains(q.Filters.Types, n.Type) {
			continue
		}
		if len(terms) > 0 {
			if s := m.lexicalScore(terms, n); s > 0 {
				lexical = append(lexical, scored{n.ID, s})
			}
		}
		if q.Vector != nil && n.Embedding != nil {
			vector = append(vector, scored{n.ID, cosine(q.Vector, n.Embedding)})
		}
	}
	hits := graph.Fuse(m.ranked(lexical, q.K), m.ranked(vector, q.K), q.K, q.RRFK)
	for i := range hits {
		hits[i].Node = clone(mt.nodes[hits[i].Node.ID])
	}
	return hits, nil
}

func (m *memory) ListNodes(ctx context.Context, kind graph.Kind, after string, limit int) ([]graph.Node, error) {
	mt, unlock, err := m.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := graph.ValidateList(kind, after, limit); err != nil {
		return nil, err
	}
	var out []graph.Node
	for _, id := range slices.Sorted(maps.Keys(mt.nodes)) {
		n := mt.nodes[id]
		if id <= after || kind != "" && n.Kind != kind {
			continue
		}
		n = clone(n)
		n.Embedding = nil
		out = append(out, n)
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

type scored struct {
	id    string
	score float64
}

// ranked sorts a list best first, equal scores by ID.
func (m *memory) ranked(list []scored, k int) graph.Ranked {
	slices.SortFunc(list, func(a, b scored) int {
		return cmp.Or(cmp.Compare(b.score, a.score), cmp.Compare(a.id, b.id))
	})
	if m.opt.cutAtK {
		list = list[:min(k, len(list))]
	}
	var r graph.Ranked
	for _, s := range list {
		r.IDs = append(r.IDs, s.id)
		r.Scores = append(r.Scores, s.score)
	}
	return r
}

// lexicalScore counts the query's words in the title, twice, and the body.
func (m *memory) lexicalScore(terms []string, n graph.Node) float64 {
	title, body := words(n.Title), words(n.Body)
	score := 0
	for _, term := range terms {
		c := 2*count(title, term) + count(body, term)
		if c == 0 && m.opt.allWords {
			return 0
		}
		score += c
	}
	return float64(score)
}

func count(ws []string, w string) int {
	c := 0
	for _, x := range ws {
		if x == w {
			c++
		}
	}
	return c
}

var stopWords = map[string]bool{"a": true, "an": true, "and": true, "by": true, "of": true, "on": true, "the": true, "to": true, "is": true}

// words lower-cases text and splits it into words, without stop words and
// without repeats in a query (the caller counts repeats in documents).
func words(text string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		if !stopWords[w] {
			out = append(out, w)
		}
	}
	return out
}

func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}
