package graphtest

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/embed"
	"github.com/alexus-platform/alexus/internal/graph"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// The tenants the suite acts for. The factory's store must accept both.
const (
	TenantA = "acme"
	TenantB = "globex"
)

// Run runs every conformance test against graphs made by newGraph, which
// must return an empty graph of dimension dim for a fresh, isolated store
// (e.g. a new database). Tenants "acme" and "globex" exist in it.
//
// Subtests run in parallel, each with a graph of its own. dim must be at
// least 64, the smallest dimension of the local embedder the suite makes
// its vectors with.
func Run(t *testing.T, dim int, newGraph func(t *testing.T) graph.Graph) {
	t.Helper()
	if dim < 64 {
		t.Fatalf("graphtest: dimension %d: the suite needs at least 64", dim)
	}
	s := &suite{dim: dim, newGraph: newGraph}
	t.Run("NoTenant", s.testNoTenant)
	t.Run("CRUD", s.testCRUD)
	t.Run("Edges", s.testEdges)
	t.Run("Traverse", s.testTraverse)
	t.Run("Helpers", s.testHelpers)
	t.Run("Search", s.testSearch)
	t.Run("ListNodes", s.testListNodes)
	t.Run("TenantIsolation", s.testTenantIsolation)
	t.Run("BadInput", s.testBadInput)
}

// suite holds what every test needs to make a graph and its vectors.
type suite struct {
	dim      int
	newGraph func(t *testing.T) graph.Graph
}

// bundle is what setup gives a test: a fresh graph and a context for each
// tenant.
type bundle struct {
	g      graph.Graph
	acme   context.Context
	globex context.Context
}

func (s *suite) setup(t *testing.T) *bundle {
	t.Helper()
	g := s.newGraph(t)
	require.NotNil(t, g, "newGraph returned nil")
	require.Equal(t, s.dim, g.Dimension(), "the graph's dimension")
	return &bundle{g: g, acme: tenantContext(t, TenantA), globex: tenantContext(t, TenantB)}
}

func tenantContext(t *testing.T, id string) context.Context {
	return tenant.WithIdentity(t.Context(), tenant.Identity{Tenant: tenant.ID(id), Subject: "graphtest"})
}

// embedText returns the local embedder's vector of text: deterministic,
// L2-normalised, and closer for texts that share words.
func (s *suite) embedText(t *testing.T, text string) []float32 {
	t.Helper()
	e, err := embed.NewLocal(s.dim)
	require.NoError(t, err)
	vs, err := e.Embed(t.Context(), []string{text})
	require.NoError(t, err)
	return vs[0]
}

// node builds a node whose title is its ID unless given.
func node(id string, kind graph.Kind, typ string) graph.Node {
	return graph.Node{ID: id, Kind: kind, Type: typ, Title: id}
}

func ci(id, typ string) graph.Node { return node(id, graph.KindCI, typ) }

func edge(from string, typ graph.EdgeType, to string) graph.Edge {
	return graph.Edge{From: from, To: to, Type: typ}
}

// requireNode checks that got is want as stored: every field the caller
// sets, with nil and empty Properties or Embedding alike, and UpdatedAt set
// by the graph near now (the caller's is ignored).
func requireNode(t *testing.T, want, got graph.Node) {
	t.Helper()
	require.Equal(t, want.ID, got.ID, "ID")
	require.Equal(t, want.Kind, got.Kind, "node %q: Kind", want.ID)
	require.Equal(t, want.Type, got.Type, "node %q: Type", want.ID)
	require.Equal(t, want.Title, got.Title, "node %q: Title", want.ID)
	require.Equal(t, want.Body, got.Body, "node %q: Body", want.ID)
	if len(want.Properties) == 0 {
		require.Empty(t, got.Properties, "node %q: Properties", want.ID)
	} else {
		require.Equal(t, want.Properties, got.Properties, "node %q: Properties", want.ID)
	}
	if len(want.Embedding) == 0 {
		require.Empty(t, got.Embedding, "node %q: Embedding", want.ID)
	} else {
		require.Equal(t, want.Embedding, got.Embedding, "node %q: Embedding must round-trip exactly", want.ID)
	}
	require.False(t, got.UpdatedAt.IsZero(), "node %q: UpdatedAt must be set", want.ID)
	require.WithinDuration(t, time.Now(), got.UpdatedAt, 5*time.Minute, "node %q: UpdatedAt is the graph's, near now", want.ID)
}

func (s *suite) testNoTenant(t *testing.T) {
	t.Parallel()
	b := s.setup(t)
	require.NoError(t, b.g.UpsertNodes(b.acme, []graph.Node{ci("a", "service"), ci("b", "service")}))
	require.NoError(t, b.g.UpsertEdges(b.acme, []graph.Edge{edge("a", graph.DependsOn, "b")}))

	contexts := map[string]context.Context{
		"none":         t.Context(),
		"empty tenant": tenant.WithIdentity(t.Context(), tenant.Identity{Subject: "graphtest"}),
	}
	for name, ctx := range contexts {
		t.Run(name, func(t *testing.T) {
			require.Error(t, b.g.UpsertNodes(ctx, []graph.Node{ci("c", "service")}), "UpsertNodes")
			require.Error(t, b.g.DeleteNodes(ctx, []string{"a"}), "DeleteNodes")
			_, err := b.g.Node(ctx, "a")
			require.Error(t, err, "Node")
			require.Error(t, b.g.UpsertEdges(ctx, []graph.Edge{edge("b", graph.DependsOn, "a")}), "UpsertEdges")
			require.Error(t, b.g.DeleteEdges(ctx, []graph.Edge{edge("a", graph.DependsOn, "b")}), "DeleteEdges")
			_, err = b.g.Traverse(ctx, "a", graph.Both, nil, 1)
			require.Error(t, err, "Traverse")
			_, err = b.g.HybridSearch(ctx, graph.Query{Text: "a", Vector: s.embedText(t, "a"), K: 10})
			require.Error(t, err, "HybridSearch")
		})
	}

	// Nothing the tenantless calls did reached the tenant's data.
	_, err := b.g.Node(b.acme, "a")
	require.NoError(t, err)
	_, err = b.g.Node(b.acme, "c")
	require.ErrorIs(t, err, graph.ErrNotFound)
	ns, err := b.g.Traverse(b.acme, "a", graph.Both, nil, 1)
	require.NoError(t, err)
	require.Equal(t, []string{"b"}, ids(ns))
}

func (s *suite) testCRUD(t *testing.T) {
	t.Parallel()

	t.Run("RoundTripEachKind", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		stale := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
		nodes := []graph.Node{
			{ID: "cmdb:0a1b2c", Kind: graph.KindCI, Type: "service", Title: "Checkout API", Body: "Takes payments.",
				Properties: map[string]string{"sys_class_name": "cmdb_ci_service", "env": "prod"}, UpdatedAt: stale},
			{ID: "INC0012345", Kind: graph.KindIssue, Type: "incident", Title: "Überlast — 数据库 timeout",
				Body: "Line one.\nLine two with a tab\tand \"quotes\".", Properties: map[string]string{"priority": "P1"},
				Embedding: s.embedText(t, "database timeout")},
			{ID: "runbooks/db.md#3", Kind: graph.KindDocument, Type: "runbook", Title: "Restart the replica",
				Body: "Run the playbook.", Embedding: s.embedText(t, "restart the replica")},
			{ID: "res 1", Kind: graph.KindResolution, Type: "fix", Title: "Raised the pool size",
				Properties: map[string]string{"validated": "true"}},
			{ID: strings.Repeat("x", graph.MaxIDLen), Kind: graph.KindCI, Type: "host"},
		}
		before := time.Now()
		require.NoError(t, b.g.UpsertNodes(b.acme, nodes))
		for _, want := range nodes {
			got, err := b.g.Node(b.acme, want.ID)
			require.NoError(t, err)
			requireNode(t, want, got)
			require.False(t, got.UpdatedAt.Before(before.Add(-time.Minute)), "UpdatedAt %v is not the upsert's", got.UpdatedAt)
		}
	})

	t.Run("UpsertReplacesWholeAndKeepsEdges", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		api := graph.Node{ID: "api", Kind: graph.KindCI, Type: "service", Title: "API", Body: "old body",
			Properties: map[string]string{"env": "prod", "tier": "1"}, Embedding: s.embedText(t, "api service")}
		require.NoError(t, b.g.UpsertNodes(b.acme, []graph.Node{api, ci("db", "database"), ci("web", "service")}))
		require.NoError(t, b.g.UpsertEdges(b.acme, []graph.Edge{
			edge("api", graph.DependsOn, "db"), edge("web", graph.DependsOn, "api"),
		}))
		first, err := b.g.Node(b.acme, "api")
		require.NoError(t, err)

		replaced := graph.Node{ID: "api", Kind: graph.KindCI, Type: "service", Title: "API v2",
			Properties: map[string]string{"env": "staging"}}
		require.NoError(t, b.g.UpsertNodes(b.acme, []graph.Node{replaced}))
		got, err := b.g.Node(b.acme, "api")
		require.NoError(t, err)
		requireNode(t, replaced, got) // the dropped property, body and embedding are gone
		require.False(t, got.UpdatedAt.Before(first.UpdatedAt), "UpdatedAt went back on replace")

		ns, err := b.g.Traverse(b.acme, "api", graph.Both, nil, 1)
		require.NoError(t, err)
		require.Equal(t, []string{"db", "web"}, ids(ns), "edges survive a replace")
	})

	t.Run("MissingNode", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		_, err := b.g.Node(b.acme, "nope")
		require.ErrorIs(t, err, graph.ErrNotFound)
	})

	t.Run("DeleteNodesCascadesToEdges", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		require.NoError(t, b.g.UpsertNodes(b.acme, []graph.Node{
			ci("web", "service"), ci("api", "service"), ci("db", "database"), ci("team", "team"),
			node("inc", graph.KindIssue, "incident"), ci("other", "service"),
		}))
		require.NoError(t, b.g.UpsertEdges(b.acme, []graph.Edge{
			edge("web", graph.DependsOn, "api"), edge("api", graph.DependsOn, "db"), edge("api", graph.OwnedBy, "team"),
			edge("inc", graph.Affects, "api"), edge("other", graph.DependsOn, "db"),
		}))

		require.NoError(t, b.g.DeleteNodes(b.acme, []string{"api", "never-existed"}))
		_, err := b.g.Node(b.acme, "api")
		require.ErrorIs(t, err, graph.ErrNotFound)
		for _, id := range []string{"web", "inc", "team"} {
			ns, err := b.g.Traverse(b.acme, id, graph.Both, nil, graph.MaxTraverseDepth)
			require.NoError(t, err)
			require.Empty(t, ns, "%s still reaches something after api was deleted", id)
		}
		ns, err := b.g.Traverse(b.acme, "db", graph.Both, nil, graph.MaxTraverseDepth)
		require.NoError(t, err)
		require.Equal(t, []string{"other"}, ids(ns), "only edges of the deleted node go")

		// A node created again under the deleted ID starts without edges.
		require.NoError(t, b.g.UpsertNodes(b.acme, []graph.Node{ci("api", "service")}))
		ns, err = b.g.Traverse(b.acme, "api", graph.Both, nil, 1)
		require.NoError(t, err)
		require.Empty(t, ns, "edges of a deleted node came back with its ID")

		require.NoError(t, b.g.DeleteNodes(b.acme, []string{"never-existed"}))
		require.NoError(t, b.g.DeleteNodes(b.acme, nil))
	})

	t.Run("UpsertNodesAllOrNone", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		old := ci("kept", "service")
		old.Title = "old title"
		require.NoError(t, b.g.UpsertNodes(b.acme, []graph.Node{old}))

		changed := old
		changed.Title = "new title"
		bad := ci("bad", "service")
		bad.Kind = "widget"
		err := b.g.UpsertNodes(b.acme, []graph.Node{ci("fresh", "service"), changed, bad})
		require.ErrorIs(t, err, graph.ErrInvalid)

		_, err = b.g.Node(b.acme, "fresh")
		require.ErrorIs(t, err, graph.ErrNotFound, "a batch with an invalid node stored another")
		got, err := b.g.Node(b.acme, "kept")
		require.NoError(t, err)
		require.Equal(t, "old title", got.Title, "a batch with an invalid node replaced another")

		require.NoError(t, b.g.UpsertNodes(b.acme, nil), "an empty batch is a no-op")
	})
}

