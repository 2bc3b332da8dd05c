package neo4j

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/graph"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// These tests need no server: they check what the adapter decides before
// it sends anything.

func TestConfig(t *testing.T) {
	t.Parallel()
	require.NoError(t, Config{}.Validate())
	require.NoError(t, Config{Database: "neo4j", Dimension: 64}.Validate())
	require.NoError(t, Config{Database: "kg.prod-1", Dimension: MaxDimension}.Validate())
	for _, c := range []struct {
		cfg  Config
		says string
	}{
		{Config{Dimension: -1}, "dimension"},
		{Config{Dimension: MaxDimension + 1}, "dimension"},
		{Config{Database: "ab"}, "database"},
		{Config{Database: "1db"}, "database"},
		{Config{Database: "my db"}, "database"},
		{Config{Database: "db`; DROP"}, "database"},
	} {
		require.ErrorContains(t, c.cfg.Validate(), c.says, "%+v", c.cfg)
	}
	require.Equal(t, graph.DefaultDimension, Config{}.withDefaults().Dimension)

	_, err := New(t.Context(), nil, Config{})
	require.ErrorContains(t, err, "nil driver")
}

func TestSchemaStatementsCarryTheDimension(t *testing.T) {
	t.Parallel()
	stmts := schemaStatements(768)
	require.Len(t, stmts, 4)
	for _, s := range stmts {
		require.Contains(t, s, "IF NOT EXISTS", "the schema step is idempotent: %s", s)
	}
	require.Contains(t, stmts[3], "`vector.dimensions`: 768,")
	require.Contains(t, stmts[3], "'cosine'")
}

func TestLuceneQuery(t *testing.T) {
	t.Parallel()
	for text, want := range map[string]string{
		"disk full":                   "title:(disk full)^2 OR body:(disk full)",
		"Kafka  consumer\tLAG":        "title:(kafka consumer lag)^2 OR body:(kafka consumer lag)",
		"lag lag Lag":                 "title:(lag)^2 OR body:(lag)",
		"redis AND NOT kafka OR x":    "title:(redis and not kafka or x)^2 OR body:(redis and not kafka or x)",
		"allkeys-lru c++ a:b":         `title:(allkeys\-lru c\+\+ a\:b)^2 OR body:(allkeys\-lru c\+\+ a\:b)`,
		`"quoted" (group) [x TO y]`:   `title:(\"quoted\" \(group\) \[x to y\])^2 OR body:(\"quoted\" \(group\) \[x to y\])`,
		"wild* fuzz~2 boost^3 a/b":    `title:(wild\* fuzz\~2 boost\^3 a\/b)^2 OR body:(wild\* fuzz\~2 boost\^3 a\/b)`,
		`a&&b c||d !e back\slash {r}`: `title:(a\&\&b c\|\|d \!e back\\slash \{r\})^2 OR body:(a\&\&b c\|\|d \!e back\\slash \{r\})`,
		"Überlast 数据库":                "title:(überlast 数据库)^2 OR body:(überlast 数据库)",
		// Parts without a letter or digit, and blank text, search nothing.
		"- && || ! ?": "",
		"   ":         "",
		"":            "",
	} {
		require.Equal(t, want, luceneQuery(text), "text %q", text)
	}

	long := strings.Repeat("w ", 10) + func() string {
		var b strings.Builder
		for i := range 2 * maxQueryWords {
			fmt.Fprintf(&b, "word%d ", i)
		}
		return b.String()
	}()
	title, _, ok := strings.Cut(strings.TrimPrefix(luceneQuery(long), "title:("), ")^2 OR body:(")
	require.True(t, ok)
	words := strings.Fields(title)
	require.Len(t, words, maxQueryWords, "distinct words are capped")
	require.Equal(t, "w", words[0], "repeats are dropped")
}

