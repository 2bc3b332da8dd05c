package knowledge

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	knowledgev1 "github.com/alexus-platform/alexus/gen/alexus/knowledge/v1"
	"github.com/alexus-platform/alexus/internal/embed"
	"github.com/alexus-platform/alexus/internal/graph"
	"github.com/alexus-platform/alexus/internal/rpc"
	"github.com/alexus-platform/alexus/internal/secretbox"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// DefaultK is the number of hits a search returns when it asks for none.
const DefaultK = 10

// Handler implements KnowledgeService.
type Handler struct {
	knowledgev1.UnimplementedKnowledgeServiceServer
	graph graph.Graph
	// embed is the deployment's embedder, for tenants without their own.
	embed embed.Embedder
	// keys opens tenants' sealed embedding API keys; nil when no key ring
	// is configured.
	keys *secretbox.Keyring
	// tenantEmbed caches each tenant's embedder.
	tenantEmbed embedders
	// db holds tenant_rag_settings: knowledge files and embedding settings.
	db  *store.DB
	log *zap.Logger
	// imports admits CMDB imports; see maxConcurrentImports.
	imports chan struct{}
}

// NewHandler returns a Handler over g, embedding with e (whose dimension
// must be g's) for tenants without a model of their own, keeping tenant
// settings in db and opening sealed keys with keys (may be nil).
func NewHandler(g graph.Graph, e embed.Embedder, db *store.DB, keys *secretbox.Keyring, log *zap.Logger) (*Handler, error) {
	if e.Dimension() != g.Dimension() {
		return nil, fmt.Errorf("knowledge: embedder %s makes vectors of %d dimensions, the graph holds %d", e.Model(), e.Dimension(), g.Dimension())
	}
	return &Handler{
		graph: g, embed: e, keys: keys, db: db, log: log,
		tenantEmbed: embedders{entries: map[tenant.ID]embedderEntry{}},
		imports:     make(chan struct{}, maxConcurrentImports),
	}, nil
}

// UpsertNodes implements KnowledgeService.
func (h *Handler) UpsertNodes(ctx context.Context, req *knowledgev1.UpsertNodesRequest) (*knowledgev1.UpsertNodesResponse, error) {
	nodes := make([]graph.Node, len(req.GetNodes()))
	for i, n := range req.GetNodes() {
		nodes[i] = nodeFromProto(n)
	}
	emb, err := h.embedderFor(ctx)
	if err != nil {
		return nil, h.statusOf(ctx, "embed nodes", err)
	}
	if err := embedAll(ctx, emb, nodes); err != nil {
		return nil, h.statusOf(ctx, "embed nodes", err)
	}
	if err := h.graph.UpsertNodes(ctx, nodes); err != nil {
		return nil, h.statusOf(ctx, "upsert nodes", err)
	}
	return &knowledgev1.UpsertNodesResponse{Upserted: int32(len(nodes))}, nil
}

// EmbeddingText is what a node is embedded from: its title, then its body.
func EmbeddingText(n graph.Node) string {
	return strings.TrimSpace(n.Title + "\n" + n.Body)
}

// GetNode implements KnowledgeService.
func (h *Handler) GetNode(ctx context.Context, req *knowledgev1.GetNodeRequest) (*knowledgev1.GetNodeResponse, error) {
	n, err := h.graph.Node(ctx, req.GetId())
	if err != nil {
		return nil, h.statusOf(ctx, "get node", err)
	}
	return &knowledgev1.GetNodeResponse{Node: nodeToProto(n)}, nil
}

// DeleteNodes implements KnowledgeService.
func (h *Handler) DeleteNodes(ctx context.Context, req *knowledgev1.DeleteNodesRequest) (*knowledgev1.DeleteNodesResponse, error) {
	if err := h.graph.DeleteNodes(ctx, req.GetIds()); err != nil {
		return nil, h.statusOf(ctx, "delete nodes", err)
	}
	return &knowledgev1.DeleteNodesResponse{}, nil
}