// edgeFixture is one node of each kind, and two of some, for edge tests.
func edgeFixture() []graph.Node {
	return []graph.Node{
		ci("svc", "service"), ci("db", "database"), ci("team", "team"),
		node("inc-1", graph.KindIssue, "incident"), node("inc-2", graph.KindIssue, "postmortem"),
		node("doc-1", graph.KindDocument, "runbook"), node("doc-2", graph.KindDocument, "runbook"),
		node("res", graph.KindResolution, "fix"),
	}
}

// hasEdge says whether e is stored, by walking one step along it.
func hasEdge(t *testing.T, g graph.Graph, ctx context.Context, e graph.Edge) bool {
	t.Helper()
	ns, err := g.Traverse(ctx, e.From, graph.Outgoing, []graph.EdgeType{e.Type}, 1)
	require.NoError(t, err)
	return slices.Contains(ids(ns), e.To)
}

func (s *suite) testEdges(t *testing.T) {
	t.Parallel()

	t.Run("EachTypeWithItsKinds", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		require.NoError(t, b.g.UpsertNodes(b.acme, edgeFixture()))
		valid := []graph.Edge{
			edge("svc", graph.DependsOn, "db"),
			edge("svc", graph.RunsOn, "db"), // a second type between the same pair
			edge("svc", graph.OwnedBy, "team"),
			edge("inc-1", graph.Affects, "svc"),
			edge("doc-1", graph.Affects, "db"),
			edge("res", graph.Affects, "svc"),
			edge("inc-1", graph.ResolvedBy, "res"),
			edge("inc-1", graph.SimilarTo, "inc-2"),
			edge("doc-1", graph.SimilarTo, "doc-2"),
			edge("inc-2", graph.SimilarTo, "doc-2"),
			edge("doc-1", graph.SimilarTo, "inc-1"),
		}
		for _, e := range valid {
			require.NoError(t, b.g.UpsertEdges(b.acme, []graph.Edge{e}), "%v", e)
		}
		for _, e := range valid {
			require.True(t, hasEdge(t, b.g, b.acme, e), "%v not stored", e)
		}
		require.NoError(t, b.g.UpsertEdges(b.acme, nil), "an empty batch is a no-op")
	})

	t.Run("UnknownType", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		require.NoError(t, b.g.UpsertNodes(b.acme, edgeFixture()))
		for _, typ := range []graph.EdgeType{"CALLS", "depends_on", ""} {
			err := b.g.UpsertEdges(b.acme, []graph.Edge{edge("svc", typ, "db")})
			require.ErrorIs(t, err, graph.ErrInvalid, "edge type %q", typ)
			require.Contains(t, err.Error(), fmt.Sprintf("%q", typ), "the error names the type")
		}
	})

	t.Run("WrongKinds", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		require.NoError(t, b.g.UpsertNodes(b.acme, edgeFixture()))
		for _, e := range []graph.Edge{
			edge("svc", graph.ResolvedBy, "res"),  // from a CI
			edge("inc-1", graph.ResolvedBy, "db"), // to a CI
			edge("inc-1", graph.DependsOn, "svc"),
			edge("doc-1", graph.RunsOn, "svc"),
			edge("inc-1", graph.OwnedBy, "team"),
			edge("svc", graph.Affects, "db"),
			edge("inc-1", graph.Affects, "doc-1"),
			edge("res", graph.SimilarTo, "inc-1"),
			edge("svc", graph.SimilarTo, "db"),
			edge("svc", graph.DependsOn, "svc"), // to itself
		} {
			err := b.g.UpsertEdges(b.acme, []graph.Edge{e})
			require.ErrorIs(t, err, graph.ErrInvalid, "%v", e)
			require.Contains(t, err.Error(), string(e.Type), "the error names the type")
			require.False(t, hasEdge(t, b.g, b.acme, e), "%v stored", e)
		}
	})

	t.Run("MissingNodeAllOrNone", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		require.NoError(t, b.g.UpsertNodes(b.acme, edgeFixture()))
		good := edge("svc", graph.DependsOn, "db")
		for _, bad := range []graph.Edge{edge("svc", graph.DependsOn, "ghost"), edge("ghost", graph.DependsOn, "svc")} {
			err := b.g.UpsertEdges(b.acme, []graph.Edge{good, bad})
			require.ErrorIs(t, err, graph.ErrNotFound, "%v", bad)
			require.False(t, hasEdge(t, b.g, b.acme, good), "a batch with a missing node stored another edge")
		}
		err := b.g.UpsertEdges(b.acme, []graph.Edge{good, edge("svc", graph.ResolvedBy, "res")})
		require.ErrorIs(t, err, graph.ErrInvalid)
		require.False(t, hasEdge(t, b.g, b.acme, good), "a batch with an invalid edge stored another edge")
	})

	t.Run("DuplicatesAreIdempotent", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		require.NoError(t, b.g.UpsertNodes(b.acme, edgeFixture()))
		e := edge("svc", graph.DependsOn, "db")
		require.NoError(t, b.g.UpsertEdges(b.acme, []graph.Edge{e}))
		require.NoError(t, b.g.UpsertEdges(b.acme, []graph.Edge{e}))
		require.NoError(t, b.g.UpsertEdges(b.acme, []graph.Edge{e, e}), "a batch may repeat an edge")
		ns, err := b.g.Traverse(b.acme, "svc", graph.Outgoing, nil, 1)
		require.NoError(t, err)
		require.Equal(t, []string{"db"}, ids(ns))
		// One delete removes it: the upserts made one edge, not several.
		require.NoError(t, b.g.DeleteEdges(b.acme, []graph.Edge{e}))
		require.False(t, hasEdge(t, b.g, b.acme, e), "duplicate upserts stored the edge more than once")
	})

	t.Run("DeleteEdges", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		require.NoError(t, b.g.UpsertNodes(b.acme, edgeFixture()))
		dep, run, own := edge("svc", graph.DependsOn, "db"), edge("svc", graph.RunsOn, "db"), edge("svc", graph.OwnedBy, "team")
		require.NoError(t, b.g.UpsertEdges(b.acme, []graph.Edge{dep, run, own}))
		require.NoError(t, b.g.DeleteEdges(b.acme, []graph.Edge{
			dep,
			edge("db", graph.DependsOn, "svc"),      // reverse direction: never existed
			edge("svc", graph.DependsOn, "ghost"),   // missing node
			edge("inc-1", graph.SimilarTo, "inc-2"), // never existed
		}))
		require.False(t, hasEdge(t, b.g, b.acme, dep))
		require.True(t, hasEdge(t, b.g, b.acme, run), "deleting one type between a pair deleted another")
		require.True(t, hasEdge(t, b.g, b.acme, own))
		for _, id := range []string{"svc", "db", "team"} {
			_, err := b.g.Node(b.acme, id)
			require.NoError(t, err, "deleting an edge deleted node %s", id)
		}
		require.NoError(t, b.g.DeleteEdges(b.acme, nil))
	})
}

