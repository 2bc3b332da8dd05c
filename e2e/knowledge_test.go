package e2e_test

import (
	"context"
	"testing"

	"connectrpc.com/connect"
	"github.com/stretchr/testify/require"

	knowledgev1 "github.com/alexus-platform/alexus/gen/alexus/knowledge/v1"
	"github.com/alexus-platform/alexus/gen/alexus/knowledge/v1/knowledgev1connect"
)

// TestKnowledgeGraphThroughGateway builds a small CMDB and a few documents
// for tenant A through the public gateway, walks it, searches it with each
// mode, and checks tenant B sees none of it.
func TestKnowledgeGraphThroughGateway(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	tokA, tokB := b.token(t, "acme"), b.token(t, "globex")
	kg := knowledgev1connect.NewKnowledgeServiceClient(b.h2c, b.gatewayURL, connect.WithGRPC())

	ci := func(id, typ, title string) *knowledgev1.Node {
		return &knowledgev1.Node{Id: id, Kind: knowledgev1.NodeKind_NODE_KIND_CI, Type: typ, Title: title}
	}
	doc := func(id, title, body string) *knowledgev1.Node {
		return &knowledgev1.Node{Id: id, Kind: knowledgev1.NodeKind_NODE_KIND_DOCUMENT, Type: "runbook", Title: title, Body: body,
			Properties: map[string]string{"file": "runbooks.md"}}
	}
	_, err := kg.UpsertNodes(ctx, authed(&knowledgev1.UpsertNodesRequest{Nodes: []*knowledgev1.Node{
		ci("checkout", "service", "checkout-api"), ci("ledger-db", "database", "ledger Postgres primary"),
		ci("host-7", "host", "k8s node host-7"), ci("payments", "team", "Payments team"),
		doc("rb-lag", "Postgres replication lag", "When replicas fall behind the primary, check WAL sender and network throughput; promote only after lag is zero."),
		doc("rb-tls", "TLS certificate expiry", "Renew the edge certificate with cert-manager and reload the proxy."),
		doc("rb-disk", "Disk full on database hosts", "Free WAL segments, extend the volume, check archiving."),
	}}, tokA))
	require.NoError(t, err)
	edge := func(from, to string, typ knowledgev1.EdgeType) *knowledgev1.Edge {
		return &knowledgev1.Edge{From: from, To: to, Type: typ}
	}
	_, err = kg.UpsertEdges(ctx, authed(&knowledgev1.UpsertEdgesRequest{Edges: []*knowledgev1.Edge{
		edge("checkout", "ledger-db", knowledgev1.EdgeType_EDGE_TYPE_DEPENDS_ON),
		edge("ledger-db", "host-7", knowledgev1.EdgeType_EDGE_TYPE_RUNS_ON),
		edge("ledger-db", "payments", knowledgev1.EdgeType_EDGE_TYPE_OWNED_BY),
		edge("rb-lag", "ledger-db", knowledgev1.EdgeType_EDGE_TYPE_AFFECTS),
	}}, tokA))
	require.NoError(t, err)

	// Refusals: an edge type that does not join these kinds, a missing end.
	_, err = kg.UpsertEdges(ctx, authed(&knowledgev1.UpsertEdgesRequest{Edges: []*knowledgev1.Edge{
		edge("checkout", "rb-lag", knowledgev1.EdgeType_EDGE_TYPE_RESOLVED_BY)}}, tokA))
	require.Equal(t, connect.CodeInvalidArgument, connect.CodeOf(err), "%v", err)
	_, err = kg.UpsertEdges(ctx, authed(&knowledgev1.UpsertEdgesRequest{Edges: []*knowledgev1.Edge{
		edge("checkout", "nowhere", knowledgev1.EdgeType_EDGE_TYPE_DEPENDS_ON)}}, tokA))
	require.Equal(t, connect.CodeNotFound, connect.CodeOf(err), "%v", err)

	// The blast radius of the host: the database on it, and what depends on
	// that.
	tr, err := kg.Traverse(ctx, authed(&knowledgev1.TraverseRequest{
		Id: "host-7", Direction: knowledgev1.Direction_DIRECTION_INCOMING, Depth: 3,
		Types: []knowledgev1.EdgeType{knowledgev1.EdgeType_EDGE_TYPE_DEPENDS_ON, knowledgev1.EdgeType_EDGE_TYPE_RUNS_ON},
	}, tokA))
	require.NoError(t, err)
	var reached []string
	for _, n := range tr.Msg.GetNeighbours() {
		reached = append(reached, n.GetNode().GetId())
	}
	require.Equal(t, []string{"ledger-db", "checkout"}, reached)
	require.EqualValues(t, 2, tr.Msg.GetNeighbours()[1].GetDepth())

	// Owners: checkout has none of its own, so its database's team.
	ow, err := kg.GetOwners(ctx, authed(&knowledgev1.GetOwnersRequest{Id: "checkout"}, tokA))
	require.NoError(t, err)
	require.Len(t, ow.Msg.GetOwners(), 1)
	require.Equal(t, "payments", ow.Msg.GetOwners()[0].GetId())

	// Search, every mode: the replication runbook leads, and each hit says
	// how it was ranked.
	for mode, check := range map[knowledgev1.SearchMode]func(h *knowledgev1.SearchHit){
		knowledgev1.SearchMode_SEARCH_MODE_HYBRID: func(h *knowledgev1.SearchHit) {
			require.Positive(t, h.GetLexicalRank())
			require.Positive(t, h.GetVectorRank())
		},
		knowledgev1.SearchMode_SEARCH_MODE_LEXICAL: func(h *knowledgev1.SearchHit) { require.Zero(t, h.GetVectorRank()) },
		knowledgev1.SearchMode_SEARCH_MODE_VECTOR:  func(h *knowledgev1.SearchHit) { require.Zero(t, h.GetLexicalRank()) },
	} {
		res, err := kg.Search(ctx, authed(&knowledgev1.SearchRequest{
			Text: "postgres replication lag on the ledger primary", K: 3, Mode: mode,
			Kinds: []knowledgev1.NodeKind{knowledgev1.NodeKind_NODE_KIND_DOCUMENT},
		}, tokA))
		require.NoError(t, err, mode.String())
		require.NotEmpty(t, res.Msg.GetHits(), mode.String())
		top := res.Msg.GetHits()[0]
		require.Equal(t, "rb-lag", top.GetNode().GetId(), mode.String())
		require.Equal(t, "runbooks.md", top.GetNode().GetProperties()["file"])
		check(top)
		for _, h := range res.Msg.GetHits() {
			require.Equal(t, knowledgev1.NodeKind_NODE_KIND_DOCUMENT, h.GetNode().GetKind(), "the kind filter holds")
		}
	}

	// Tenant B sees nothing of A's graph.
	_, err = kg.GetNode(ctx, authed(&knowledgev1.GetNodeRequest{Id: "checkout"}, tokB))
	require.Equal(t, connect.CodeNotFound, connect.CodeOf(err))
	res, err := kg.Search(ctx, authed(&knowledgev1.SearchRequest{Text: "postgres replication lag"}, tokB))
	require.NoError(t, err)
	require.Empty(t, res.Msg.GetHits())

	// Deleting the database takes its edges: checkout no longer reaches the
	// host.
	_, err = kg.DeleteNodes(ctx, authed(&knowledgev1.DeleteNodesRequest{Ids: []string{"ledger-db"}}, tokA))
	require.NoError(t, err)
	tr, err = kg.Traverse(ctx, authed(&knowledgev1.TraverseRequest{Id: "checkout", Direction: knowledgev1.Direction_DIRECTION_OUTGOING, Depth: 3}, tokA))
	require.NoError(t, err)
	require.Empty(t, tr.Msg.GetNeighbours())
}