// UpsertEdges implements KnowledgeService.
func (h *Handler) UpsertEdges(ctx context.Context, req *knowledgev1.UpsertEdgesRequest) (*knowledgev1.UpsertEdgesResponse, error) {
	if err := h.graph.UpsertEdges(ctx, edgesFromProto(req.GetEdges())); err != nil {
		return nil, h.statusOf(ctx, "upsert edges", err)
	}
	return &knowledgev1.UpsertEdgesResponse{}, nil
}

// DeleteEdges implements KnowledgeService.
func (h *Handler) DeleteEdges(ctx context.Context, req *knowledgev1.DeleteEdgesRequest) (*knowledgev1.DeleteEdgesResponse, error) {
	if err := h.graph.DeleteEdges(ctx, edgesFromProto(req.GetEdges())); err != nil {
		return nil, h.statusOf(ctx, "delete edges", err)
	}
	return &knowledgev1.DeleteEdgesResponse{}, nil
}

// Traverse implements KnowledgeService.
func (h *Handler) Traverse(ctx context.Context, req *knowledgev1.TraverseRequest) (*knowledgev1.TraverseResponse, error) {
	types := make([]graph.EdgeType, len(req.GetTypes()))
	for i, t := range req.GetTypes() {
		types[i] = edgeTypeFromProto(t)
	}
	// The API's directions are numbered as the graph's: OUTGOING 1, INCOMING 2, BOTH 3.
	ns, err := h.graph.Traverse(ctx, req.GetId(), graph.Direction(req.GetDirection()), types, int(req.GetDepth()))
	if err != nil {
		return nil, h.statusOf(ctx, "traverse", err)
	}
	out := &knowledgev1.TraverseResponse{Neighbours: make([]*knowledgev1.Neighbour, len(ns))}
	for i, n := range ns {
		out.Neighbours[i] = &knowledgev1.Neighbour{Node: nodeToProto(n.Node), Edge: edgeToProto(n.Edge), Depth: int32(n.Depth)}
	}
	return out, nil
}

// GetOwners implements KnowledgeService.
func (h *Handler) GetOwners(ctx context.Context, req *knowledgev1.GetOwnersRequest) (*knowledgev1.GetOwnersResponse, error) {
	owners, err := graph.Owners(ctx, h.graph, req.GetId())
	if err != nil {
		return nil, h.statusOf(ctx, "get owners", err)
	}
	out := &knowledgev1.GetOwnersResponse{Owners: make([]*knowledgev1.Node, len(owners))}
	for i, n := range owners {
		out.Owners[i] = nodeToProto(n)
	}
	return out, nil
}

// Search implements KnowledgeService. The text is embedded with the same
// embedder as the nodes; a lexical search embeds nothing.
func (h *Handler) Search(ctx context.Context, req *knowledgev1.SearchRequest) (*knowledgev1.SearchResponse, error) {
	q := graph.Query{K: int(req.GetK()), RRFK: int(req.GetRrfK()), Filters: graph.Filters{Types: req.GetTypes()}}
	if q.K == 0 {
		q.K = DefaultK
	}
	for _, k := range req.GetKinds() {
		q.Filters.Kinds = append(q.Filters.Kinds, kindFromProto(k))
	}
	mode := req.GetMode()
	if mode != knowledgev1.SearchMode_SEARCH_MODE_VECTOR {
		q.Text = req.GetText()
	}
	if mode != knowledgev1.SearchMode_SEARCH_MODE_LEXICAL {
		emb, err := h.embedderFor(ctx)
		if err != nil {
			return nil, h.statusOf(ctx, "embed query", err)
		}
		vs, err := emb.Embed(ctx, []string{req.GetText()})
		if err != nil {
			return nil, h.statusOf(ctx, "embed query", fmt.Errorf("%w: %w", errEmbed, err))
		}
		q.Vector = vs[0]
	}
	hits, err := h.graph.HybridSearch(ctx, q)
	if err != nil {
		return nil, h.statusOf(ctx, "search", err)
	}
	out := &knowledgev1.SearchResponse{Hits: make([]*knowledgev1.SearchHit, len(hits))}
	for i, hit := range hits {
		out.Hits[i] = &knowledgev1.SearchHit{
			Node:        nodeToProto(hit.Node),
			LexicalRank: int32(hit.LexicalRank), VectorRank: int32(hit.VectorRank),
			LexicalScore: hit.LexicalScore, VectorScore: hit.VectorScore, Score: hit.Score,
		}
	}
	return out, nil
}