// cmdb is the fixed graph the traversal tests walk:
//
//	web ──DEPENDS_ON──▶ api ──DEPENDS_ON──▶ db ──RUNS_ON──▶ host-2 ──OWNED_BY──▶ team-infra
//	worker ─DEPENDS_ON─▶ api ──DEPENDS_ON──▶ cache
//	worker ──RUNS_ON──▶ host-1 ◀──RUNS_ON── api     host-1 ──OWNED_BY──▶ team-infra
//	api ──OWNED_BY──▶ team-payments
//	inc-1 ──AFFECTS──▶ api    inc-1 ──RESOLVED_BY──▶ res-1    inc-1 ──SIMILAR_TO──▶ inc-2
//	rb-1 ──AFFECTS──▶ db
func cmdb() ([]graph.Node, []graph.Edge) {
	nodes := []graph.Node{
		ci("web", "service"), ci("worker", "service"), ci("api", "service"), ci("db", "database"),
		ci("cache", "cache"), ci("host-1", "host"), ci("host-2", "host"),
		ci("team-payments", "team"), ci("team-infra", "team"),
		node("inc-1", graph.KindIssue, "incident"), node("inc-2", graph.KindIssue, "incident"),
		node("res-1", graph.KindResolution, "fix"), node("rb-1", graph.KindDocument, "runbook"),
	}
	edges := []graph.Edge{
		edge("web", graph.DependsOn, "api"),
		edge("worker", graph.DependsOn, "api"),
		edge("worker", graph.RunsOn, "host-1"),
		edge("api", graph.DependsOn, "db"),
		edge("api", graph.DependsOn, "cache"),
		edge("api", graph.RunsOn, "host-1"),
		edge("db", graph.RunsOn, "host-2"),
		edge("api", graph.OwnedBy, "team-payments"),
		edge("host-1", graph.OwnedBy, "team-infra"),
		edge("host-2", graph.OwnedBy, "team-infra"),
		edge("inc-1", graph.Affects, "api"),
		edge("inc-1", graph.ResolvedBy, "res-1"),
		edge("inc-1", graph.SimilarTo, "inc-2"),
		edge("rb-1", graph.Affects, "db"),
	}
	return nodes, edges
}

func (s *suite) setupCMDB(t *testing.T) *bundle {
	t.Helper()
	b := s.setup(t)
	nodes, edges := cmdb()
	require.NoError(t, b.g.UpsertNodes(b.acme, nodes))
	require.NoError(t, b.g.UpsertEdges(b.acme, edges))
	return b
}

// reach is one expected neighbour. Edge is the edge that must have reached
// it, or zero when several edges from the previous depth could have.
type reach struct {
	ID    string
	Depth int
	Edge  graph.Edge
}

// requireNeighbours checks got against want, in order, and that every
// neighbour's Edge joins it to the start or to a node one depth nearer, in
// dir, with a type of types (any when empty). The start is never returned.
func requireNeighbours(t *testing.T, start string, dir graph.Direction, types []graph.EdgeType, want []reach, got []graph.Neighbour) {
	t.Helper()
	gotReach := make([]reach, len(got))
	for i, n := range got {
		gotReach[i] = reach{ID: n.Node.ID, Depth: n.Depth}
	}
	wantReach := make([]reach, len(want))
	for i, w := range want {
		wantReach[i] = reach{ID: w.ID, Depth: w.Depth}
	}
	require.Equal(t, wantReach, gotReach, "from %s: neighbours in order of depth then ID", start)

	atDepth := map[int][]string{0: {start}}
	for _, n := range got {
		atDepth[n.Depth] = append(atDepth[n.Depth], n.Node.ID)
	}
	for i, n := range got {
		require.NotEqual(t, start, n.Node.ID, "the start is not its own neighbour")
		require.NotEmpty(t, n.Node.Kind, "neighbour %s: Node is filled in", n.Node.ID)
		e := n.Edge
		if want[i].Edge != (graph.Edge{}) {
			require.Equal(t, want[i].Edge, e, "neighbour %s: the edge that reached it", n.Node.ID)
		}
		if len(types) > 0 {
			require.Contains(t, types, e.Type, "neighbour %s: edge type outside the filter", n.Node.ID)
		}
		prev := atDepth[n.Depth-1]
		forward := e.To == n.Node.ID && slices.Contains(prev, e.From)
		backward := e.From == n.Node.ID && slices.Contains(prev, e.To)
		switch dir {
		case graph.Outgoing:
			require.True(t, forward, "neighbour %s: edge %v does not lead out of depth %d", n.Node.ID, e, n.Depth-1)
		case graph.Incoming:
			require.True(t, backward, "neighbour %s: edge %v does not lead into depth %d", n.Node.ID, e, n.Depth-1)
		default:
			require.True(t, forward || backward, "neighbour %s: edge %v does not join it to depth %d", n.Node.ID, e, n.Depth-1)
		}
	}
}

