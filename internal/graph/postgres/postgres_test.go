package postgres_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/graph"
	"github.com/alexus-platform/alexus/internal/graph/postgres"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
)

func as(t tenant.ID) context.Context {
	return tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: t, Subject: "test"})
}

// bundle is one test's graph on its own database, with tenants acme and
// globex.
type bundle struct {
	db     *store.DB
	g      *postgres.Graph
	acme   context.Context
	globex context.Context
}

func setup(t testing.TB, cfg postgres.Config) *bundle {
	t.Helper()
	db := storetest.New(t).DB
	for _, id := range []tenant.ID{"acme", "globex"} {
		_, err := provision.EnsureTenant(as(id), db, provision.TenantOptions{})
		require.NoError(t, err)
	}
	g, err := postgres.New(db, cfg)
	require.NoError(t, err)
	return &bundle{db: db, g: g, acme: as("acme"), globex: as("globex")}
}

func vec(dim int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

func ci(id, typ, title string) graph.Node {
	return graph.Node{ID: id, Kind: graph.KindCI, Type: typ, Title: title}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	require.ErrorContains(t, postgres.Config{Dimension: -1}.Validate(), "dimension")
	require.ErrorContains(t, postgres.Config{MaxCachedVectors: -1}.Validate(), "max cached vectors")
	require.NoError(t, postgres.Config{}.Validate())
	_, err := postgres.New(nil, postgres.Config{})
	require.Error(t, err)
}

func TestNodes(t *testing.T) {
	t.Parallel()
	b := setup(t, postgres.Config{Dimension: 4})
	require.Equal(t, 4, b.g.Dimension())

	n := graph.Node{
		ID: "svc/checkout", Kind: graph.KindCI, Type: "service", Title: "Checkout", Body: "Takes payments.",
		Properties: map[string]string{"sys_id": "abc", "env": "prod"},
		Embedding:  []float32{3, 0, -4, 0.5},
	}
	before := time.Now().Add(-time.Second)
	require.NoError(t, b.g.UpsertNodes(b.acme, []graph.Node{n}))
	got, err := b.g.Node(b.acme, n.ID)
	require.NoError(t, err)
	require.WithinRange(t, got.UpdatedAt, before, time.Now().Add(time.Second))
	got.UpdatedAt = time.Time{}
	require.Equal(t, n, got, "the node comes back as written, embedding unnormalised")

	_, err = b.g.Node(b.globex, n.ID)
	require.ErrorIs(t, err, graph.ErrNotFound, "another tenant does not see it")
	_, err = b.g.Node(b.acme, "nope")
	require.ErrorIs(t, err, graph.ErrNotFound)
	_, err = b.g.Node(context.Background(), n.ID)
	require.Error(t, err, "no tenant, no read")

	// Upserting replaces the node whole.
	require.NoError(t, b.g.UpsertNodes(b.acme, []graph.Node{{ID: n.ID, Kind: graph.KindCI, Type: "service", Title: "Checkout v2"}}))
	got, err = b.g.Node(b.acme, n.ID)
	require.NoError(t, err)
	require.Equal(t, "Checkout v2", got.Title)
	require.Empty(t, got.Body)
	require.Nil(t, got.Properties)
	require.Nil(t, got.Embedding)

	// The same ID twice in one batch: the last wins.
	require.NoError(t, b.g.UpsertNodes(b.acme, []graph.Node{ci("h1", "host", "first"), ci("h1", "host", "second")}))
	got, err = b.g.Node(b.acme, "h1")
	require.NoError(t, err)
	require.Equal(t, "second", got.Title)

	// Each tenant has its own ID space.
	require.NoError(t, b.g.UpsertNodes(b.globex, []graph.Node{ci(n.ID, "service", "Globex checkout")}))
	got, err = b.g.Node(b.acme, n.ID)
	require.NoError(t, err)
	require.Equal(t, "Checkout v2", got.Title)

	require.NoError(t, b.g.DeleteNodes(b.acme, []string{n.ID, "missing"}))
	_, err = b.g.Node(b.acme, n.ID)
	require.ErrorIs(t, err, graph.ErrNotFound)
	_, err = b.g.Node(b.globex, n.ID)
	require.NoError(t, err, "deleting acme's node leaves globex's")
}

func TestInvalidInput(t *testing.T) {
	t.Parallel()
	b := setup(t, postgres.Config{Dimension: 4})
	good := ci("ok", "service", "fine")
	for name, n := range map[string]graph.Node{
		"unknown kind":    {ID: "x", Kind: "planet", Type: "service"},
		"bad type":        {ID: "x", Kind: graph.KindCI, Type: "Service"},
		"empty id":        {Kind: graph.KindCI, Type: "service"},
		"wrong dimension": {ID: "x", Kind: graph.KindCI, Type: "service", Embedding: []float32{1, 2}},
		"NaN":             {ID: "x", Kind: graph.KindCI, Type: "service", Embedding: []float32{1, float32(math.NaN()), 0, 0}},
		"NUL in body":     {ID: "x", Kind: graph.KindCI, Type: "service", Body: "a\x00b"},
	} {
		err := b.g.UpsertNodes(b.acme, []graph.Node{good, n})
		require.ErrorIs(t, err, graph.ErrInvalid, name)
	}
	_, err := b.g.Node(b.acme, "ok")
	require.ErrorIs(t, err, graph.ErrNotFound, "a batch with a bad node writes none")

	require.NoError(t, b.g.UpsertNodes(b.acme, []graph.Node{
		ci("svc", "service", "svc"), ci("db", "database", "db"),
		{ID: "inc", Kind: graph.KindIssue, Type: "incident", Title: "outage"},
	}))
	for name, tc := range map[string]struct {
		e    graph.Edge
		want error
	}{
		"unknown type":     {graph.Edge{From: "svc", To: "db", Type: "LIKES"}, graph.ErrInvalid},
		"self loop":        {graph.Edge{From: "svc", To: "svc", Type: graph.DependsOn}, graph.ErrInvalid},
		"wrong kinds":      {graph.Edge{From: "svc", To: "inc", Type: graph.DependsOn}, graph.ErrInvalid},
		"wrong direction":  {graph.Edge{From: "svc", To: "inc", Type: graph.Affects}, graph.ErrInvalid},
		"missing end":      {graph.Edge{From: "svc", To: "ghost", Type: graph.DependsOn}, graph.ErrNotFound},
		"other tenant end": {graph.Edge{From: "svc", To: "gx", Type: graph.DependsOn}, graph.ErrNotFound},
	} {
		require.NoError(t, b.g.UpsertNodes(b.globex, []graph.Node{ci("gx", "service", "globex")}))
		err := b.g.UpsertEdges(b.acme, []graph.Edge{{From: "svc", To: "db", Type: graph.DependsOn}, tc.e})
		require.ErrorIs(t, err, tc.want, name)
	}
	nb, err := graph.Neighbours(b.acme, b.g, "svc")
	require.NoError(t, err)
	require.Empty(t, nb, "a batch with a bad edge writes none")

	for name, q := range map[string]graph.Query{
		"k 0":        {Text: "x"},
		"k too big":  {Text: "x", K: graph.MaxK + 1},
		"nothing":    {K: 1},
		"bad vector": {Vector: []float32{1}, K: 1},
		"bad kind":   {Text: "x", K: 1, Filters: graph.Filters{Kinds: []graph.Kind{"planet"}}},
	} {
		_, err := b.g.HybridSearch(b.acme, q)
		require.ErrorIs(t, err, graph.ErrInvalid, name)
	}
	for name, call := range map[string]func() error{
		"depth 0":  func() error { _, err := b.g.Traverse(b.acme, "svc", graph.Both, nil, 0); return err },
		"depth 11": func() error { _, err := b.g.Traverse(b.acme, "svc", graph.Both, nil, 11); return err },
		"dir 0":    func() error { _, err := b.g.Traverse(b.acme, "svc", 0, nil, 1); return err },
		"type":     func() error { _, err := b.g.Traverse(b.acme, "svc", graph.Both, []graph.EdgeType{"X"}, 1); return err },
	} {
		require.ErrorIs(t, call(), graph.ErrInvalid, name)
	}
	_, err = b.g.Traverse(b.acme, "ghost", graph.Both, nil, 1)
	require.ErrorIs(t, err, graph.ErrNotFound)
	_, err = b.g.Traverse(b.globex, "svc", graph.Both, nil, 1)
	require.ErrorIs(t, err, graph.ErrNotFound, "another tenant cannot start from acme's node")

	for name, call := range map[string]func(ctx context.Context) error{
		"upsert nodes": func(ctx context.Context) error { return b.g.UpsertNodes(ctx, nil) },
		"delete nodes": func(ctx context.Context) error { return b.g.DeleteNodes(ctx, nil) },
		"upsert edges": func(ctx context.Context) error { return b.g.UpsertEdges(ctx, nil) },
		"delete edges": func(ctx context.Context) error { return b.g.DeleteEdges(ctx, nil) },
		"search": func(ctx context.Context) error {
			_, err := b.g.HybridSearch(ctx, graph.Query{Text: "x", K: 1})
			return err
		},
	} {
		require.Error(t, call(context.Background()), "%s without a tenant", name)
	}
}

// cmdb is a small graph with a cycle, a diamond and every edge direction:
//
//	web -DEPENDS_ON-> api -DEPENDS_ON-> db -DEPENDS_ON-> web (cycle)
//	web -RUNS_ON-> host1 -RUNS_ON-> db      api -RUNS_ON-> host1 (diamond)
//	db -OWNED_BY-> dba    inc -AFFECTS-> db
func cmdb(t *testing.T, b *bundle) {
	t.Helper()
	require.NoError(t, b.g.UpsertNodes(b.acme, []graph.Node{
		ci("web", "service", "web"), ci("api", "service", "api"), ci("db", "database", "db"),
		ci("host1", "host", "host1"), ci("dba", "team", "dba"),
		{ID: "inc", Kind: graph.KindIssue, Type: "incident", Title: "db down"},
	}))
	require.NoError(t, b.g.UpsertEdges(b.acme, []graph.Edge{
		{From: "web", To: "api", Type: graph.DependsOn},
		{From: "api", To: "db", Type: graph.DependsOn},
		{From: "db", To: "web", Type: graph.DependsOn},
		{From: "web", To: "host1", Type: graph.RunsOn},
		{From: "api", To: "host1", Type: graph.RunsOn},
		{From: "host1", To: "db", Type: graph.RunsOn},
		{From: "db", To: "dba", Type: graph.OwnedBy},
		{From: "inc", To: "db", Type: graph.Affects},
		{From: "inc", To: "db", Type: graph.Affects}, // a duplicate is kept once
	}))
}

type step struct {
	id    string
	depth int
	edge  string
}

func steps(ns []graph.Neighbour) []step {
	out := make([]step, len(ns))
	for i, n := range ns {
		out[i] = step{n.Node.ID, n.Depth, fmt.Sprintf("%s-%s->%s", n.Edge.From, n.Edge.Type, n.Edge.To)}
	}
	return out
}

func TestTraverse(t *testing.T) {
	t.Parallel()
	b := setup(t, postgres.Config{Dimension: 4})
	cmdb(t, b)

	got, err := b.g.Traverse(b.acme, "web", graph.Outgoing, nil, graph.MaxTraverseDepth)
	require.NoError(t, err)
	require.Equal(t, []step{
		{"api", 1, "web-DEPENDS_ON->api"},
		{"host1", 1, "web-RUNS_ON->host1"},
		{"db", 2, "api-DEPENDS_ON->db"}, // api < host1: the least parent reaches it first
		{"dba", 3, "db-OWNED_BY->dba"},
	}, steps(got), "the cycle back to web ends the walk")
	require.Equal(t, "dba", got[3].Node.Title, "neighbours carry their nodes")

	got, err = graph.Upstream(b.acme, b.g, "web", 1)
	require.NoError(t, err)
	require.Equal(t, []step{{"api", 1, "web-DEPENDS_ON->api"}, {"host1", 1, "web-RUNS_ON->host1"}}, steps(got))

	got, err = graph.BlastRadius(b.acme, b.g, "db", graph.MaxTraverseDepth)
	require.NoError(t, err)
	require.Equal(t, []step{
		{"api", 1, "api-DEPENDS_ON->db"},
		{"host1", 1, "host1-RUNS_ON->db"},
		{"web", 2, "web-DEPENDS_ON->api"},
	}, steps(got))

	got, err = graph.Neighbours(b.acme, b.g, "db")
	require.NoError(t, err)
	require.Equal(t, []step{
		{"api", 1, "api-DEPENDS_ON->db"},
		{"dba", 1, "db-OWNED_BY->dba"},
		{"host1", 1, "host1-RUNS_ON->db"},
		{"inc", 1, "inc-AFFECTS->db"},
		{"web", 1, "db-DEPENDS_ON->web"},
	}, steps(got))

	owners, err := graph.Owners(b.acme, b.g, "web")
	require.NoError(t, err)
	require.Len(t, owners, 1)
	require.Equal(t, "dba", owners[0].ID)

	// Deleting edges, and deleting a node with its edges.
	require.NoError(t, b.g.DeleteEdges(b.acme, []graph.Edge{{From: "web", To: "api", Type: graph.DependsOn}, {From: "x", To: "y", Type: graph.RunsOn}}))
	require.NoError(t, b.g.DeleteNodes(b.acme, []string{"host1"}))
	got, err = b.g.Traverse(b.acme, "web", graph.Outgoing, nil, 3)
	require.NoError(t, err)
	require.Empty(t, got)
	got, err = b.g.Traverse(b.acme, "web", graph.Incoming, nil, 3)
	require.NoError(t, err)
	require.Equal(t, []step{{"db", 1, "db-DEPENDS_ON->web"}, {"api", 2, "api-DEPENDS_ON->db"}, {"inc", 2, "inc-AFFECTS->db"}}, steps(got))
	var edges int
	require.NoError(t, b.db.WithTenant(b.acme, func(tx pgx.Tx) error {
		return tx.QueryRow(context.Background(), `SELECT count(*) FROM kg_edges WHERE src = 'host1' OR dst = 'host1'`).Scan(&edges)
	}))
	require.Zero(t, edges, "the node's edges went with it")
}

func TestLexicalSearch(t *testing.T) {
	t.Parallel()
	b := setup(t, postgres.Config{Dimension: 4})
	require.NoError(t, b.g.UpsertNodes(b.acme, []graph.Node{
		{ID: "d1", Kind: graph.KindDocument, Type: "runbook", Title: "Postgres connection pool exhausted", Body: "Raise max_connections and restart pgbouncer."},
		{ID: "d2", Kind: graph.KindDocument, Type: "runbook", Title: "Disk full on host", Body: "The postgres volume filled up."},
		{ID: "d3", Kind: graph.KindDocument, Type: "faq", Title: "Kafka lag", Body: "Consumers fall behind; the connection pool is fine."},
		{ID: "i1", Kind: graph.KindIssue, Type: "postmortem", Title: "Checkout outage", Body: "Postgres connections exhausted by a leak."},
	}))
	require.NoError(t, b.g.UpsertNodes(b.globex, []graph.Node{
		{ID: "g1", Kind: graph.KindDocument, Type: "runbook", Title: "Postgres connection pool exhausted"},
	}))

	ids := func(hits []graph.Hit) []string {
		out := make([]string, len(hits))
		for i, h := range hits {
			out[i] = h.Node.ID
			require.Equal(t, i+1, h.LexicalRank)
			require.Zero(t, h.VectorRank)
			require.NotEmpty(t, h.Node.Title, "hits carry their nodes")
		}
		return out
	}
	hits, err := b.g.HybridSearch(b.acme, graph.Query{Text: "postgres connection pool exhausted", K: 10})
	require.NoError(t, err)
	require.Equal(t, []string{"d1", "i1", "d3", "d2"}, ids(hits),
		"every word in the title, then every word (pool aside) in the body, then partial matches")
	require.Greater(t, hits[0].LexicalScore, 1.0, "a match of every word scores above 1")
	require.Less(t, hits[2].LexicalScore, 1.0)

	hits, err = b.g.HybridSearch(b.acme, graph.Query{Text: "postgres -kafka", K: 10, Filters: graph.Filters{Kinds: []graph.Kind{graph.KindDocument}, Types: []string{"runbook", "faq"}}})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"d1", "d2"}, ids(hits), "filters and negation apply; globex's g1 never shows")

	hits, err = b.g.HybridSearch(b.acme, graph.Query{Text: "the of and", K: 10})
	require.NoError(t, err)
	require.Empty(t, hits, "stop words alone match nothing")

	// kg_lexical runs as its owner to use the index; it must still answer
	// for the transaction's tenant only, and for no tenant with none.
	ctx := context.Background()
	for _, every := range []bool{true, false} {
		var n int
		require.NoError(t, b.db.Pool().QueryRow(ctx, `SELECT count(*) FROM kg_lexical('postgres pool', '{}', '{}', 50, $1)`, every).Scan(&n))
		require.Zero(t, n, "no tenant set")
		var got []string
		require.NoError(t, b.db.WithTenant(b.globex, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, `SELECT id FROM kg_lexical('postgres pool', '{}', '{}', 50, $1)`, every)
			if err != nil {
				return err
			}
			got, err = pgx.CollectRows(rows, pgx.RowTo[string])
			return err
		}))
		if every {
			require.Equal(t, []string{"g1"}, got)
		} else {
			require.Empty(t, got)
		}
	}
}

