package e2e_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	"connectrpc.com/connect"
	"github.com/stretchr/testify/require"

	knowledgev1 "github.com/alexus-platform/alexus/gen/alexus/knowledge/v1"
	"github.com/alexus-platform/alexus/gen/alexus/knowledge/v1/knowledgev1connect"
	"github.com/alexus-platform/alexus/internal/embed"
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

// TestCMDBImportThroughGateway streams a ServiceNow export in chunks, then
// its relations, and checks the report, the graph it made, idempotence and
// a refused file.
func TestCMDBImportThroughGateway(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	tok := b.token(t, "acme")
	kg := knowledgev1connect.NewKnowledgeServiceClient(b.h2c, b.gatewayURL, connect.WithGRPC())

	send := func(format knowledgev1.CMDBFormat, file string, chunk int) (*knowledgev1.ImportCMDBResponse, error) {
		t.Helper()
		stream := kg.ImportCMDB(ctx)
		stream.RequestHeader().Set("Authorization", "Bearer "+tok)
		for start := 0; start < len(file); start += chunk {
			msg := &knowledgev1.ImportCMDBRequest{Data: []byte(file[start:min(start+chunk, len(file))])}
			if start == 0 {
				msg.Format = format
			}
			require.NoError(t, stream.Send(msg))
		}
		res, err := stream.CloseAndReceive()
		if err != nil {
			return nil, err
		}
		return res.Msg, nil
	}
	cis := `{"result":[
	  {"sys_id":"ci-checkout","name":"checkout-api","sys_class_name":"cmdb_ci_service","short_description":"Checkout API",
	   "support_group":{"value":"grp-pay","display_value":"Payments"}},
	  {"sys_id":"ci-ledger","name":"ledger-db","sys_class_name":"cmdb_ci_db_postgresql_instance"},
	  {"sys_id":"ci-host","name":"db-host-1","sys_class_name":"cmdb_ci_linux_server"}]}`
	rels := `{"result":[
	  {"sys_id":"r1","parent":{"value":"ci-checkout"},"child":{"value":"ci-ledger"},"type":{"display_value":"Depends on::Used by"}},
	  {"sys_id":"r2","parent":"ci-ledger","child":"ci-host","type":"Runs on::Runs"},
	  {"sys_id":"r3","parent":"ci-ledger","child":"ci-nowhere","type":"Runs on::Runs"},
	  {"sys_id":"r4","parent":"ci-ledger","child":"ci-host","type":"Contains::Contained by"}]}`

	rep, err := send(knowledgev1.CMDBFormat_CMDB_FORMAT_SERVICENOW_CI_JSON, cis, 64)
	require.NoError(t, err)
	require.EqualValues(t, 3, rep.GetNodesUpserted())
	require.EqualValues(t, 1, rep.GetTeamsCreated(), "the support group becomes a team")
	rep, err = send(knowledgev1.CMDBFormat_CMDB_FORMAT_SERVICENOW_REL_JSON, rels, 100)
	require.NoError(t, err)
	require.EqualValues(t, 2, rep.GetEdgesUpserted())
	require.EqualValues(t, 2, rep.GetRejectedCount(), "a missing end and an unmapped type, each reported")
	for _, r := range rep.GetRejected() {
		require.NotEmpty(t, r.GetError())
		require.Positive(t, r.GetRow())
	}

	// The imported graph answers: what breaks when the host goes, who owns
	// checkout, and the CIs are searchable.
	tr, err := kg.Traverse(ctx, authed(&knowledgev1.TraverseRequest{
		Id: "ci-host", Direction: knowledgev1.Direction_DIRECTION_INCOMING, Depth: 5,
	}, tok))
	require.NoError(t, err)
	require.Len(t, tr.Msg.GetNeighbours(), 2)
	ow, err := kg.GetOwners(ctx, authed(&knowledgev1.GetOwnersRequest{Id: "ci-checkout"}, tok))
	require.NoError(t, err)
	require.Equal(t, "grp-pay", ow.Msg.GetOwners()[0].GetId())
	hits, err := kg.Search(ctx, authed(&knowledgev1.SearchRequest{Text: "ledger-db postgres", Mode: knowledgev1.SearchMode_SEARCH_MODE_VECTOR}, tok))
	require.NoError(t, err)
	require.Equal(t, "ci-ledger", hits.Msg.GetHits()[0].GetNode().GetId(), "imported CIs are embedded")

	// Importing again changes nothing.
	rep, err = send(knowledgev1.CMDBFormat_CMDB_FORMAT_SERVICENOW_CI_JSON, cis, 1<<20)
	require.NoError(t, err)
	require.EqualValues(t, 3, rep.GetNodesUpserted())
	require.Zero(t, rep.GetTeamsCreated())

	// An unreadable file, or one without a format, imports nothing.
	_, err = send(knowledgev1.CMDBFormat_CMDB_FORMAT_SERVICENOW_CI_JSON, `{"result": [`, 64)
	require.Equal(t, connect.CodeInvalidArgument, connect.CodeOf(err), "%v", err)
	_, err = send(knowledgev1.CMDBFormat_CMDB_FORMAT_UNSPECIFIED, cis, 64)
	require.Equal(t, connect.CodeInvalidArgument, connect.CodeOf(err), "%v", err)
}