func (s *suite) testTraverse(t *testing.T) {
	t.Parallel()
	all := []graph.EdgeType(nil)
	cases := []struct {
		name  string
		start string
		dir   graph.Direction
		types []graph.EdgeType
		depth int
		want  []reach
	}{
		{"OutgoingDepth1", "web", graph.Outgoing, all, 1, []reach{
			{"api", 1, edge("web", graph.DependsOn, "api")},
		}},
		{"OutgoingDepth2", "web", graph.Outgoing, all, 2, []reach{
			{"api", 1, edge("web", graph.DependsOn, "api")},
			{"cache", 2, edge("api", graph.DependsOn, "cache")},
			{"db", 2, edge("api", graph.DependsOn, "db")},
			{"host-1", 2, edge("api", graph.RunsOn, "host-1")},
			{"team-payments", 2, edge("api", graph.OwnedBy, "team-payments")},
		}},
		{"OutgoingDepth3", "web", graph.Outgoing, all, 3, []reach{
			{"api", 1, edge("web", graph.DependsOn, "api")},
			{"cache", 2, edge("api", graph.DependsOn, "cache")},
			{"db", 2, edge("api", graph.DependsOn, "db")},
			{"host-1", 2, edge("api", graph.RunsOn, "host-1")},
			{"team-payments", 2, edge("api", graph.OwnedBy, "team-payments")},
			{"host-2", 3, edge("db", graph.RunsOn, "host-2")},
			{"team-infra", 3, edge("host-1", graph.OwnedBy, "team-infra")},
		}},
		{"OutgoingFiltered", "web", graph.Outgoing, []graph.EdgeType{graph.DependsOn}, 3, []reach{
			{"api", 1, edge("web", graph.DependsOn, "api")},
			{"cache", 2, edge("api", graph.DependsOn, "cache")},
			{"db", 2, edge("api", graph.DependsOn, "db")},
		}},
		{"OutgoingLeaf", "cache", graph.Outgoing, all, 3, nil},
		{"IncomingDepth1", "db", graph.Incoming, all, 1, []reach{
			{"api", 1, edge("api", graph.DependsOn, "db")},
			{"rb-1", 1, edge("rb-1", graph.Affects, "db")},
		}},
		{"IncomingDepth2", "db", graph.Incoming, all, 2, []reach{
			{"api", 1, edge("api", graph.DependsOn, "db")},
			{"rb-1", 1, edge("rb-1", graph.Affects, "db")},
			{"inc-1", 2, edge("inc-1", graph.Affects, "api")},
			{"web", 2, edge("web", graph.DependsOn, "api")},
			{"worker", 2, edge("worker", graph.DependsOn, "api")},
		}},
		{"IncomingLeastDepth", "host-1", graph.Incoming, all, 3, []reach{
			// worker reaches host-1 directly and through api: it is listed
			// once, at depth 1.
			{"api", 1, edge("api", graph.RunsOn, "host-1")},
			{"worker", 1, edge("worker", graph.RunsOn, "host-1")},
			{"inc-1", 2, edge("inc-1", graph.Affects, "api")},
			{"web", 2, edge("web", graph.DependsOn, "api")},
		}},
		{"IncomingFiltered", "team-infra", graph.Incoming, []graph.EdgeType{graph.OwnedBy}, 3, []reach{
			{"host-1", 1, edge("host-1", graph.OwnedBy, "team-infra")},
			{"host-2", 1, edge("host-2", graph.OwnedBy, "team-infra")},
		}},
		{"BothDepth1", "api", graph.Both, all, 1, []reach{
			{"cache", 1, edge("api", graph.DependsOn, "cache")},
			{"db", 1, edge("api", graph.DependsOn, "db")},
			{"host-1", 1, edge("api", graph.RunsOn, "host-1")},
			{"inc-1", 1, edge("inc-1", graph.Affects, "api")},
			{"team-payments", 1, edge("api", graph.OwnedBy, "team-payments")},
			{"web", 1, edge("web", graph.DependsOn, "api")},
			{"worker", 1, edge("worker", graph.DependsOn, "api")},
		}},
		{"BothDepth2", "res-1", graph.Both, all, 2, []reach{
			{"inc-1", 1, edge("inc-1", graph.ResolvedBy, "res-1")},
			{"api", 2, edge("inc-1", graph.Affects, "api")},
			{"inc-2", 2, edge("inc-1", graph.SimilarTo, "inc-2")},
		}},
		{"BothDepth3", "inc-2", graph.Both, all, 3, []reach{
			{"inc-1", 1, edge("inc-1", graph.SimilarTo, "inc-2")},
			{"api", 2, edge("inc-1", graph.Affects, "api")},
			{"res-1", 2, edge("inc-1", graph.ResolvedBy, "res-1")},
			{"cache", 3, edge("api", graph.DependsOn, "cache")},
			{"db", 3, edge("api", graph.DependsOn, "db")},
			{"host-1", 3, edge("api", graph.RunsOn, "host-1")},
			{"team-payments", 3, edge("api", graph.OwnedBy, "team-payments")},
			{"web", 3, edge("web", graph.DependsOn, "api")},
			{"worker", 3, edge("worker", graph.DependsOn, "api")},
		}},
		{"BothFiltered", "inc-2", graph.Both, []graph.EdgeType{graph.SimilarTo, graph.ResolvedBy}, 3, []reach{
			{"inc-1", 1, edge("inc-1", graph.SimilarTo, "inc-2")},
			{"res-1", 2, edge("inc-1", graph.ResolvedBy, "res-1")},
		}},
		{"BothMaxDepth", "cache", graph.Both, []graph.EdgeType{graph.DependsOn}, graph.MaxTraverseDepth, []reach{
			{"api", 1, edge("api", graph.DependsOn, "cache")},
			{"db", 2, edge("api", graph.DependsOn, "db")},
			{"web", 2, edge("web", graph.DependsOn, "api")},
			{"worker", 2, edge("worker", graph.DependsOn, "api")},
		}},
	}
	t.Run("CMDB", func(t *testing.T) {
		t.Parallel()
		b := s.setupCMDB(t)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				got, err := b.g.Traverse(b.acme, c.start, c.dir, c.types, c.depth)
				require.NoError(t, err)
				requireNeighbours(t, c.start, c.dir, c.types, c.want, got)
			})
		}
	})

	t.Run("Cycles", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		require.NoError(t, b.g.UpsertNodes(b.acme, []graph.Node{ci("a", "service"), ci("b", "service"), ci("c", "service")}))
		require.NoError(t, b.g.UpsertEdges(b.acme, []graph.Edge{
			edge("a", graph.DependsOn, "b"), edge("b", graph.DependsOn, "a"),
			edge("b", graph.DependsOn, "c"), edge("c", graph.DependsOn, "a"),
		}))
		got, err := b.g.Traverse(b.acme, "a", graph.Outgoing, nil, graph.MaxTraverseDepth)
		require.NoError(t, err)
		requireNeighbours(t, "a", graph.Outgoing, nil, []reach{
			{"b", 1, edge("a", graph.DependsOn, "b")},
			{"c", 2, edge("b", graph.DependsOn, "c")},
		}, got)
		got, err = b.g.Traverse(b.acme, "a", graph.Incoming, nil, graph.MaxTraverseDepth)
		require.NoError(t, err)
		requireNeighbours(t, "a", graph.Incoming, nil, []reach{
			{"b", 1, edge("b", graph.DependsOn, "a")},
			{"c", 1, edge("c", graph.DependsOn, "a")},
		}, got)
		// a and b are joined both ways: either edge may be the one that
		// reached b.
		got, err = b.g.Traverse(b.acme, "a", graph.Both, nil, graph.MaxTraverseDepth)
		require.NoError(t, err)
		requireNeighbours(t, "a", graph.Both, nil, []reach{{ID: "b", Depth: 1}, {"c", 1, edge("c", graph.DependsOn, "a")}}, got)
	})

	// A node reached by several edges from the previous depth is reached by
	// the least (parent, Type, From, To), whichever the direction.
	t.Run("TieRule", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		require.NoError(t, b.g.UpsertNodes(b.acme, []graph.Node{
			ci("s", "service"), ci("p1", "service"), ci("p2", "service"), ci("x", "host"),
		}))
		require.NoError(t, b.g.UpsertEdges(b.acme, []graph.Edge{
			// Outgoing from s: x is reached from p1 (RUNS_ON) and p2
			// (DEPENDS_ON); the parent decides before the type.
			edge("s", graph.DependsOn, "p1"), edge("s", graph.DependsOn, "p2"),
			edge("p1", graph.RunsOn, "x"), edge("p2", graph.DependsOn, "x"),
		}))
		got, err := b.g.Traverse(b.acme, "s", graph.Outgoing, nil, 2)
		require.NoError(t, err)
		require.Len(t, got, 3)
		require.Equal(t, "x", got[2].Node.ID)
		require.Equal(t, edge("p1", graph.RunsOn, "x"), got[2].Edge, "parent p1 < p2")

		// Incoming to x: s is reached through p1 and p2 (both DEPENDS_ON);
		// p1 is the lesser parent.
		got, err = b.g.Traverse(b.acme, "x", graph.Incoming, nil, 2)
		require.NoError(t, err)
		require.Len(t, got, 3)
		require.Equal(t, "s", got[2].Node.ID)
		require.Equal(t, edge("s", graph.DependsOn, "p1"), got[2].Edge, "parent p1 < p2")

		// One parent, two types: the lesser type.
		require.NoError(t, b.g.UpsertEdges(b.acme, []graph.Edge{edge("p1", graph.DependsOn, "x")}))
		got, err = b.g.Traverse(b.acme, "p1", graph.Outgoing, nil, 1)
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.Equal(t, edge("p1", graph.DependsOn, "x"), got[0].Edge, "DEPENDS_ON < RUNS_ON")
	})

	t.Run("BadInput", func(t *testing.T) {
		t.Parallel()
		b := s.setupCMDB(t)
		for _, c := range []struct {
			name  string
			id    string
			dir   graph.Direction
			types []graph.EdgeType
			depth int
		}{
			{"Depth0", "api", graph.Both, nil, 0},
			{"DepthNegative", "api", graph.Both, nil, -1},
			{"DepthOverMax", "api", graph.Both, nil, graph.MaxTraverseDepth + 1},
			{"Direction0", "api", 0, nil, 1},
			{"DirectionUnknown", "api", graph.Both + 1, nil, 1},
			{"UnknownEdgeType", "api", graph.Both, []graph.EdgeType{graph.DependsOn, "CALLS"}, 1},
			{"EmptyID", "", graph.Both, nil, 1},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := b.g.Traverse(b.acme, c.id, c.dir, c.types, c.depth)
				require.ErrorIs(t, err, graph.ErrInvalid)
			})
		}
		_, err := b.g.Traverse(b.acme, "ghost", graph.Both, nil, 1)
		require.ErrorIs(t, err, graph.ErrNotFound, "a missing start")
	})
}

func (s *suite) testHelpers(t *testing.T) {
	t.Parallel()
	b := s.setupCMDB(t)
	ctx, g := b.acme, b.g

	t.Run("Neighbours", func(t *testing.T) {
		got, err := graph.Neighbours(ctx, g, "db")
		require.NoError(t, err)
		requireNeighbours(t, "db", graph.Both, nil, []reach{
			{"api", 1, edge("api", graph.DependsOn, "db")},
			{"host-2", 1, edge("db", graph.RunsOn, "host-2")},
			{"rb-1", 1, edge("rb-1", graph.Affects, "db")},
		}, got)
	})

	upDown := []graph.EdgeType{graph.DependsOn, graph.RunsOn}
	t.Run("Upstream", func(t *testing.T) {
		got, err := graph.Upstream(ctx, g, "web", 3)
		require.NoError(t, err)
		requireNeighbours(t, "web", graph.Outgoing, upDown, []reach{
			{"api", 1, edge("web", graph.DependsOn, "api")},
			{"cache", 2, edge("api", graph.DependsOn, "cache")},
			{"db", 2, edge("api", graph.DependsOn, "db")},
			{"host-1", 2, edge("api", graph.RunsOn, "host-1")},
			{"host-2", 3, edge("db", graph.RunsOn, "host-2")},
		}, got)
		got, err = graph.Upstream(ctx, g, "worker", 1)
		require.NoError(t, err)
		requireNeighbours(t, "worker", graph.Outgoing, upDown, []reach{
			{"api", 1, edge("worker", graph.DependsOn, "api")},
			{"host-1", 1, edge("worker", graph.RunsOn, "host-1")},
		}, got)
	})

	t.Run("Downstream", func(t *testing.T) {
		got, err := graph.Downstream(ctx, g, "db", 3)
		require.NoError(t, err)
		requireNeighbours(t, "db", graph.Incoming, upDown, []reach{
			{"api", 1, edge("api", graph.DependsOn, "db")},
			{"web", 2, edge("web", graph.DependsOn, "api")},
			{"worker", 2, edge("worker", graph.DependsOn, "api")},
		}, got)
	})

	t.Run("BlastRadius", func(t *testing.T) {
		got, err := graph.BlastRadius(ctx, g, "host-2", 3)
		require.NoError(t, err)
		requireNeighbours(t, "host-2", graph.Incoming, upDown, []reach{
			{"db", 1, edge("db", graph.RunsOn, "host-2")},
			{"api", 2, edge("api", graph.DependsOn, "db")},
			{"web", 3, edge("web", graph.DependsOn, "api")},
			{"worker", 3, edge("worker", graph.DependsOn, "api")},
		}, got)
		got, err = graph.BlastRadius(ctx, g, "host-2", 1)
		require.NoError(t, err)
		require.Equal(t, []string{"db"}, ids(got))
		got, err = graph.BlastRadius(ctx, g, "host-1", 2)
		require.NoError(t, err)
		requireNeighbours(t, "host-1", graph.Incoming, upDown, []reach{
			{"api", 1, edge("api", graph.RunsOn, "host-1")},
			{"worker", 1, edge("worker", graph.RunsOn, "host-1")},
			{"web", 2, edge("web", graph.DependsOn, "api")},
		}, got)
	})

	t.Run("Owners", func(t *testing.T) {
		for _, c := range []struct {
			id   string
			want []string
			why  string
		}{
			{"api", []string{"team-payments"}, "direct, though host-1's owner is upstream"},
			{"host-2", []string{"team-infra"}, "direct"},
			{"web", []string{"team-payments"}, "inherited from api, the nearest owned; not host-1's, further"},
			{"worker", []string{"team-infra", "team-payments"}, "inherited from host-1 and api at the same depth"},
			{"db", []string{"team-infra"}, "inherited through RUNS_ON host-2"},
			{"cache", nil, "nothing upstream is owned"},
			{"inc-1", nil, "AFFECTS does not pass ownership"},
		} {
			got, err := graph.Owners(ctx, g, c.id)
			require.NoError(t, err, c.id)
			gotIDs := make([]string, len(got))
			for i, n := range got {
				gotIDs[i] = n.ID
				require.Equal(t, graph.KindCI, n.Kind, "owner %s is filled in", n.ID)
			}
			require.Equal(t, c.want, nilIfEmpty(gotIDs), "owners of %s: %s", c.id, c.why)
		}
		_, err := graph.Owners(ctx, g, "ghost")
		require.ErrorIs(t, err, graph.ErrNotFound)
	})
}