// TestVectorTopKIsExact checks the vector list against a brute-force top k
// computed here in float64, with and without filters: recall 1.0.
func TestVectorTopKIsExact(t *testing.T) {
	t.Parallel()
	const (
		dim = 256
		n   = 3000
		k   = 50
	)
	b := setup(t, postgres.Config{Dimension: dim})
	nodes := make([]graph.Node, n)
	for i := range nodes {
		kind, typ := graph.KindDocument, "runbook"
		if i%3 == 0 {
			kind, typ = graph.KindIssue, "postmortem"
		}
		nodes[i] = graph.Node{ID: fmt.Sprintf("n%05d", i), Kind: kind, Type: typ, Title: "x", Embedding: vec(dim, uint64(i))}
	}
	require.NoError(t, b.g.UpsertNodes(b.acme, nodes))

	for qi := range 20 {
		q := vec(dim, uint64(1_000_000+qi))
		var filters graph.Filters
		if qi%2 == 1 {
			filters.Kinds = []graph.Kind{graph.KindIssue}
		}
		type cand struct {
			id    string
			score float64
		}
		var want []cand
		for _, nd := range nodes {
			if len(filters.Kinds) > 0 && !slices.Contains(filters.Kinds, nd.Kind) {
				continue
			}
			want = append(want, cand{nd.ID, cosine(q, nd.Embedding)})
		}
		sort.Slice(want, func(i, j int) bool { return want[i].score > want[j].score })
		want = want[:k]

		hits, err := b.g.HybridSearch(b.acme, graph.Query{Vector: q, K: k, Filters: filters})
		require.NoError(t, err)
		require.Len(t, hits, k)
		for i, h := range hits {
			require.Equal(t, want[i].id, h.Node.ID, "query %d rank %d", qi, i+1)
			require.Equal(t, i+1, h.VectorRank)
			require.InDelta(t, want[i].score, h.VectorScore, 1e-5)
		}
	}
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}

