package graph_test

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/graph"
)

// The traversal helpers (Neighbours, Upstream, Downstream, BlastRadius,
// Owners) need a Graph; graphtest runs them against every adapter.

func TestValidateID(t *testing.T) {
	t.Parallel()
	for _, id := range []string{
		"a", "INC0012345", "runbooks/db.md#3", "res 1", "cmdb:0a1b2c",
		strings.Repeat("x", graph.MaxIDLen),
		strings.Repeat("é", graph.MaxIDLen/2), // 200 bytes
		"数据库",
	} {
		require.NoError(t, graph.ValidateID(id), "%.40q", id)
	}
	for _, c := range []struct {
		id   string
		says string
	}{
		{"", "must be 1-200 bytes"},
		{strings.Repeat("x", graph.MaxIDLen+1), "must be 1-200 bytes"},
		{strings.Repeat("é", graph.MaxIDLen/2) + "x", "must be 1-200 bytes"},
		{"a\xffb", "UTF-8"},
		{"a\nb", "control character"},
		{"a\tb", "control character"},
		{"a\x00b", "control character"},
		{"a\x7fb", "control character"},
	} {
		err := graph.ValidateID(c.id)
		require.ErrorIs(t, err, graph.ErrInvalid, "%.40q", c.id)
		require.ErrorContains(t, err, c.says)
	}
}

func validNode() graph.Node {
	return graph.Node{
		ID: "api", Kind: graph.KindCI, Type: "service", Title: "API", Body: "Serves the shop.",
		Properties: map[string]string{"env": "prod", "sys_class_name": "cmdb_ci_service", "a.b:c-d": "v"},
		Embedding:  []float32{1, 0, 0, 0},
	}
}

func TestValidateNode(t *testing.T) {
	t.Parallel()
	const dim = 4
	valid := map[string]func(n *graph.Node){
		"AsIs":             func(n *graph.Node) {},
		"NoEmbedding":      func(n *graph.Node) { n.Embedding = nil },
		"EmptyEmbedding":   func(n *graph.Node) { n.Embedding = []float32{} },
		"NoProperties":     func(n *graph.Node) { n.Properties = nil },
		"EmptyTitleBody":   func(n *graph.Node) { n.Title, n.Body = "", "" },
		"EachKind":         func(n *graph.Node) { n.Kind = graph.KindResolution },
		"TypeWithDigits":   func(n *graph.Node) { n.Type = "k8s_node-v2" },
		"LongestType":      func(n *graph.Node) { n.Type = strings.Repeat("a", 64) },
		"LongestTitle":     func(n *graph.Node) { n.Title = strings.Repeat("t", graph.MaxTitleLen) },
		"LongestBody":      func(n *graph.Node) { n.Body = strings.Repeat("b", graph.MaxBodyLen) },
		"LongestPropValue": func(n *graph.Node) { n.Properties["env"] = strings.Repeat("v", 4096) },
		"EmptyPropValue":   func(n *graph.Node) { n.Properties["env"] = "" },
		"MaxProperties": func(n *graph.Node) {
			n.Properties = map[string]string{}
			for i := range graph.MaxProperties {
				n.Properties[fmt.Sprintf("p%d", i)] = "v"
			}
		},
	}
	for name, f := range valid {
		n := validNode()
		f(&n)
		require.NoError(t, graph.ValidateNode(n, dim), name)
	}
	for _, k := range graph.Kinds {
		n := validNode()
		n.Kind = k
		require.NoError(t, graph.ValidateNode(n, dim), "kind %s", k)
	}

	invalid := map[string]struct {
		f    func(n *graph.Node)
		says string
	}{
		"EmptyID":          {func(n *graph.Node) { n.ID = "" }, "node id"},
		"ControlID":        {func(n *graph.Node) { n.ID = "a\rb" }, "control character"},
		"UnknownKind":      {func(n *graph.Node) { n.Kind = "widget" }, `unknown kind "widget"`},
		"UpperCaseKind":    {func(n *graph.Node) { n.Kind = "CI" }, `unknown kind "CI"`},
		"EmptyKind":        {func(n *graph.Node) { n.Kind = "" }, `unknown kind ""`},
		"EmptyType":        {func(n *graph.Node) { n.Type = "" }, `type ""`},
		"UpperCaseType":    {func(n *graph.Node) { n.Type = "Service" }, `type "Service"`},
		"TypeStartsDigit":  {func(n *graph.Node) { n.Type = "1st" }, `type "1st"`},
		"TypeWithSpace":    {func(n *graph.Node) { n.Type = "web service" }, "type"},
		"LongType":         {func(n *graph.Node) { n.Type = strings.Repeat("a", 65) }, "type"},
		"LongTitle":        {func(n *graph.Node) { n.Title = strings.Repeat("t", graph.MaxTitleLen+1) }, "title over"},
		"LongBody":         {func(n *graph.Node) { n.Body = strings.Repeat("b", graph.MaxBodyLen+1) }, "body over"},
		"BadUTF8Title":     {func(n *graph.Node) { n.Title = "\xff" }, "UTF-8"},
		"BadUTF8Body":      {func(n *graph.Node) { n.Body = "ok \xc3\x28" }, "UTF-8"},
		"BadPropertyName":  {func(n *graph.Node) { n.Properties["a b"] = "v" }, `property "a b"`},
		"EmptyPropName":    {func(n *graph.Node) { n.Properties[""] = "v" }, `property ""`},
		"LongPropName":     {func(n *graph.Node) { n.Properties[strings.Repeat("p", 65)] = "v" }, "property"},
		"LongPropValue":    {func(n *graph.Node) { n.Properties["env"] = strings.Repeat("v", 4097) }, `property "env"`},
		"BadUTF8PropValue": {func(n *graph.Node) { n.Properties["env"] = "\xff" }, `property "env"`},
		"TooManyProperties": {func(n *graph.Node) {
			for i := range graph.MaxProperties {
				n.Properties[fmt.Sprintf("p%d", i)] = "v"
			}
		}, "properties, at most"},
		"ShortEmbedding": {func(n *graph.Node) { n.Embedding = []float32{1, 0, 0} }, "dimension 3, the graph's is 4"},
		"LongEmbedding":  {func(n *graph.Node) { n.Embedding = []float32{1, 0, 0, 0, 0} }, "dimension 5, the graph's is 4"},
		"NaNEmbedding":   {func(n *graph.Node) { n.Embedding[2] = float32(math.NaN()) }, "NaN or Inf"},
		"InfEmbedding":   {func(n *graph.Node) { n.Embedding[1] = float32(math.Inf(-1)) }, "NaN or Inf"},
	}
	for name, c := range invalid {
		n := validNode()
		c.f(&n)
		err := graph.ValidateNode(n, dim)
		require.ErrorIs(t, err, graph.ErrInvalid, name)
		require.ErrorContains(t, err, c.says, name)
	}
}