// doc is one document of the search corpus.
type doc struct {
	id    string
	kind  graph.Kind
	typ   string
	title string
	body  string
	// noVector leaves the node without an embedding, so only the lexical
	// list can find it.
	noVector bool
}

// corpus is the fixed search corpus: incidents, runbooks and fixes of a
// fictional shop. Words that queries use appear verbatim, so stemming and
// stop words cannot change which documents match.
var corpus = []doc{
	{id: "pm-pg-replication", kind: graph.KindIssue, typ: "postmortem",
		title: "Postgres replication lag on the orders cluster",
		body:  "The standby replica fell behind the primary by forty minutes after a bulk import saturated the WAL sender. Reads from the replica returned stale orders."},
	{id: "rb-pg-replication", kind: graph.KindDocument, typ: "runbook",
		title: "Runbook: diagnosing replication lag",
		body:  "Check pg_stat_replication on the primary, compare the sent and replayed WAL positions, and look for long transactions on the standby that block replay."},
	{id: "pm-redis-eviction", kind: graph.KindIssue, typ: "postmortem",
		title: "Redis evicting session keys under memory pressure",
		body:  "The cache hit maxmemory and the allkeys-lru policy evicted active sessions, logging users out of checkout."},
	{id: "rb-redis-memory", kind: graph.KindDocument, typ: "runbook",
		title: "Runbook: Redis memory and eviction",
		body:  "Inspect INFO memory, find the largest keys with a sampled scan, raise maxmemory or move sessions to a dedicated instance."},
	{id: "pm-tls-expiry", kind: graph.KindIssue, typ: "postmortem",
		title: "TLS certificate expired on the public gateway",
		body:  "The wildcard certificate was not renewed because the renewal job failed silently; browsers refused connections for two hours."},
	{id: "res-tls-renewal", kind: graph.KindResolution, typ: "fix",
		title: "Renewed the wildcard certificate and alerted before expiry",
		body:  "Issued a new certificate, deployed it to the gateway, and added an alert thirty days before any certificate expires."},
	{id: "pm-kafka-lag", kind: graph.KindIssue, typ: "postmortem",
		title: "Kafka consumer lag on the payments topic",
		body:  "A slow downstream call made the payments consumer group fall behind; partitions accumulated millions of messages."},
	{id: "rb-kafka-consumer", kind: graph.KindDocument, typ: "runbook",
		title: "Runbook: Kafka consumer group lag",
		body:  "Describe the consumer group, find the partitions with the highest lag, and scale consumers up to the partition count."},
	{id: "pm-disk-full", kind: graph.KindIssue, typ: "postmortem",
		title: "Disk full on the logging hosts",
		body:  "Verbose debug logging filled the root volume; services crashed when they could not write temporary files."},
	{id: "rb-disk-space", kind: graph.KindDocument, typ: "runbook",
		title: "Runbook: freeing disk space",
		body:  "Find large files with du, rotate and compress logs, and expand the volume if usage keeps growing."},
	// The same words, once in the title and once in the body.
	{id: "note-zk-title", kind: graph.KindDocument, typ: "note",
		title: "Zookeeper quorum election",
		body:  "Notes kept by the platform group."},
	{id: "note-zk-body", kind: graph.KindDocument, typ: "note",
		title: "Platform group notes",
		body:  "Zookeeper quorum election."},
	// Found only lexically: it has no embedding.
	{id: "svc-gateway", kind: graph.KindCI, typ: "service",
		title: "Gateway certificate: gateway certificate inventory",
		body:  "The public gateway terminates TLS with the wildcard gateway certificate.", noVector: true},
}

func (s *suite) corpusNodes(t *testing.T) []graph.Node {
	t.Helper()
	nodes := make([]graph.Node, len(corpus))
	for i, d := range corpus {
		nodes[i] = graph.Node{ID: d.id, Kind: d.kind, Type: d.typ, Title: d.title, Body: d.body}
		if !d.noVector {
			nodes[i].Embedding = s.embedText(t, d.title+"\n"+d.body)
		}
	}
	return nodes
}

func (s *suite) setupCorpus(t *testing.T) *bundle {
	t.Helper()
	b := s.setup(t)
	require.NoError(t, b.g.UpsertNodes(b.acme, s.corpusNodes(t)))
	return b
}

// search runs q and checks what holds of every answer: at most K hits,
// each in at least one list, only in the lists q asked for, with the RRF
// score of its ranks, within the filters, ordered by score then ID, and
// ranks that agree with scores within each list (equal scores ranked by
// ID, so a list cut at any length is a prefix of a longer one).
func search(t *testing.T, g graph.Graph, ctx context.Context, q graph.Query) []graph.Hit {
	t.Helper()
	hits, err := g.HybridSearch(ctx, q)
	require.NoError(t, err)
	require.LessOrEqual(t, len(hits), q.K, "more hits than K")
	k := q.RRFK
	if k == 0 {
		k = graph.DefaultRRFK
	}
	seen := map[string]bool{}
	lexRanks, vecRanks := map[int]bool{}, map[int]bool{}
	for i, h := range hits {
		id := h.Node.ID
		require.False(t, seen[id], "hit %s twice", id)
		seen[id] = true
		require.NotEmpty(t, h.Node.Kind, "hit %s: Node is filled in", id)
		require.True(t, h.LexicalRank > 0 || h.VectorRank > 0, "hit %s is in neither list", id)
		require.GreaterOrEqual(t, h.LexicalRank, 0)
		require.GreaterOrEqual(t, h.VectorRank, 0)
		if q.Text == "" {
			require.Zero(t, h.LexicalRank, "hit %s: a query without text has no lexical list", id)
		}
		if q.Vector == nil {
			require.Zero(t, h.VectorRank, "hit %s: a query without a vector has no vector list", id)
		}
		want := 0.0
		if h.LexicalRank > 0 {
			require.False(t, lexRanks[h.LexicalRank], "lexical rank %d twice", h.LexicalRank)
			lexRanks[h.LexicalRank] = true
			want += 1 / float64(k+h.LexicalRank)
		}
		if h.VectorRank > 0 {
			require.False(t, vecRanks[h.VectorRank], "vector rank %d twice", h.VectorRank)
			vecRanks[h.VectorRank] = true
			require.InDelta(t, 0, h.VectorScore, 1+1e-4, "hit %s: a cosine similarity is within [-1, 1]", id)
			want += 1 / float64(k+h.VectorRank)
		}
		require.InDelta(t, want, h.Score, 1e-9, "hit %s: Score is Σ 1/(%d + rank) of ranks %d and %d", id, k, h.LexicalRank, h.VectorRank)
		if len(q.Filters.Kinds) > 0 {
			require.Contains(t, q.Filters.Kinds, h.Node.Kind, "hit %s: kind outside the filter", id)
		}
		if len(q.Filters.Types) > 0 {
			require.Contains(t, q.Filters.Types, h.Node.Type, "hit %s: type outside the filter", id)
		}
		if i > 0 {
			p := hits[i-1]
			if math.Abs(p.Score-h.Score) < 1e-12 {
				require.Less(t, p.Node.ID, id, "equal scores are ordered by ID")
			} else {
				require.Greater(t, p.Score, h.Score, "hits are ordered by score")
			}
		}
	}
	for _, a := range hits {
		for _, b := range hits {
			if a.LexicalRank > 0 && b.LexicalRank > a.LexicalRank {
				require.GreaterOrEqual(t, a.LexicalScore, b.LexicalScore, "lexical rank %d (%s) scores below rank %d (%s)", a.LexicalRank, a.Node.ID, b.LexicalRank, b.Node.ID)
				if a.LexicalScore == b.LexicalScore {
					require.Less(t, a.Node.ID, b.Node.ID, "equal lexical scores are ranked by ID")
				}
			}
			if a.VectorRank > 0 && b.VectorRank > a.VectorRank {
				require.GreaterOrEqual(t, a.VectorScore, b.VectorScore, "vector rank %d (%s) scores below rank %d (%s)", a.VectorRank, a.Node.ID, b.VectorRank, b.Node.ID)
				if a.VectorScore == b.VectorScore {
					require.Less(t, a.Node.ID, b.Node.ID, "equal vector scores are ranked by ID")
				}
			}
		}
	}
	return hits
}

// requireWholeLists checks, for a K above the corpus size, that each list's
// ranks are 1..n: filters narrow the lists before ranking, and no ranked
// node is missing from the hits.
func requireWholeLists(t *testing.T, hits []graph.Hit) {
	t.Helper()
	var lex, vec []int
	for _, h := range hits {
		if h.LexicalRank > 0 {
			lex = append(lex, h.LexicalRank)
		}
		if h.VectorRank > 0 {
			vec = append(vec, h.VectorRank)
		}
	}
	slices.Sort(lex)
	slices.Sort(vec)
	for i, r := range lex {
		require.Equal(t, i+1, r, "lexical ranks %v are not 1..%d", lex, len(lex))
	}
	for i, r := range vec {
		require.Equal(t, i+1, r, "vector ranks %v are not 1..%d", vec, len(vec))
	}
}

func hitByID(hits []graph.Hit, id string) (graph.Hit, bool) {
	for _, h := range hits {
		if h.Node.ID == id {
			return h, true
		}
	}
	return graph.Hit{}, false
}

func hitIDs(hits []graph.Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.Node.ID
	}
	return out
}