// TestKnowledgeFilesThroughGateway adds a runbook, finds its sections by
// search and by the CI they name, replaces it with a shorter version and
// removes it.
func TestKnowledgeFilesThroughGateway(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	tok := b.token(t, "acme")
	kg := knowledgev1connect.NewKnowledgeServiceClient(b.h2c, b.gatewayURL, connect.WithGRPC())

	_, err := kg.UpsertNodes(ctx, authed(&knowledgev1.UpsertNodesRequest{Nodes: []*knowledgev1.Node{
		{Id: "ci-ledger", Kind: knowledgev1.NodeKind_NODE_KIND_CI, Type: "database", Title: "ledger-db"},
		{Id: "ci-checkout", Kind: knowledgev1.NodeKind_NODE_KIND_CI, Type: "service", Title: "checkout-api"},
	}}, tok))
	require.NoError(t, err)

	runbook := "# Postgres failover\n\nUse this when the ledger-db primary is lost.\n\n" +
		"## Check replication lag\n\nQuery pg_stat_replication on ledger-db; lag must be zero before promoting.\n\n" +
		"## Promote the replica\n\nRun pg_ctl promote on the standby, then repoint checkout-api.\n"
	added, err := kg.AddKnowledgeFile(ctx, authed(&knowledgev1.AddKnowledgeFileRequest{Name: "postgres-failover.md", Content: runbook}, tok))
	require.NoError(t, err)
	f := added.Msg.GetFile()
	require.Equal(t, "runbook", f.GetType())
	require.EqualValues(t, 3, f.GetChunks(), "one document per section")
	require.Equal(t, []string{"ci-checkout", "ci-ledger"}, f.GetLinkedCis())
	require.Len(t, f.GetSha256(), 64)

	// Its sections are searchable, and linked to the CIs they name.
	hits, err := kg.Search(ctx, authed(&knowledgev1.SearchRequest{Text: "how do I promote the standby", K: 3}, tok))
	require.NoError(t, err)
	top := hits.Msg.GetHits()[0].GetNode()
	require.Equal(t, "file:postgres-failover.md#3", top.GetId())
	require.Equal(t, "Postgres failover > Promote the replica", top.GetTitle())
	require.Equal(t, "postgres-failover.md", top.GetProperties()["file"])
	tr, err := kg.Traverse(ctx, authed(&knowledgev1.TraverseRequest{
		Id: "ci-checkout", Direction: knowledgev1.Direction_DIRECTION_INCOMING, Depth: 1,
		Types: []knowledgev1.EdgeType{knowledgev1.EdgeType_EDGE_TYPE_AFFECTS},
	}, tok))
	require.NoError(t, err)
	require.Len(t, tr.Msg.GetNeighbours(), 1)
	require.Equal(t, "file:postgres-failover.md#3", tr.Msg.GetNeighbours()[0].GetNode().GetId())

	// Added again, shorter: the old third section is gone.
	_, err = kg.AddKnowledgeFile(ctx, authed(&knowledgev1.AddKnowledgeFileRequest{
		Name: "postgres-failover.md", Type: "runbook", Content: "# Postgres failover\n\nCall the database on-call.\n",
	}, tok))
	require.NoError(t, err)
	_, err = kg.GetNode(ctx, authed(&knowledgev1.GetNodeRequest{Id: "file:postgres-failover.md#3"}, tok))
	require.Equal(t, connect.CodeNotFound, connect.CodeOf(err))
	list, err := kg.ListKnowledgeFiles(ctx, authed(&knowledgev1.ListKnowledgeFilesRequest{}, tok))
	require.NoError(t, err)
	require.Len(t, list.Msg.GetFiles(), 1)
	require.EqualValues(t, 1, list.Msg.GetFiles()[0].GetChunks())

	// Another tenant has no such file.
	other, err := kg.ListKnowledgeFiles(ctx, authed(&knowledgev1.ListKnowledgeFilesRequest{}, b.token(t, "globex")))
	require.NoError(t, err)
	require.Empty(t, other.Msg.GetFiles())

	// Removed: its documents go with it.
	_, err = kg.RemoveKnowledgeFile(ctx, authed(&knowledgev1.RemoveKnowledgeFileRequest{Name: "postgres-failover.md"}, tok))
	require.NoError(t, err)
	_, err = kg.GetNode(ctx, authed(&knowledgev1.GetNodeRequest{Id: "file:postgres-failover.md#1"}, tok))
	require.Equal(t, connect.CodeNotFound, connect.CodeOf(err))
	_, err = kg.RemoveKnowledgeFile(ctx, authed(&knowledgev1.RemoveKnowledgeFileRequest{Name: "postgres-failover.md"}, tok))
	require.Equal(t, connect.CodeNotFound, connect.CodeOf(err))

	// Bad input is refused: a name with a slash, an empty file.
	_, err = kg.AddKnowledgeFile(ctx, authed(&knowledgev1.AddKnowledgeFileRequest{Name: "../etc/passwd", Content: "x"}, tok))
	require.Equal(t, connect.CodeInvalidArgument, connect.CodeOf(err))
	_, err = kg.AddKnowledgeFile(ctx, authed(&knowledgev1.AddKnowledgeFileRequest{Name: "empty.md"}, tok))
	require.Equal(t, connect.CodeInvalidArgument, connect.CodeOf(err))
}

