package neo4j_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/graph"
	"github.com/alexus-platform/alexus/internal/graph/graphtest"
	graphneo4j "github.com/alexus-platform/alexus/internal/graph/neo4j"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// TestConformance runs the suite every graph adapter passes against the
// Neo4j 5 server at ALEXUS_NEO4J_URL (ALEXUS_NEO4J_USER, default neo4j;
// ALEXUS_NEO4J_PASSWORD; ALEXUS_NEO4J_DATABASE, default the home database).
//
// The suite runs its subtests in parallel, each wanting an empty store
// holding tenants acme and globex, and Neo4j Community has one database.
// So each subtest's graph is the one adapter seen through a tenant
// namespace: its tenants are "<run>-<n>-acme" and "<run>-<n>-globex",
// which the adapter isolates like any two tenants, and their nodes are
// deleted when the subtest ends. What the namespace cannot isolate is the
// full-text index's statistics, which span every tenant (see doc.go); the
// suite asserts only orders that hold whatever they are.
func TestConformance(t *testing.T) {
	t.Parallel()
	url := os.Getenv("ALEXUS_NEO4J_URL")
	if url == "" {
		t.Skip("SKIPPED: ALEXUS_NEO4J_URL not set; the Neo4j adapter's conformance suite needs a Neo4j 5 server")
	}
	user := os.Getenv("ALEXUS_NEO4J_USER")
	if user == "" {
		user = "neo4j"
	}
	database := os.Getenv("ALEXUS_NEO4J_DATABASE")
	driver, err := graphneo4j.Open(t.Context(), url, user, os.Getenv("ALEXUS_NEO4J_PASSWORD"))
	require.NoError(t, err, "ALEXUS_NEO4J_URL is set but the server does not answer")
	t.Cleanup(func() { _ = driver.Close(context.Background()) })
	g, err := graphneo4j.New(t.Context(), driver, graphneo4j.Config{Database: database})
	require.NoError(t, err)

	run := make([]byte, 4)
	_, _ = rand.Read(run)
	var n atomic.Int64
	graphtest.Run(t, graph.DefaultDimension, func(t *testing.T) graph.Graph {
		prefix := fmt.Sprintf("gt%s-%d-", hex.EncodeToString(run), n.Add(1))
		t.Cleanup(func() {
			_, err := neo4j.ExecuteQuery(context.Background(), driver,
				`MATCH (n:KGNode) WHERE n.tenant_id STARTS WITH $prefix DETACH DELETE n`,
				map[string]any{"prefix": prefix}, neo4j.EagerResultTransformer, neo4j.ExecuteQueryWithDatabase(database))
			if err != nil {
				t.Errorf("delete the nodes of %s*: %v", prefix, err)
			}
		})
		return namespaced{g: g, prefix: prefix}
	})
}

// namespaced is a graph whose callers' tenants are prefixed: the suite's
// acme and globex become tenants of their own for each subtest. A context
// without a tenant passes unchanged, so the adapter still refuses it.
type namespaced struct {
	g      graph.Graph
	prefix string
}

func (n namespaced) scope(ctx context.Context) context.Context {
	id, ok := tenant.FromContext(ctx)
	if !ok {
		return ctx
	}
	id.Tenant = tenant.ID(n.prefix + string(id.Tenant))
	return tenant.WithIdentity(ctx, id)
}

func (n namespaced) Dimension() int { return n.g.Dimension() }

func (n namespaced) UpsertNodes(ctx context.Context, nodes []graph.Node) error {
	return n.g.UpsertNodes(n.scope(ctx), nodes)
}

func (n namespaced) DeleteNodes(ctx context.Context, ids []string) error {
	return n.g.DeleteNodes(n.scope(ctx), ids)
}

func (n namespaced) Node(ctx context.Context, id string) (graph.Node, error) {
	return n.g.Node(n.scope(ctx), id)
}

func (n namespaced) UpsertEdges(ctx context.Context, edges []graph.Edge) error {
	return n.g.UpsertEdges(n.scope(ctx), edges)
}

func (n namespaced) DeleteEdges(ctx context.Context, edges []graph.Edge) error {
	return n.g.DeleteEdges(n.scope(ctx), edges)
}

func (n namespaced) Traverse(ctx context.Context, id string, dir graph.Direction, types []graph.EdgeType, depth int) ([]graph.Neighbour, error) {
	return n.g.Traverse(n.scope(ctx), id, dir, types, depth)
}

func (n namespaced) HybridSearch(ctx context.Context, q graph.Query) ([]graph.Hit, error) {
	return n.g.HybridSearch(n.scope(ctx), q)
}

func (n namespaced) ListNodes(ctx context.Context, kind graph.Kind, after string, limit int) ([]graph.Node, error) {
	return n.g.ListNodes(n.scope(ctx), kind, after, limit)
}