func (s *suite) testSearch(t *testing.T) {
	t.Parallel()
	b := s.setupCorpus(t)
	ctx, g := b.acme, b.g
	all := 50 // above the corpus size, so no list is cut

	t.Run("TextOnly", func(t *testing.T) {
		t.Parallel()
		hits := search(t, g, ctx, graph.Query{Text: "disk full", K: all})
		requireWholeLists(t, hits)
		require.NotEmpty(t, hits)
		require.Equal(t, "pm-disk-full", hits[0].Node.ID, "the document with both words in its title: %v", hitIDs(hits))
		require.Equal(t, 1, hits[0].LexicalRank)
		require.Zero(t, hits[0].VectorRank)
		require.Greater(t, hits[0].LexicalScore, 0.0)
		for _, id := range []string{"pm-kafka-lag", "rb-redis-memory", "note-zk-title"} {
			_, ok := hitByID(hits, id)
			require.False(t, ok, "%s shares no word with the query but is a lexical hit", id)
		}

		hits = search(t, g, ctx, graph.Query{Text: "Kafka consumer lag", K: all})
		require.GreaterOrEqual(t, len(hits), 2)
		require.ElementsMatch(t, []string{"pm-kafka-lag", "rb-kafka-consumer"}, hitIDs(hits[:2]),
			"the two Kafka documents lead; case does not matter: %v", hitIDs(hits))

		hits = search(t, g, ctx, graph.Query{Text: "gateway certificate", K: all})
		require.Equal(t, "svc-gateway", hits[0].Node.ID, "a node without an embedding is searchable by text: %v", hitIDs(hits))
	})

	t.Run("VectorOnly", func(t *testing.T) {
		t.Parallel()
		nodes := s.corpusNodes(t)
		for _, n := range nodes {
			if n.Embedding == nil {
				continue
			}
			hits := search(t, g, ctx, graph.Query{Vector: n.Embedding, K: all})
			requireWholeLists(t, hits)
			require.Equal(t, n.ID, hits[0].Node.ID, "the node whose vector is the query's comes first")
			require.Equal(t, 1, hits[0].VectorRank)
			require.InDelta(t, 1, hits[0].VectorScore, 1e-4)
			require.InDelta(t, 1/float64(graph.DefaultRRFK+1), hits[0].Score, 1e-9)
			_, ok := hitByID(hits, "svc-gateway")
			require.False(t, ok, "a node without an embedding is in the vector list")
			require.Len(t, hits, len(nodes)-1, "exact search ranks every embedded node")
		}

		hits := search(t, g, ctx, graph.Query{Vector: s.embedText(t, "kafka consumer lag"), K: all})
		require.ElementsMatch(t, []string{"pm-kafka-lag", "rb-kafka-consumer"}, hitIDs(hits[:2]),
			"the two Kafka documents have the nearest vectors: %v", hitIDs(hits))
	})

	t.Run("Hybrid", func(t *testing.T) {
		t.Parallel()
		q := graph.Query{Text: "gateway certificate", Vector: s.embedText(t, "gateway certificate"), K: all}
		hits := search(t, g, ctx, q)
		requireWholeLists(t, hits)
		gw, ok := hitByID(hits, "svc-gateway")
		require.True(t, ok)
		require.Equal(t, 1, gw.LexicalRank, "svc-gateway leads the lexical list: %v", hitIDs(hits))
		require.Zero(t, gw.VectorRank)
		// With k = 60 and a corpus this small, being in both lists beats
		// leading one: the best hit is one both lists found, ahead of the
		// lexical list's first.
		require.NotZero(t, hits[0].LexicalRank, "best hit %s", hits[0].Node.ID)
		require.NotZero(t, hits[0].VectorRank, "best hit %s", hits[0].Node.ID)
		require.Contains(t, []string{"pm-tls-expiry", "res-tls-renewal"}, hits[0].Node.ID)
		for _, h := range hits {
			if h.LexicalRank > 0 && h.VectorRank > 0 {
				require.Greater(t, h.Score, gw.Score, "%s, in both lists, is not ahead of svc-gateway, in one", h.Node.ID)
			}
		}

		// The same query with the document's own vector puts it first in
		// both lists.
		nodes := s.corpusNodes(t)
		kafka := nodes[slices.IndexFunc(nodes, func(n graph.Node) bool { return n.ID == "pm-kafka-lag" })]
		hits = search(t, g, ctx, graph.Query{Text: "kafka payments topic", Vector: kafka.Embedding, K: all})
		require.Equal(t, "pm-kafka-lag", hits[0].Node.ID)
		require.Equal(t, 1, hits[0].LexicalRank)
		require.Equal(t, 1, hits[0].VectorRank)
		require.InDelta(t, 2/float64(graph.DefaultRRFK+1), hits[0].Score, 1e-9)
	})

	t.Run("K", func(t *testing.T) {
		t.Parallel()
		vec := s.embedText(t, "replication lag on the primary")
		for _, q := range []graph.Query{{Vector: vec}, {Text: "lag"}} {
			q.K = all
			full := search(t, g, ctx, q)
			require.Greater(t, len(full), 3)
			q.K = 3
			top := search(t, g, ctx, q)
			require.Equal(t, hitIDs(full[:3]), hitIDs(top), "K=3 is the first three of a longer list")
			q.K = 1
			require.Len(t, search(t, g, ctx, q), 1)
		}
		hits := search(t, g, ctx, graph.Query{Text: "lag", Vector: vec, K: 2})
		require.Len(t, hits, 2)
		hits = search(t, g, ctx, graph.Query{Text: "zookeeper", K: graph.MaxK})
		require.Len(t, hits, 2, "fewer matches than K")
	})

	t.Run("RRFK", func(t *testing.T) {
		t.Parallel()
		q := graph.Query{Text: "replication lag", Vector: s.embedText(t, "replication lag"), K: all}
		def := search(t, g, ctx, q)
		q.RRFK = 1
		one := search(t, g, ctx, q) // search checks Score = Σ 1/(1 + rank)
		require.Greater(t, one[0].Score, def[0].Score)
		require.Greater(t, one[0].Score, 0.5)
		q.RRFK = graph.DefaultRRFK
		require.Equal(t, def, search(t, g, ctx, q), "RRFK 0 means DefaultRRFK")
	})

	t.Run("Filters", func(t *testing.T) {
		t.Parallel()
		vec := s.embedText(t, "consumer lag replication")
		for _, f := range []graph.Filters{
			{Kinds: []graph.Kind{graph.KindDocument}},
			{Kinds: []graph.Kind{graph.KindIssue, graph.KindResolution}},
			{Types: []string{"postmortem"}},
			{Kinds: []graph.Kind{graph.KindDocument}, Types: []string{"runbook"}},
		} {
			hits := search(t, g, ctx, graph.Query{Text: "lag", Vector: vec, K: all, Filters: f})
			require.NotEmpty(t, hits, "%+v", f)
			requireWholeLists(t, hits) // ranks are within the filtered set
		}
		hits := search(t, g, ctx, graph.Query{Text: "lag", Vector: vec, K: all,
			Filters: graph.Filters{Kinds: []graph.Kind{graph.KindIssue}, Types: []string{"runbook"}}})
		require.Empty(t, hits, "filters combine with AND")
		hits = search(t, g, ctx, graph.Query{Text: "gateway", K: all, Filters: graph.Filters{Kinds: []graph.Kind{graph.KindCI}}})
		require.Equal(t, []string{"svc-gateway"}, hitIDs(hits))
		hits = search(t, g, ctx, graph.Query{Text: "lag", Vector: vec, K: all, Filters: graph.Filters{Types: []string{"no-such-type"}}})
		require.Empty(t, hits)
	})

	t.Run("TitleWeighsMore", func(t *testing.T) {
		t.Parallel()
		hits := search(t, g, ctx, graph.Query{Text: "zookeeper quorum election", K: all})
		require.Equal(t, []string{"note-zk-title", "note-zk-body"}, hitIDs(hits))
		require.Greater(t, hits[0].LexicalScore, hits[1].LexicalScore, "the title weighs more than the body")
	})

	t.Run("BadQuery", func(t *testing.T) {
		t.Parallel()
		vec := s.embedText(t, "disk")
		nan := slices.Clone(vec)
		nan[0] = float32(math.NaN())
		inf := slices.Clone(vec)
		inf[1] = float32(math.Inf(1))
		for name, q := range map[string]graph.Query{
			"K0":             {Text: "disk", K: 0},
			"KNegative":      {Text: "disk", K: -1},
			"KOverMax":       {Text: "disk", K: graph.MaxK + 1},
			"Empty":          {K: 10},
			"ShortVector":    {Vector: vec[:s.dim-1], K: 10},
			"LongVector":     {Vector: append(slices.Clone(vec), 0), K: 10},
			"NaN":            {Vector: nan, K: 10},
			"Inf":            {Text: "disk", Vector: inf, K: 10},
			"NegativeRRFK":   {Text: "disk", K: 10, RRFK: -1},
			"UnknownKind":    {Text: "disk", K: 10, Filters: graph.Filters{Kinds: []graph.Kind{"widget"}}},
			"EmptyVectorSet": {Vector: []float32{}, K: 10},
		} {
			t.Run(name, func(t *testing.T) {
				_, err := g.HybridSearch(ctx, q)
				require.ErrorIs(t, err, graph.ErrInvalid)
			})
		}
		_, err := g.HybridSearch(ctx, graph.Query{Vector: vec[:s.dim-1], K: 10})
		require.ErrorContains(t, err, fmt.Sprint(s.dim), "the error says the graph's dimension")
	})
}