func TestHybridFusion(t *testing.T) {
	t.Parallel()
	b := setup(t, postgres.Config{Dimension: 4})
	require.NoError(t, b.g.UpsertNodes(b.acme, []graph.Node{
		{ID: "both", Kind: graph.KindDocument, Type: "runbook", Title: "redis eviction storm", Embedding: []float32{1, 0, 0, 0}},
		{ID: "text", Kind: graph.KindDocument, Type: "runbook", Title: "redis eviction", Embedding: []float32{0, 1, 0, 0}},
		{ID: "vector", Kind: graph.KindDocument, Type: "runbook", Title: "memory pressure", Embedding: []float32{0.9, 0.1, 0, 0}},
		{ID: "none", Kind: graph.KindDocument, Type: "runbook", Title: "unrelated"},
	}))
	hits, err := b.g.HybridSearch(b.acme, graph.Query{Text: "redis eviction", Vector: []float32{2, 0, 0, 0}, K: 3})
	require.NoError(t, err)
	require.Len(t, hits, 3)
	require.Equal(t, "both", hits[0].Node.ID)
	require.Equal(t, 1, hits[0].VectorRank)
	require.NotZero(t, hits[0].LexicalRank)
	require.InDelta(t, 1.0, hits[0].VectorScore, 1e-6)
	require.InDelta(t, 1.0/61+1.0/float64(60+hits[0].LexicalRank), hits[0].Score, 1e-12)

	hits, err = b.g.HybridSearch(b.acme, graph.Query{Vector: []float32{0, 0, 0, 0}, K: 3})
	require.NoError(t, err)
	require.Empty(t, hits, "a zero vector is similar to nothing")
}