func TestEscapeLucene(t *testing.T) {
	t.Parallel()
	for _, r := range luceneSpecial {
		require.Equal(t, `\`+string(r), escapeLucene(string(r)), "%q", r)
	}
	require.Equal(t, "plain words", escapeLucene("plain words"))
}

// every statement the adapter runs through tx.run.
func statements() map[string]string {
	out := map[string]string{
		"upsertNodes": upsertNodesCypher,
		"deleteNodes": deleteNodesCypher,
		"node":        nodeCypher,
		"nodes":       nodesCypher,
		"kinds":       kindsCypher,
		"list":        listCypher,
		"listByKind":  listByKindCypher,
		"lexical":     lexicalCypher,
		"vector":      vectorCypher,
		"start":       startCypher,
	}
	for _, typ := range graph.EdgeTypes {
		out["upsertEdges "+string(typ)] = fmt.Sprintf(upsertEdgesCypher, typ)
		out["deleteEdges "+string(typ)] = fmt.Sprintf(deleteEdgesCypher, typ)
	}
	for _, dir := range []graph.Direction{graph.Outgoing, graph.Incoming, graph.Both} {
		for _, types := range [][]graph.EdgeType{nil, {graph.DependsOn}, {graph.RunsOn, graph.DependsOn, graph.RunsOn}} {
			out[fmt.Sprintf("level %d %v", dir, types)] = levelCypher(dir, types)
		}
	}
	return out
}

func TestEveryStatementIsScoped(t *testing.T) {
	t.Parallel()
	for name, cypher := range statements() {
		require.NoError(t, checkScoped(cypher), name)
		require.NotContains(t, cypher, "%!", "%s: a formatting verb went wrong", name)
	}
}

func TestCheckScopedRefuses(t *testing.T) {
	t.Parallel()
	for name, cypher := range map[string]string{
		"NoTenant":         `MATCH (n:KGNode) RETURN n`,
		"TenantElsewhere":  `MATCH (n:KGNode) WHERE n.tenant_id = $tenant RETURN n`,
		"OneOfTwoUnscoped": `MATCH (a:KGNode {tenant_id: $tenant})-->(b:KGNode) RETURN b`,
		"NoLabel":          `MATCH (n {tenant_id: $tenant}) RETURN n`,
		"OtherParameter":   `MATCH (n:KGNode {tenant_id: $tenants}) RETURN n`,
		"Empty":            ``,
	} {
		require.Error(t, checkScoped(cypher), name)
	}
}

func TestRunRefusesBeforeSending(t *testing.T) {
	t.Parallel()
	// No transaction: a refused statement never reaches it.
	x := &tx{ctx: t.Context(), tenant: "acme"}
	_, err := x.run(`MATCH (n:KGNode) DETACH DELETE n`, nil)
	require.ErrorContains(t, err, "$tenant")
	_, err = x.run(nodeCypher, map[string]any{"id": "a", "tenant": "globex"})
	require.ErrorContains(t, err, "may not bind $tenant")
	_, err = (&tx{ctx: t.Context()}).run(nodeCypher, map[string]any{"id": "a"})
	require.ErrorContains(t, err, "needs a tenant")
}

func TestNoTenantFailsClosed(t *testing.T) {
	t.Parallel()
	// A graph without a driver: every call must fail on the tenant first.
	g := &Graph{dim: 64}
	for name, ctx := range map[string]context.Context{
		"none":  t.Context(),
		"empty": tenant.WithIdentity(t.Context(), tenant.Identity{Subject: "test"}),
	} {
		n := graph.Node{ID: "a", Kind: graph.KindCI, Type: "service"}
		e := graph.Edge{From: "a", To: "b", Type: graph.DependsOn}
		require.Error(t, g.UpsertNodes(ctx, []graph.Node{n}), name)
		require.Error(t, g.DeleteNodes(ctx, []string{"a"}), name)
		_, err := g.Node(ctx, "a")
		require.Error(t, err, name)
		require.Error(t, g.UpsertEdges(ctx, []graph.Edge{e}), name)
		require.Error(t, g.DeleteEdges(ctx, []graph.Edge{e}), name)
		_, err = g.Traverse(ctx, "a", graph.Both, nil, 1)
		require.Error(t, err, name)
		_, err = g.HybridSearch(ctx, graph.Query{Text: "a", K: 1})
		require.Error(t, err, name)
		_, err = g.ListNodes(ctx, "", "", 10)
		require.Error(t, err, name)
	}
}

func TestLevelCypher(t *testing.T) {
	t.Parallel()
	out := levelCypher(graph.Outgoing, nil)
	require.Contains(t, out, "-[r]->")
	require.NotContains(t, out, "UNION")
	in := levelCypher(graph.Incoming, []graph.EdgeType{graph.RunsOn, graph.DependsOn, graph.RunsOn})
	require.Contains(t, in, "<-[r:DEPENDS_ON|RUNS_ON]-", "types sorted and deduplicated")
	both := levelCypher(graph.Both, []graph.EdgeType{graph.OwnedBy})
	require.Contains(t, both, "-[r:OWNED_BY]->")
	require.Contains(t, both, "<-[r:OWNED_BY]-")
	require.Contains(t, both, "UNION ALL")
}

func TestCompareEdges(t *testing.T) {
	t.Parallel()
	e := func(from string, typ graph.EdgeType, to string) graph.Edge {
		return graph.Edge{From: from, Type: typ, To: to}
	}
	// Reaching n: the parent (the other end) first, then Type.
	require.Negative(t, compareEdges("n", e("a", graph.RunsOn, "n"), e("b", graph.DependsOn, "n")), "outgoing: parent a < b")
	require.Negative(t, compareEdges("n", e("n", graph.RunsOn, "p1"), e("n", graph.DependsOn, "p2")), "incoming: parent p1 < p2")
	require.Negative(t, compareEdges("n", e("p", graph.DependsOn, "n"), e("p", graph.RunsOn, "n")), "same parent: type")
	require.Zero(t, compareEdges("n", e("p", graph.DependsOn, "n"), e("p", graph.DependsOn, "n")))
}

func TestNodeRow(t *testing.T) {
	t.Parallel()
	row, err := nodeRow(graph.Node{ID: "a", Kind: graph.KindCI, Type: "service"})
	require.NoError(t, err)
	require.Nil(t, row["props"])
	require.Nil(t, row["embedding"])
	require.Equal(t, false, row["has_vector"])

	row, err = nodeRow(graph.Node{ID: "a", Kind: graph.KindCI, Type: "service",
		Properties: map[string]string{"id": "x", "tenant_id": "y"}, Embedding: []float32{0.1, -3e-8, 7}})
	require.NoError(t, err)
	require.JSONEq(t, `{"id":"x","tenant_id":"y"}`, row["props"].(string), "properties cannot collide with the node's own")
	require.Equal(t, []float64{float64(float32(0.1)), float64(float32(-3e-8)), 7}, row["embedding"])
	require.Equal(t, true, row["has_vector"])

	row, err = nodeRow(graph.Node{ID: "z", Kind: graph.KindCI, Type: "service", Embedding: []float32{0, 0}})
	require.NoError(t, err)
	require.NotNil(t, row["embedding"], "a zero vector is kept, to round-trip")
	require.Equal(t, false, row["has_vector"], "but leaves the vector list")
}