func (s *suite) testTenantIsolation(t *testing.T) {
	t.Parallel()
	b := s.setupCMDB(t)
	corpus := s.corpusNodes(t)
	require.NoError(t, b.g.UpsertNodes(b.acme, corpus))
	acme := map[string]bool{}
	nodes, _ := cmdb()
	for _, n := range append(nodes, corpus...) {
		acme[n.ID] = true
	}

	// globex has an "api" of its own and a node of its own.
	gAPI := graph.Node{ID: "api", Kind: graph.KindCI, Type: "service", Title: "Globex billing API",
		Body: "Bills globex customers.", Embedding: s.embedText(t, "globex billing api")}
	gDB := graph.Node{ID: "globex-db", Kind: graph.KindCI, Type: "database", Title: "Globex ledger database",
		Body: "Holds the ledger.", Embedding: s.embedText(t, "globex ledger database")}
	require.NoError(t, b.g.UpsertNodes(b.globex, []graph.Node{gAPI, gDB}))
	require.NoError(t, b.g.UpsertEdges(b.globex, []graph.Edge{edge("api", graph.DependsOn, "globex-db")}))

	// onlyGlobex checks that nodes seen by globex are globex's.
	onlyGlobex := func(t *testing.T, n graph.Node) {
		t.Helper()
		require.Contains(t, []string{"api", "globex-db"}, n.ID, "globex sees acme's node %s", n.ID)
		require.True(t, strings.HasPrefix(n.Title, "Globex"), "globex sees acme's %s: %q", n.ID, n.Title)
	}

	t.Run("Node", func(t *testing.T) {
		for id := range acme {
			if id == "api" {
				continue
			}
			_, err := b.g.Node(b.globex, id)
			require.ErrorIs(t, err, graph.ErrNotFound, "globex reads acme's %s", id)
		}
		got, err := b.g.Node(b.globex, "api")
		require.NoError(t, err)
		requireNode(t, gAPI, got)
		got, err = b.g.Node(b.acme, "api")
		require.NoError(t, err)
		require.Equal(t, "api", got.Title, "globex's upsert of api changed acme's")
	})

	t.Run("Traverse", func(t *testing.T) {
		for _, id := range []string{"db", "web", "inc-1"} {
			_, err := b.g.Traverse(b.globex, id, graph.Both, nil, 1)
			require.ErrorIs(t, err, graph.ErrNotFound, "globex walks from acme's %s", id)
		}
		for _, dir := range []graph.Direction{graph.Outgoing, graph.Incoming, graph.Both} {
			ns, err := b.g.Traverse(b.globex, "api", dir, nil, graph.MaxTraverseDepth)
			require.NoError(t, err)
			for _, n := range ns {
				onlyGlobex(t, n.Node)
			}
		}
		ns, err := b.g.Traverse(b.globex, "api", graph.Both, nil, graph.MaxTraverseDepth)
		require.NoError(t, err)
		require.Equal(t, []string{"globex-db"}, ids(ns))
		ns, err = b.g.Traverse(b.acme, "api", graph.Outgoing, []graph.EdgeType{graph.DependsOn}, 1)
		require.NoError(t, err)
		require.Equal(t, []string{"cache", "db"}, ids(ns), "globex's edge from api shows in acme's")
		owners, err := graph.Owners(b.globex, b.g, "api")
		require.NoError(t, err)
		require.Empty(t, owners, "globex's api inherits acme's owners")
	})

	t.Run("HybridSearch", func(t *testing.T) {
		queries := []graph.Query{
			{Text: "disk full", K: graph.MaxK},
			{Text: "api", K: graph.MaxK},
			{Vector: corpus[0].Embedding, K: graph.MaxK},
			{Text: "kafka consumer lag", Vector: corpus[6].Embedding, K: graph.MaxK},
		}
		for _, q := range queries {
			for _, h := range search(t, b.g, b.globex, q) {
				onlyGlobex(t, h.Node)
			}
		}
		hits := search(t, b.g, b.globex, graph.Query{Vector: corpus[0].Embedding, K: graph.MaxK})
		require.Len(t, hits, 2, "globex's vector list holds its two nodes only")
		hits = search(t, b.g, b.acme, graph.Query{Text: "globex ledger", Vector: gDB.Embedding, K: graph.MaxK})
		for _, h := range hits {
			require.True(t, acme[h.Node.ID], "acme sees %s", h.Node.ID)
			require.False(t, strings.HasPrefix(h.Node.Title, "Globex"), "acme sees globex's %s", h.Node.ID)
		}
	})

	t.Run("Writes", func(t *testing.T) {
		err := b.g.UpsertEdges(b.globex, []graph.Edge{edge("api", graph.DependsOn, "db")})
		require.ErrorIs(t, err, graph.ErrNotFound, "globex joins its api to acme's db")
		err = b.g.UpsertEdges(b.globex, []graph.Edge{edge("web", graph.DependsOn, "api")})
		require.ErrorIs(t, err, graph.ErrNotFound, "globex joins acme's web to its api")

		require.NoError(t, b.g.DeleteEdges(b.globex, []graph.Edge{edge("web", graph.DependsOn, "api"), edge("api", graph.DependsOn, "db")}))
		require.NoError(t, b.g.DeleteNodes(b.globex, []string{"db", "web", "pm-disk-full"}))
		for _, id := range []string{"db", "web", "pm-disk-full"} {
			_, err := b.g.Node(b.acme, id)
			require.NoError(t, err, "globex deleted acme's %s", id)
		}
		require.True(t, hasEdge(t, b.g, b.acme, edge("web", graph.DependsOn, "api")), "globex deleted acme's edge")
		require.True(t, hasEdge(t, b.g, b.acme, edge("api", graph.DependsOn, "db")), "globex deleted acme's edge")
		ns, err := b.g.Traverse(b.acme, "db", graph.Incoming, nil, 1)
		require.NoError(t, err)
		require.Equal(t, []string{"api", "rb-1"}, ids(ns))
	})

	// Runs last (subtests above are sequential): deleting acme's api leaves
	// globex's.
	t.Run("DeleteSameID", func(t *testing.T) {
		require.NoError(t, b.g.DeleteNodes(b.acme, []string{"api"}))
		got, err := b.g.Node(b.globex, "api")
		require.NoError(t, err)
		requireNode(t, gAPI, got)
		ns, err := b.g.Traverse(b.globex, "api", graph.Outgoing, nil, 1)
		require.NoError(t, err)
		require.Equal(t, []string{"globex-db"}, ids(ns), "acme's delete took globex's edge")
	})
}

func (s *suite) testBadInput(t *testing.T) {
	t.Parallel()
	b := s.setup(t)
	vec := s.embedText(t, "anything")
	good := graph.Node{ID: "good", Kind: graph.KindCI, Type: "service", Title: "fine", Embedding: vec}
	with := func(f func(n *graph.Node)) graph.Node {
		n := good
		n.Properties = map[string]string{"k": "v"}
		f(&n)
		return n
	}
	nan := slices.Clone(vec)
	nan[3] = float32(math.NaN())
	cases := map[string]struct {
		node graph.Node
		says string // a part of the error message
	}{
		"EmptyID":         {with(func(n *graph.Node) { n.ID = "" }), "id"},
		"LongID":          {with(func(n *graph.Node) { n.ID = strings.Repeat("x", graph.MaxIDLen+1) }), "id"},
		"ControlCharID":   {with(func(n *graph.Node) { n.ID = "a\nb" }), "control character"},
		"NULInID":         {with(func(n *graph.Node) { n.ID = "a\x00b" }), "control character"},
		"InvalidUTF8ID":   {with(func(n *graph.Node) { n.ID = "a\xffb" }), "UTF-8"},
		"UnknownKind":     {with(func(n *graph.Node) { n.Kind = "widget" }), `"widget"`},
		"EmptyKind":       {with(func(n *graph.Node) { n.Kind = "" }), "kind"},
		"EmptyType":       {with(func(n *graph.Node) { n.Type = "" }), "type"},
		"UpperCaseType":   {with(func(n *graph.Node) { n.Type = "Service" }), `"Service"`},
		"LongType":        {with(func(n *graph.Node) { n.Type = strings.Repeat("a", 65) }), "type"},
		"LongTitle":       {with(func(n *graph.Node) { n.Title = strings.Repeat("a", graph.MaxTitleLen+1) }), "title"},
		"InvalidUTF8Body": {with(func(n *graph.Node) { n.Body = "\xc3\x28" }), "UTF-8"},
		"BadPropertyName": {with(func(n *graph.Node) { n.Properties = map[string]string{"a b": "v"} }), `"a b"`},
		"ShortEmbedding":  {with(func(n *graph.Node) { n.Embedding = vec[:s.dim-1] }), fmt.Sprint(s.dim)},
		"LongEmbedding":   {with(func(n *graph.Node) { n.Embedding = append(slices.Clone(vec), 1) }), fmt.Sprint(s.dim)},
		"NaNEmbedding":    {with(func(n *graph.Node) { n.Embedding = nan }), "NaN"},
		"TooManyProperties": {with(func(n *graph.Node) {
			n.Properties = map[string]string{}
			for i := range graph.MaxProperties + 1 {
				n.Properties[fmt.Sprintf("p%d", i)] = "v"
			}
		}), "properties"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			err := b.g.UpsertNodes(b.acme, []graph.Node{c.node})
			require.ErrorIs(t, err, graph.ErrInvalid)
			require.Contains(t, err.Error(), c.says, "the error says what is wrong")
			if c.node.ID != "" {
				_, err = b.g.Node(b.acme, c.node.ID)
				require.Error(t, err, "the invalid node was stored")
			}
		})
	}

	t.Run("InvalidIDsElsewhere", func(t *testing.T) {
		require.NoError(t, b.g.UpsertNodes(b.acme, []graph.Node{good}))
		for _, id := range []string{"", strings.Repeat("x", graph.MaxIDLen+1), "a\tb"} {
			_, err := b.g.Node(b.acme, id)
			require.ErrorIs(t, err, graph.ErrInvalid, "Node(%q)", id)
			err = b.g.UpsertEdges(b.acme, []graph.Edge{edge("good", graph.DependsOn, id)})
			require.ErrorIs(t, err, graph.ErrInvalid, "UpsertEdges to %q", id)
			err = b.g.DeleteNodes(b.acme, []string{id})
			require.ErrorIs(t, err, graph.ErrInvalid, "DeleteNodes(%q)", id)
		}
	})

	// Postgres text cannot hold NUL; the model does not forbid it yet. An
	// adapter either keeps it or refuses it as invalid input, never fails
	// with a driver error.
	t.Run("NULInText", func(t *testing.T) {
		n := with(func(n *graph.Node) {
			n.ID = "nul"
			n.Title = "a\x00b"
			n.Body = "c\x00d"
			n.Properties = map[string]string{"k": "e\x00f"}
		})
		err := b.g.UpsertNodes(b.acme, []graph.Node{n})
		if err != nil {
			require.ErrorIs(t, err, graph.ErrInvalid)
			return
		}
		got, err := b.g.Node(b.acme, "nul")
		require.NoError(t, err)
		requireNode(t, n, got)
	})
}