// TestVectorsStayFresh checks the in-memory index across processes: a
// second Graph on the same database stands for another replica, whose
// writes this one must see at its next search.
func TestVectorsStayFresh(t *testing.T) {
	t.Parallel()
	b := setup(t, postgres.Config{Dimension: 4})
	other, err := postgres.New(b.db, postgres.Config{Dimension: 4})
	require.NoError(t, err)
	q := graph.Query{Vector: []float32{1, 0, 0, 0}, K: 5}
	top := func(g *postgres.Graph, ctx context.Context) []string {
		hits, err := g.HybridSearch(ctx, q)
		require.NoError(t, err)
		var ids []string
		for _, h := range hits {
			ids = append(ids, h.Node.ID)
		}
		return ids
	}
	require.NoError(t, b.g.UpsertNodes(b.acme, []graph.Node{
		{ID: "a", Kind: graph.KindDocument, Type: "runbook", Embedding: []float32{1, 0, 0, 0}},
		{ID: "b", Kind: graph.KindDocument, Type: "runbook", Embedding: []float32{0, 1, 0, 0}},
	}))
	require.Equal(t, []string{"a", "b"}, top(b.g, b.acme))
	require.Equal(t, []string{"a", "b"}, top(other, b.acme))
	require.Empty(t, top(other, b.globex))

	// Written through this process: patched in place.
	require.NoError(t, b.g.UpsertNodes(b.acme, []graph.Node{{ID: "c", Kind: graph.KindDocument, Type: "runbook", Embedding: []float32{1, 0.1, 0, 0}}}))
	require.Equal(t, []string{"a", "c", "b"}, top(b.g, b.acme))
	// Seen by the other process through the version.
	require.Equal(t, []string{"a", "c", "b"}, top(other, b.acme))

	require.NoError(t, other.DeleteNodes(b.acme, []string{"a"}))
	require.NoError(t, other.UpsertNodes(b.acme, []graph.Node{{ID: "b", Kind: graph.KindDocument, Type: "runbook"}}))
	require.Equal(t, []string{"c"}, top(b.g, b.acme), "a deleted, b's embedding removed")
	require.Equal(t, []string{"c"}, top(other, b.acme))
}