// fakeEmbeddings is an OpenAI-compatible embeddings API whose vectors are
// the local embedder's, of dim dimensions; it records the keys it was sent.
func fakeEmbeddings(t *testing.T, dim int) (*httptest.Server, func() []string) {
	t.Helper()
	local, err := embed.NewLocal(max(dim, 64))
	require.NoError(t, err)
	var (
		mu   sync.Mutex
		keys []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		keys = append(keys, r.Header.Get("Authorization"))
		mu.Unlock()
		var req struct {
			Input []string `json:"input"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, `{"error":{"message":"bad request"}}`, http.StatusBadRequest)
			return
		}
		vs, _ := local.Embed(r.Context(), req.Input)
		type item struct {
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		}
		out := struct {
			Data []item `json:"data"`
		}{}
		for i, v := range vs {
			out.Data = append(out.Data, item{Index: i, Embedding: v[:dim]})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(keys)
	}
}

// TestTenantEmbeddingModel gives one tenant its own embedding model: it is
// tried before it is saved, the key is sealed and never shown, the tenant's
// nodes are embedded again with it, and another tenant keeps the default.
func TestTenantEmbeddingModel(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	tok := b.token(t, "acme")
	kg := knowledgev1connect.NewKnowledgeServiceClient(b.h2c, b.gatewayURL, connect.WithGRPC())

	_, err := kg.UpsertNodes(ctx, authed(&knowledgev1.UpsertNodesRequest{Nodes: []*knowledgev1.Node{
		{Id: "rb-lag", Kind: knowledgev1.NodeKind_NODE_KIND_DOCUMENT, Type: "runbook", Title: "Postgres replication lag"},
		{Id: "rb-tls", Kind: knowledgev1.NodeKind_NODE_KIND_DOCUMENT, Type: "runbook", Title: "TLS certificate expiry"},
	}}, tok))
	require.NoError(t, err)

	wrong, _ := fakeEmbeddings(t, 8)
	_, err = kg.SetEmbeddingSettings(ctx, authed(&knowledgev1.SetEmbeddingSettingsRequest{BaseUrl: wrong.URL, Model: "tiny"}, tok))
	require.Equal(t, connect.CodeFailedPrecondition, connect.CodeOf(err), "a model of the wrong dimension is refused before it is saved: %v", err)

	good, keys := fakeEmbeddings(t, 1536)
	set, err := kg.SetEmbeddingSettings(ctx, authed(&knowledgev1.SetEmbeddingSettingsRequest{
		BaseUrl: good.URL, Model: "text-embedding-3-small", ApiKey: "sk-tenant-secret",
	}, tok))
	require.NoError(t, err)
	require.EqualValues(t, 2, set.Msg.GetReembedded())
	require.True(t, set.Msg.GetSettings().GetApiKeySet())
	require.Equal(t, "text-embedding-3-small", set.Msg.GetSettings().GetEffectiveModel())
	require.Contains(t, keys(), "Bearer sk-tenant-secret")

	got, err := kg.GetEmbeddingSettings(ctx, authed(&knowledgev1.GetEmbeddingSettingsRequest{}, tok))
	require.NoError(t, err)
	require.NotContains(t, got.Msg.String(), "sk-tenant-secret", "the key is never returned")
	require.EqualValues(t, 1536, got.Msg.GetSettings().GetDimension())

	// Searches now embed with the tenant's model.
	before := len(keys())
	res, err := kg.Search(ctx, authed(&knowledgev1.SearchRequest{Text: "replication lag", Mode: knowledgev1.SearchMode_SEARCH_MODE_VECTOR}, tok))
	require.NoError(t, err)
	require.Equal(t, "rb-lag", res.Msg.GetHits()[0].GetNode().GetId())
	require.Greater(t, len(keys()), before)

	// Another tenant still uses the deployment's embedder.
	other, err := kg.GetEmbeddingSettings(ctx, authed(&knowledgev1.GetEmbeddingSettingsRequest{}, b.token(t, "globex")))
	require.NoError(t, err)
	require.Equal(t, embed.LocalModel, other.Msg.GetSettings().GetEffectiveModel())

	// Back to the default: the key goes too.
	back, err := kg.SetEmbeddingSettings(ctx, authed(&knowledgev1.SetEmbeddingSettingsRequest{}, tok))
	require.NoError(t, err)
	require.False(t, back.Msg.GetSettings().GetApiKeySet())
	require.EqualValues(t, 2, back.Msg.GetReembedded())
}