// errEmbed marks a failure of the embedder, which is an outside service
// (or the local one, which does not fail).
var errEmbed = errors.New("embedding failed")

func (h *Handler) statusOf(ctx context.Context, op string, err error) error {
	switch {
	case errors.Is(err, graph.ErrInvalid):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, graph.ErrNotFound):
		return status.Error(codes.NotFound, err.Error())
	case errors.Is(err, errEmbed) && ctx.Err() == nil:
		h.log.Warn("embedding failed", zap.String("op", op), zap.Error(err))
		return status.Error(codes.Unavailable, "the embedding model is unavailable, retry")
	}
	return rpc.StatusOf(ctx, h.log, op, err)
}

// kindFromProto maps NODE_KIND_CI to "ci": the enum names are the graph's
// kinds, upper-cased, with a prefix.
func kindFromProto(k knowledgev1.NodeKind) graph.Kind {
	if k == knowledgev1.NodeKind_NODE_KIND_UNSPECIFIED {
		return ""
	}
	return graph.Kind(strings.ToLower(strings.TrimPrefix(k.String(), "NODE_KIND_")))
}

func kindToProto(k graph.Kind) knowledgev1.NodeKind {
	return knowledgev1.NodeKind(knowledgev1.NodeKind_value["NODE_KIND_"+strings.ToUpper(string(k))])
}

// edgeTypeFromProto maps EDGE_TYPE_DEPENDS_ON to DEPENDS_ON: the enum
// names are the graph's edge types with a prefix.
func edgeTypeFromProto(t knowledgev1.EdgeType) graph.EdgeType {
	if t == knowledgev1.EdgeType_EDGE_TYPE_UNSPECIFIED {
		return ""
	}
	return graph.EdgeType(strings.TrimPrefix(t.String(), "EDGE_TYPE_"))
}

func edgeTypeToProto(t graph.EdgeType) knowledgev1.EdgeType {
	return knowledgev1.EdgeType(knowledgev1.EdgeType_value["EDGE_TYPE_"+string(t)])
}

func nodeFromProto(n *knowledgev1.Node) graph.Node {
	return graph.Node{
		ID: n.GetId(), Kind: kindFromProto(n.GetKind()), Type: n.GetType(),
		Title: n.GetTitle(), Body: n.GetBody(), Properties: n.GetProperties(),
	}
}

func nodeToProto(n graph.Node) *knowledgev1.Node {
	return &knowledgev1.Node{
		Id: n.ID, Kind: kindToProto(n.Kind), Type: n.Type, Title: n.Title, Body: n.Body,
		Properties: n.Properties, UpdatedAt: timestamppb.New(n.UpdatedAt),
	}
}

func edgesFromProto(es []*knowledgev1.Edge) []graph.Edge {
	out := make([]graph.Edge, len(es))
	for i, e := range es {
		out[i] = graph.Edge{From: e.GetFrom(), To: e.GetTo(), Type: edgeTypeFromProto(e.GetType())}
	}
	return out
}

func edgeToProto(e graph.Edge) *knowledgev1.Edge {
	return &knowledgev1.Edge{From: e.From, To: e.To, Type: edgeTypeToProto(e.Type)}
}