// listFixture is 25 nodes of every kind (10 CIs, 7 issues, 5 documents, 3
// resolutions) whose IDs, "n0" to "n24", sort differently as strings than
// as numbers, and whose order every store's text ordering agrees on. Every
// third node has an embedding.
func (s *suite) listFixture(t *testing.T) []graph.Node {
	t.Helper()
	kinds := slices.Concat(
		slices.Repeat([]graph.Kind{graph.KindCI}, 10),
		slices.Repeat([]graph.Kind{graph.KindIssue}, 7),
		slices.Repeat([]graph.Kind{graph.KindDocument}, 5),
		slices.Repeat([]graph.Kind{graph.KindResolution}, 3),
	)
	// Interleave the kinds over the IDs, so every page mixes them.
	order := []int{0, 10, 17, 22, 1, 11, 18, 23, 2, 12, 19, 24, 3, 13, 20, 4, 14, 21, 5, 15, 6, 16, 7, 8, 9}
	out := make([]graph.Node, len(kinds))
	for i, k := range order {
		n := graph.Node{ID: fmt.Sprintf("n%d", i), Kind: kinds[k], Type: "t" + string(kinds[k]),
			Title: fmt.Sprintf("Node %d", i), Body: fmt.Sprintf("The body of node %d.", i)}
		if i%2 == 0 {
			n.Properties = map[string]string{"i": fmt.Sprint(i), "env": "prod"}
		}
		if i%3 == 0 {
			n.Embedding = s.embedText(t, n.Title)
		}
		out[i] = n
	}
	return out
}

// listAll pages through ListNodes(kind) with limit, checking each page,
// and returns every node listed in order.
func listAll(t *testing.T, g graph.Graph, ctx context.Context, kind graph.Kind, limit int) []graph.Node {
	t.Helper()
	var all []graph.Node
	after := ""
	for range 1000 {
		page, err := g.ListNodes(ctx, kind, after, limit)
		require.NoError(t, err, "ListNodes(%q, %q, %d)", kind, after, limit)
		require.LessOrEqual(t, len(page), limit, "ListNodes(%q, %q, %d) returned more than the limit", kind, after, limit)
		for _, n := range page {
			require.Greater(t, n.ID, after, "ListNodes(%q, after %q): IDs must increase", kind, after)
			require.Nil(t, n.Embedding, "ListNodes(%q): node %q comes with its embedding", kind, n.ID)
			after = n.ID
		}
		all = append(all, page...)
		if len(page) < limit {
			return all
		}
	}
	t.Fatalf("ListNodes(%q) did not end after 1000 pages", kind)
	return nil
}

func listedIDs(ns []graph.Node) []string {
	out := []string{}
	for _, n := range ns {
		out = append(out, n.ID)
	}
	return out
}

func (s *suite) testListNodes(t *testing.T) {
	t.Parallel()
	b := s.setup(t)
	fixture := s.listFixture(t)
	require.NoError(t, b.g.UpsertNodes(b.acme, fixture))
	want := func(kind graph.Kind) []graph.Node {
		var out []graph.Node
		for _, n := range fixture {
			if kind == "" || n.Kind == kind {
				n.Embedding = nil
				out = append(out, n)
			}
		}
		slices.SortFunc(out, func(a, b graph.Node) int { return strings.Compare(a.ID, b.ID) })
		return out
	}

	t.Run("PagesVisitEachNodeOnceInOrder", func(t *testing.T) {
		for _, kind := range append([]graph.Kind{""}, graph.Kinds...) {
			wantNodes := want(kind)
			got := listAll(t, b.g, b.acme, kind, 10)
			require.Equal(t, listedIDs(wantNodes), listedIDs(got), "ListNodes(%q) by pages of 10", kind)
			for i, n := range got {
				requireNode(t, wantNodes[i], n)
				stored, err := b.g.Node(b.acme, n.ID)
				require.NoError(t, err)
				require.True(t, stored.UpdatedAt.Equal(n.UpdatedAt), "node %q: UpdatedAt %v listed, %v read", n.ID, n.UpdatedAt, stored.UpdatedAt)
			}
		}
		require.Len(t, want(""), 25)
		require.Len(t, want(graph.KindCI), 10, "a kind filling its last page exactly")
	})

	t.Run("PageBoundaries", func(t *testing.T) {
		all := listedIDs(want(""))
		page, err := b.g.ListNodes(b.acme, "", "", 1)
		require.NoError(t, err)
		require.Equal(t, all[:1], listedIDs(page))
		page, err = b.g.ListNodes(b.acme, "", "", graph.MaxListLimit)
		require.NoError(t, err)
		require.Equal(t, all, listedIDs(page), "one page of MaxListLimit holds them all")
		page, err = b.g.ListNodes(b.acme, "", all[len(all)-1], 10)
		require.NoError(t, err)
		require.Empty(t, page, "nothing after the last ID")
		// after need not be a node's ID: "n15x" sorts between n15 and n16.
		page, err = b.g.ListNodes(b.acme, "", "n15x", 3)
		require.NoError(t, err)
		require.Equal(t, []string{"n16", "n17", "n18"}, listedIDs(page))
		page, err = b.g.ListNodes(b.acme, graph.KindResolution, "n15x", 10)
		require.NoError(t, err)
		require.Equal(t, listedIDs(want(graph.KindResolution))[1:], listedIDs(page))
	})

	t.Run("TenantIsolation", func(t *testing.T) {
		for _, kind := range append([]graph.Kind{""}, graph.Kinds...) {
			page, err := b.g.ListNodes(b.globex, kind, "", graph.MaxListLimit)
			require.NoError(t, err)
			require.Empty(t, page, "globex lists acme's nodes of kind %q", kind)
		}
		// globex has an n3 of its own (acme's is a resolution), and one more.
		gN3 := graph.Node{ID: "n3", Kind: graph.KindIssue, Type: "incident", Title: "Globex n3"}
		gZ := graph.Node{ID: "zz", Kind: graph.KindCI, Type: "host", Title: "Globex zz"}
		require.NoError(t, b.g.UpsertNodes(b.globex, []graph.Node{gZ, gN3}))
		got := listAll(t, b.g, b.globex, "", 10)
		require.Equal(t, []string{"n3", "zz"}, listedIDs(got))
		requireNode(t, gN3, got[0])
		requireNode(t, gZ, got[1])
		got = listAll(t, b.g, b.globex, graph.KindIssue, 10)
		require.Equal(t, []string{"n3"}, listedIDs(got))
		require.Equal(t, listedIDs(want("")), listedIDs(listAll(t, b.g, b.acme, "", 10)), "globex's writes changed acme's list")
	})

	t.Run("BadInput", func(t *testing.T) {
		for name, c := range map[string]struct {
			kind  graph.Kind
			after string
			limit int
		}{
			"UnknownKind":   {"widget", "", 10},
			"UpperCaseKind": {"CI", "", 10},
			"ZeroLimit":     {"", "", 0},
			"NegativeLimit": {graph.KindCI, "", -1},
			"LimitOverMax":  {"", "", graph.MaxListLimit + 1},
			"ControlAfter":  {"", "a\nb", 10},
			"InvalidAfter":  {"", "a\xffb", 10},
			"LongAfter":     {"", strings.Repeat("x", graph.MaxIDLen+1), 10},
		} {
			_, err := b.g.ListNodes(b.acme, c.kind, c.after, c.limit)
			require.ErrorIs(t, err, graph.ErrInvalid, "%s: ListNodes(%q, %q, %d)", name, c.kind, c.after, c.limit)
		}
	})

	t.Run("NoTenant", func(t *testing.T) {
		for name, ctx := range map[string]context.Context{
			"none":         t.Context(),
			"empty tenant": tenant.WithIdentity(t.Context(), tenant.Identity{Subject: "graphtest"}),
		} {
			got, err := b.g.ListNodes(ctx, "", "", 10)
			require.Error(t, err, name)
			require.Empty(t, got, name)
		}
	})

	// Runs last (subtests above are sequential).
	t.Run("AfterWrites", func(t *testing.T) {
		moved := fixture[0]
		moved.Kind, moved.Type, moved.Embedding = graph.KindDocument, "runbook", nil
		require.NoError(t, b.g.UpsertNodes(b.acme, []graph.Node{moved}))
		require.NoError(t, b.g.DeleteNodes(b.acme, []string{"n1"}))
		ids := listedIDs(listAll(t, b.g, b.acme, "", 10))
		require.Len(t, ids, 24)
		require.NotContains(t, ids, "n1", "a deleted node is listed")
		require.Contains(t, listedIDs(listAll(t, b.g, b.acme, graph.KindDocument, 10)), "n0", "a node listed under its old kind")
		require.NotContains(t, listedIDs(listAll(t, b.g, b.acme, graph.KindCI, 10)), "n0", "a node listed under its old kind")
	})
}

func ids(ns []graph.Neighbour) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Node.ID)
	}
	return out
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}