func TestValidateVector(t *testing.T) {
	t.Parallel()
	require.NoError(t, graph.ValidateVector(nil, 3, true))
	require.NoError(t, graph.ValidateVector([]float32{}, 3, true))
	require.NoError(t, graph.ValidateVector([]float32{0.5, -0.5, 0}, 3, false))
	require.NoError(t, graph.ValidateVector([]float32{math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32}, 3, false))
	for name, c := range map[string]struct {
		v        []float32
		optional bool
		says     string
	}{
		"Missing": {nil, false, "dimension 0, the graph's is 3"},
		"Short":   {[]float32{1, 2}, true, "dimension 2, the graph's is 3"},
		"Long":    {[]float32{1, 2, 3, 4}, false, "dimension 4, the graph's is 3"},
		"NaN":     {[]float32{1, float32(math.NaN()), 3}, false, "NaN or Inf"},
		"PlusInf": {[]float32{float32(math.Inf(1)), 0, 0}, true, "NaN or Inf"},
		"MinInf":  {[]float32{0, 0, float32(math.Inf(-1))}, false, "NaN or Inf"},
	} {
		err := graph.ValidateVector(c.v, 3, c.optional)
		require.ErrorIs(t, err, graph.ErrInvalid, name)
		require.ErrorContains(t, err, c.says, name)
	}
}

func TestValidateEdgeType(t *testing.T) {
	t.Parallel()
	for _, typ := range graph.EdgeTypes {
		require.NoError(t, graph.ValidateEdgeType(typ))
	}
	for _, typ := range []graph.EdgeType{"", "CALLS", "depends_on", "DEPENDS_ON "} {
		err := graph.ValidateEdgeType(typ)
		require.ErrorIs(t, err, graph.ErrInvalid, "%q", typ)
		require.ErrorContains(t, err, fmt.Sprintf("unknown edge type %q", typ))
	}
}