func TestCacheIsBounded(t *testing.T) {
	t.Parallel()
	b := setup(t, postgres.Config{Dimension: 8, MaxCachedVectors: 30})
	for _, ctx := range []context.Context{b.acme, b.globex} {
		var nodes []graph.Node
		for i := range 20 {
			nodes = append(nodes, graph.Node{ID: fmt.Sprint(i), Kind: graph.KindDocument, Type: "runbook", Embedding: vec(8, uint64(i))})
		}
		require.NoError(t, b.g.UpsertNodes(ctx, nodes))
	}
	// Both tenants together exceed the bound, so they evict each other;
	// every answer is still exact and the tenant's own.
	for i := range 6 {
		ctx := []context.Context{b.acme, b.globex}[i%2]
		hits, err := b.g.HybridSearch(ctx, graph.Query{Vector: vec(8, 3), K: 1})
		require.NoError(t, err)
		require.Equal(t, "3", hits[0].Node.ID)
		require.InDelta(t, 1, hits[0].VectorScore, 1e-6)
	}
	small := setup(t, postgres.Config{Dimension: 8, MaxCachedVectors: 5})
	var nodes []graph.Node
	for i := range 20 {
		nodes = append(nodes, graph.Node{ID: fmt.Sprint(i), Kind: graph.KindDocument, Type: "runbook", Embedding: vec(8, uint64(i))})
	}
	require.NoError(t, small.g.UpsertNodes(small.acme, nodes))
	hits, err := small.g.HybridSearch(small.acme, graph.Query{Vector: vec(8, 7), K: 1})
	require.NoError(t, err)
	require.Equal(t, "7", hits[0].Node.ID, "a tenant larger than the cache is searched uncached")
}