func TestValidateEdge(t *testing.T) {
	t.Parallel()
	// The kinds each type joins, restated from the package doc rather than
	// read from the code, so a change to either shows here.
	ci, issue, doc, res := graph.KindCI, graph.KindIssue, graph.KindDocument, graph.KindResolution
	allowed := map[graph.EdgeType][][2]graph.Kind{
		graph.DependsOn:  {{ci, ci}},
		graph.RunsOn:     {{ci, ci}},
		graph.OwnedBy:    {{ci, ci}},
		graph.Affects:    {{issue, ci}, {doc, ci}, {res, ci}},
		graph.ResolvedBy: {{issue, res}},
		graph.SimilarTo:  {{issue, issue}, {issue, doc}, {doc, issue}, {doc, doc}},
	}
	require.ElementsMatch(t, graph.EdgeTypes, slices.Collect(maps.Keys(allowed)), "every edge type is covered")
	for _, typ := range graph.EdgeTypes {
		for _, from := range graph.Kinds {
			for _, to := range graph.Kinds {
				err := graph.ValidateEdge(graph.Edge{From: "a", To: "b", Type: typ}, from, to)
				if slices.Contains(allowed[typ], [2]graph.Kind{from, to}) {
					require.NoError(t, err, "%s from %s to %s", typ, from, to)
					continue
				}
				require.ErrorIs(t, err, graph.ErrInvalid, "%s from %s to %s", typ, from, to)
				require.ErrorContains(t, err, fmt.Sprintf("a %s edge joins", typ))
				require.ErrorContains(t, err, fmt.Sprintf(`%s "a" to %s "b"`, from, to))
			}
		}
	}

	err := graph.ValidateEdge(graph.Edge{From: "a", To: "a", Type: graph.DependsOn}, ci, ci)
	require.ErrorIs(t, err, graph.ErrInvalid)
	require.ErrorContains(t, err, "to itself")

	err = graph.ValidateEdge(graph.Edge{From: "a", To: "b", Type: "CALLS"}, ci, ci)
	require.ErrorIs(t, err, graph.ErrInvalid)
	require.ErrorContains(t, err, `"CALLS"`)
}

func TestValidateQuery(t *testing.T) {
	t.Parallel()
	const dim = 3
	vec := []float32{0.6, 0.8, 0}
	for name, q := range map[string]graph.Query{
		"Text":        {Text: "disk full", K: 1},
		"Vector":      {Vector: vec, K: graph.MaxK},
		"Both":        {Text: "disk", Vector: vec, K: 10, RRFK: 1},
		"DefaultRRFK": {Text: "disk", K: 10, RRFK: 0},
		"Filters": {Text: "disk", K: 10, Filters: graph.Filters{
			Kinds: []graph.Kind{graph.KindIssue, graph.KindDocument}, Types: []string{"postmortem", "anything"},
		}},
	} {
		require.NoError(t, graph.ValidateQuery(q, dim), name)
	}
	for name, c := range map[string]struct {
		q    graph.Query
		says string
	}{
		"K0":           {graph.Query{Text: "disk"}, "k 0 must be between 1 and 200"},
		"KNegative":    {graph.Query{Text: "disk", K: -5}, "k -5"},
		"KOverMax":     {graph.Query{Text: "disk", K: graph.MaxK + 1}, "k 201"},
		"Empty":        {graph.Query{K: 10}, "needs text, a vector or both"},
		"EmptyVector":  {graph.Query{Vector: []float32{}, K: 10}, "needs text, a vector or both"},
		"NegativeRRFK": {graph.Query{Text: "disk", K: 10, RRFK: -1}, "rrf k -1"},
		"UnknownKind":  {graph.Query{Text: "disk", K: 10, Filters: graph.Filters{Kinds: []graph.Kind{"widget"}}}, `unknown kind "widget"`},
		"ShortVector":  {graph.Query{Vector: vec[:2], K: 10}, "dimension 2, the graph's is 3"},
		"NaNVector":    {graph.Query{Text: "disk", Vector: []float32{0, float32(math.NaN()), 0}, K: 10}, "NaN"},
	} {
		err := graph.ValidateQuery(c.q, dim)
		require.ErrorIs(t, err, graph.ErrInvalid, name)
		require.ErrorContains(t, err, c.says, name)
	}
}

// rrf is one list's contribution to a fused score.
func rrf(k, rank int) float64 { return 1 / float64(k+rank) }

func fusedIDs(hits []graph.Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.Node.ID
	}
	return out
}

func TestFuse(t *testing.T) {
	t.Parallel()

	t.Run("ScoresAndRanks", func(t *testing.T) {
		lexical := graph.Ranked{IDs: []string{"a", "b", "c"}, Scores: []float64{0.9, 0.5, 0.1}}
		vector := graph.Ranked{IDs: []string{"c", "a"}, Scores: []float64{0.99, 0.7}}
		hits := graph.Fuse(lexical, vector, 10, 0)
		require.Equal(t, []graph.Hit{
			{Node: graph.Node{ID: "a"}, LexicalRank: 1, VectorRank: 2, LexicalScore: 0.9, VectorScore: 0.7, Score: rrf(60, 1) + rrf(60, 2)},
			{Node: graph.Node{ID: "c"}, LexicalRank: 3, VectorRank: 1, LexicalScore: 0.1, VectorScore: 0.99, Score: rrf(60, 3) + rrf(60, 1)},
			{Node: graph.Node{ID: "b"}, LexicalRank: 2, LexicalScore: 0.5, Score: rrf(60, 2)},
		}, hits)
	})

	t.Run("BothListsBeatOne", func(t *testing.T) {
		// At equal ranks a node in both lists outranks one in a single list,
		// and with k = 60 even ranks 2 and 2 beat rank 1 alone.
		hits := graph.Fuse(graph.Ranked{IDs: []string{"solo", "both"}, Scores: []float64{2, 1}},
			graph.Ranked{IDs: []string{"other", "both"}, Scores: []float64{0.9, 0.8}}, 10, 0)
		require.Equal(t, []string{"both", "other", "solo"}, fusedIDs(hits))
		require.InDelta(t, 2*rrf(60, 2), hits[0].Score, 1e-15)
	})

	t.Run("TiesByID", func(t *testing.T) {
		hits := graph.Fuse(graph.Ranked{IDs: []string{"y"}, Scores: []float64{1}},
			graph.Ranked{IDs: []string{"x"}, Scores: []float64{1}}, 10, 0)
		require.Equal(t, []string{"x", "y"}, fusedIDs(hits))
		require.Equal(t, hits[0].Score, hits[1].Score)

		// Swapped ranks sum to exactly the same score.
		hits = graph.Fuse(graph.Ranked{IDs: []string{"q", "p"}, Scores: []float64{2, 1}},
			graph.Ranked{IDs: []string{"p", "q"}, Scores: []float64{2, 1}}, 10, 0)
		require.Equal(t, []string{"p", "q"}, fusedIDs(hits))
		require.Equal(t, hits[0].Score, hits[1].Score)
	})

	t.Run("K", func(t *testing.T) {
		lexical := graph.Ranked{IDs: []string{"a", "b", "c", "d"}, Scores: []float64{4, 3, 2, 1}}
		require.Equal(t, []string{"a", "b"}, fusedIDs(graph.Fuse(lexical, graph.Ranked{}, 2, 0)))
		require.Len(t, graph.Fuse(lexical, graph.Ranked{}, 1, 0), 1)
		require.Len(t, graph.Fuse(lexical, graph.Ranked{}, graph.MaxK, 0), 4)
		require.Empty(t, graph.Fuse(graph.Ranked{}, graph.Ranked{}, 10, 0))
	})

	t.Run("RRFK", func(t *testing.T) {
		lexical := graph.Ranked{IDs: []string{"a", "b"}, Scores: []float64{2, 1}}
		vector := graph.Ranked{IDs: []string{"b"}, Scores: []float64{1}}
		def := graph.Fuse(lexical, vector, 10, 0)
		require.Equal(t, def, graph.Fuse(lexical, vector, 10, graph.DefaultRRFK), "0 means DefaultRRFK")
		require.Equal(t, []string{"b", "a"}, fusedIDs(def))

		one := graph.Fuse(lexical, vector, 10, 1)
		require.Equal(t, []string{"b", "a"}, fusedIDs(one))
		require.InDelta(t, rrf(1, 2)+rrf(1, 1), one[0].Score, 1e-15)
		require.InDelta(t, rrf(1, 1), one[1].Score, 1e-15)

		// A small k lets one list's leader beat a node ranked lower in both:
		// k is how much agreement between the lists weighs against rank.
		lexical = graph.Ranked{IDs: []string{"lead", "x", "y", "agreed"}, Scores: []float64{4, 3, 2, 1}}
		vector = graph.Ranked{IDs: []string{"p", "q", "r", "agreed"}, Scores: []float64{4, 3, 2, 1}}
		require.Equal(t, "agreed", graph.Fuse(lexical, vector, 1, 60)[0].Node.ID)
		require.Equal(t, "lead", graph.Fuse(lexical, vector, 1, 1)[0].Node.ID)
	})

	t.Run("InputsUntouched", func(t *testing.T) {
		lexical := graph.Ranked{IDs: []string{"b", "a"}, Scores: []float64{2, 1}}
		vector := graph.Ranked{IDs: []string{"a"}, Scores: []float64{1}}
		graph.Fuse(lexical, vector, 1, 0)
		require.Equal(t, graph.Ranked{IDs: []string{"b", "a"}, Scores: []float64{2, 1}}, lexical)
		require.Equal(t, graph.Ranked{IDs: []string{"a"}, Scores: []float64{1}}, vector)
	})
}