// TestCMDBImport writes 50,000 CIs and 100,000 relations, the size of a
// large CMDB import, and must take well under a minute.
func TestCMDBImport(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("SKIPPED: -short")
	}
	b := setup(t, postgres.Config{})
	const n = 50_000
	start := time.Now()
	nodes := make([]graph.Node, n)
	for i := range nodes {
		nodes[i] = graph.Node{
			ID: fmt.Sprintf("ci-%06d", i), Kind: graph.KindCI, Type: []string{"service", "host", "database"}[i%3],
			Title: fmt.Sprintf("ci %d", i), Body: "imported from the CMDB",
			Properties: map[string]string{"sys_id": fmt.Sprint(i), "env": "prod"},
		}
	}
	require.NoError(t, b.g.UpsertNodes(b.acme, nodes))
	r := rand.New(rand.NewPCG(1, 2))
	seen := map[graph.Edge]bool{}
	edges := make([]graph.Edge, 0, 2*n)
	for len(edges) < 2*n {
		from, to := r.IntN(n), r.IntN(n)
		e := graph.Edge{From: nodes[from].ID, To: nodes[to].ID, Type: []graph.EdgeType{graph.DependsOn, graph.RunsOn}[r.IntN(2)]}
		if from == to || seen[e] {
			continue
		}
		seen[e] = true
		edges = append(edges, e)
	}
	require.NoError(t, b.g.UpsertEdges(b.acme, edges))
	took := time.Since(start)
	t.Logf("imported %d CIs and %d relations in %s", n, len(edges), took)
	require.Less(t, took, 60*time.Second)

	// A deep walk over a graph this size stays quick.
	start = time.Now()
	got, err := graph.BlastRadius(b.acme, b.g, nodes[0].ID, 4)
	require.NoError(t, err)
	t.Logf("blast radius at depth 4: %d nodes in %s", len(got), time.Since(start))
}
