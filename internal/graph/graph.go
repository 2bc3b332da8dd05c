package graph

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Kind is what a node is.
type Kind string

// The node kinds.
const (
	KindCI         Kind = "ci"
	KindIssue      Kind = "issue"
	KindDocument   Kind = "document"
	KindResolution Kind = "resolution"
)

// Kinds lists every kind.
var Kinds = []Kind{KindCI, KindIssue, KindDocument, KindResolution}

// EdgeType is the type of a directed edge.
type EdgeType string

// The edge types, each with the kinds it joins (from → to).
const (
	// DependsOn: a CI needs another CI (service → database).
	DependsOn EdgeType = "DEPENDS_ON"
	// RunsOn: a CI runs on another (service → host).
	RunsOn EdgeType = "RUNS_ON"
	// OwnedBy: a CI is owned by a team (any CI → CI of type team).
	OwnedBy EdgeType = "OWNED_BY"
	// Affects: an issue or document concerns a CI.
	Affects EdgeType = "AFFECTS"
	// ResolvedBy: an issue was resolved by a resolution.
	ResolvedBy EdgeType = "RESOLVED_BY"
	// SimilarTo: two issues (or documents) are alike.
	SimilarTo EdgeType = "SIMILAR_TO"
)

// EdgeTypes lists every edge type.
var EdgeTypes = []EdgeType{DependsOn, RunsOn, OwnedBy, Affects, ResolvedBy, SimilarTo}

// edgeKinds says which kinds each edge type may join.
var edgeKinds = map[EdgeType]struct{ from, to []Kind }{
	DependsOn:  {[]Kind{KindCI}, []Kind{KindCI}},
	RunsOn:     {[]Kind{KindCI}, []Kind{KindCI}},
	OwnedBy:    {[]Kind{KindCI}, []Kind{KindCI}},
	Affects:    {[]Kind{KindIssue, KindDocument, KindResolution}, []Kind{KindCI}},
	ResolvedBy: {[]Kind{KindIssue}, []Kind{KindResolution}},
	SimilarTo:  {[]Kind{KindIssue, KindDocument}, []Kind{KindIssue, KindDocument}},
}

// Node is one node of the graph.
type Node struct {
	// ID is unique within the tenant: 1-200 bytes of UTF-8, no control
	// characters.
	ID   string
	Kind Kind
	// Type refines the kind, e.g. "service", "host", "postmortem",
	// "runbook"; lower case, at most 64 characters.
	Type string
	// Title and Body are what lexical search reads; Title weighs more.
	Title string
	Body  string
	// Properties are free-form attributes (a CMDB's columns, a file name).
	Properties map[string]string
	// Embedding is nil or has the graph's dimension.
	Embedding []float32
	// UpdatedAt is set by the graph on every upsert.
	UpdatedAt time.Time
}

// Edge is one directed, typed edge.
type Edge struct {
	From, To string
	Type     EdgeType
}

// Direction selects which edges of a node a traversal follows.
type Direction int

// Directions.
const (
	// Outgoing follows edges from the node (what it depends on, runs on,
	// is owned by).
	Outgoing Direction = iota + 1
	// Incoming follows edges to the node (what depends on it).
	Incoming
	// Both follows edges either way.
	Both
)

// Neighbour is a node reached by a traversal.
type Neighbour struct {
	Node Node
	// Edge is the edge that reached it first.
	Edge Edge
	// Depth is its distance from the start, from 1.
	Depth int
}

// Limits of the model, enforced by Validate and by every adapter.
const (
	MaxIDLen    = 200
	MaxTitleLen = 1000
	// MaxBodyLen keeps a body well inside what a Postgres tsvector can
	// index; longer texts are chunked into several documents.
	MaxBodyLen       = 256 << 10
	MaxProperties    = 64
	MaxTraverseDepth = 10
	MaxK             = 200
	// MaxListLimit bounds the page size of ListNodes.
	MaxListLimit = 1000
	// DefaultRRFK is Reciprocal Rank Fusion's k unless a query sets one.
	DefaultRRFK = 60
	// DefaultDimension is the embedding dimension unless configured.
	DefaultDimension = 1536
)

// Errors. Adapters wrap them, so errors.Is tells the caller what happened.
var (
	// ErrInvalid reports bad input: an unknown kind or edge type, a wrong
	// vector dimension, a field out of bounds.
	ErrInvalid = errors.New("invalid graph input")
	// ErrNotFound reports a node the tenant does not have.
	ErrNotFound = errors.New("graph node not found")
)

var (
	typePattern = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,63}$`)
	propPattern = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,64}$`)
)

// ValidateNode checks n against the model; dim is the graph's embedding
// dimension.
func ValidateNode(n Node, dim int) error {
	if err := ValidateID(n.ID); err != nil {
		return err
	}
	if !slices.Contains(Kinds, n.Kind) {
		return fmt.Errorf("%w: node %q: unknown kind %q (want one of %v)", ErrInvalid, n.ID, n.Kind, Kinds)
	}
	if !typePattern.MatchString(n.Type) {
		return fmt.Errorf("%w: node %q: type %q must be 1-64 characters of a-z, 0-9, '_' or '-', starting with a letter", ErrInvalid, n.ID, n.Type)
	}
	if len(n.Title) > MaxTitleLen || len(n.Body) > MaxBodyLen {
		return fmt.Errorf("%w: node %q: title over %d or body over %d bytes", ErrInvalid, n.ID, MaxTitleLen, MaxBodyLen)
	}
	if !utf8.ValidString(n.Title) || !utf8.ValidString(n.Body) {
		return fmt.Errorf("%w: node %q: title and body must be UTF-8", ErrInvalid, n.ID)
	}
	// No store's text type takes NUL (Postgres text refuses it).
	if strings.ContainsRune(n.Title, 0) || strings.ContainsRune(n.Body, 0) {
		return fmt.Errorf("%w: node %q: title and body must not contain NUL", ErrInvalid, n.ID)
	}
	if len(n.Properties) > MaxProperties {
		return fmt.Errorf("%w: node %q: %d properties, at most %d", ErrInvalid, n.ID, len(n.Properties), MaxProperties)
	}
	for k, v := range n.Properties {
		if !propPattern.MatchString(k) || len(v) > 4096 || !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			return fmt.Errorf("%w: node %q: property %q: names are 1-64 of A-Z a-z 0-9 _ . : -, values UTF-8 of at most 4096 bytes", ErrInvalid, n.ID, k)
		}
	}
	return ValidateVector(n.Embedding, dim, true)
}

// ValidateID checks a node ID: 1 to MaxIDLen bytes of UTF-8 without
// control characters.
func ValidateID(id string) error {
	if id == "" || len(id) > MaxIDLen || !utf8.ValidString(id) {
		return fmt.Errorf("%w: node id %.40q must be 1-%d bytes of UTF-8", ErrInvalid, id, MaxIDLen)
	}
	for _, r := range id {
		if unicode.IsControl(r) {
			return fmt.Errorf("%w: node id %.40q has a control character", ErrInvalid, id)
		}
	}
	return nil
}

// ValidateVector checks that v has dimension dim (or is empty, when
// optional) and holds only finite numbers.
func ValidateVector(v []float32, dim int, optional bool) error {
	if len(v) == 0 && optional {
		return nil
	}
	if len(v) != dim {
		return fmt.Errorf("%w: vector has dimension %d, the graph's is %d", ErrInvalid, len(v), dim)
	}
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("%w: vector holds NaN or Inf", ErrInvalid)
		}
	}
	return nil
}

// ValidateEdgeType checks that t is known.
func ValidateEdgeType(t EdgeType) error {
	if _, ok := edgeKinds[t]; !ok {
		return fmt.Errorf("%w: unknown edge type %q (want one of %v)", ErrInvalid, t, EdgeTypes)
	}
	return nil
}

// ValidateEdge checks e's type and that it may join a node of kind from to
// one of kind to.
func ValidateEdge(e Edge, from, to Kind) error {
	if err := ValidateEdgeType(e.Type); err != nil {
		return err
	}
	if e.From == e.To {
		return fmt.Errorf("%w: edge %s from %q to itself", ErrInvalid, e.Type, e.From)
	}
	k := edgeKinds[e.Type]
	if !slices.Contains(k.from, from) || !slices.Contains(k.to, to) {
		return fmt.Errorf("%w: a %s edge joins %v to %v, not %s %q to %s %q", ErrInvalid, e.Type, k.from, k.to, from, e.From, to, e.To)
	}
	return nil
}

// ValidateTraverse checks Traverse's arguments, before any lookup.
func ValidateTraverse(id string, dir Direction, types []EdgeType, depth int) error {
	if err := ValidateID(id); err != nil {
		return err
	}
	if dir != Outgoing && dir != Incoming && dir != Both {
		return fmt.Errorf("%w: direction %d", ErrInvalid, dir)
	}
	if depth < 1 || depth > MaxTraverseDepth {
		return fmt.Errorf("%w: depth %d must be between 1 and %d", ErrInvalid, depth, MaxTraverseDepth)
	}
	for _, t := range types {
		if err := ValidateEdgeType(t); err != nil {
			return err
		}
	}
	return nil
}

// Filters narrow a search.
type Filters struct {
	// Kinds keeps only nodes of these kinds; empty keeps all.
	Kinds []Kind
	// Types keeps only nodes of these types; empty keeps all.
	Types []string
}

// Query is a hybrid search.
type Query struct {
	// Text is searched lexically; empty skips the lexical list.
	Text string
	// Vector is searched by cosine similarity; nil skips the vector list.
	Vector []float32
	// K is how many hits to return, 1 to MaxK.
	K int
	// Filters narrow both lists.
	Filters Filters
	// RRFK is Reciprocal Rank Fusion's k; 0 means DefaultRRFK.
	RRFK int
}

// Hit is one search result with how it was ranked.
type Hit struct {
	Node Node
	// LexicalRank and VectorRank are the node's 1-based ranks in each list,
	// 0 when it is not in that list.
	LexicalRank, VectorRank int
	// LexicalScore is the full-text rank the adapter computed; VectorScore
	// the cosine similarity.
	LexicalScore, VectorScore float64
	// Score is the fused RRF score; hits are ordered by it.
	Score float64
}

// Graph is a tenant's knowledge graph. The tenant is the context's, always.
//
// Contract details every adapter keeps (graphtest checks them):
//   - an invalid ID, kind, type or edge type is ErrInvalid before any
//     lookup; a node missing for an edge or a traversal is ErrNotFound;
//   - a node ID repeated within one UpsertNodes batch: the last one wins;
//   - re-upserting a node under another kind keeps its edges as they are
//     (the kind rules are checked when an edge is written);
//   - Traverse never returns the start node; a node reachable by several
//     edges from the previous depth is reached by the least of them by
//     (parent, Type, From, To), the parent being the edge's end at the
//     previous depth (see Parent); the edge keeps its stored direction;
//   - HybridSearch ranks each list best first with equal scores by ID,
//     applies Filters inside each list before ranking, takes max(K, 50)
//     candidates from each list into the fusion, and leaves out of the
//     vector list nodes without an embedding or with a zero one; a zero
//     query vector contributes no vector list. A document sharing no word
//     with the query text is not in the lexical list;
//   - ListNodes orders and compares IDs as its store orders text (byte
//     order under Postgres' C collation), the same for both, so paging
//     visits each node once; an after that is not empty must be a valid
//     ID, else ErrInvalid.
type Graph interface {
	// Dimension is the embedding dimension every vector must have.
	Dimension() int
	// UpsertNodes creates or replaces nodes, all or none.
	UpsertNodes(ctx context.Context, nodes []Node) error
	// DeleteNodes deletes nodes and their edges; missing IDs are ignored.
	DeleteNodes(ctx context.Context, ids []string) error
	// Node returns one node, ErrNotFound when the tenant has none.
	Node(ctx context.Context, id string) (Node, error)
	// UpsertEdges adds edges, all or none; an edge that exists is kept, and
	// an edge to or from a missing node is ErrNotFound.
	UpsertEdges(ctx context.Context, edges []Edge) error
	// DeleteEdges removes edges; missing ones are ignored.
	DeleteEdges(ctx context.Context, edges []Edge) error
	// Traverse walks from id along edges of the given types (all when
	// empty) in dir, up to depth (1 to MaxTraverseDepth), and returns each
	// node reached once, at its least depth, ordered by depth then ID.
	Traverse(ctx context.Context, id string, dir Direction, types []EdgeType, depth int) ([]Neighbour, error)
	// HybridSearch ranks the tenant's nodes for q.
	HybridSearch(ctx context.Context, q Query) ([]Hit, error)
	// ListNodes pages through the tenant's nodes of kind (all kinds when
	// empty), ordered by ID, returning at most limit (1 to MaxListLimit) whose
	// ID is greater than after ("" for the first page). Nodes come without
	// their embeddings.
	ListNodes(ctx context.Context, kind Kind, after string, limit int) ([]Node, error)
}

// ValidateList checks the arguments of ListNodes: kind empty or one of
// Kinds, after empty or a valid ID, limit from 1 to MaxListLimit.
func ValidateList(kind Kind, after string, limit int) error {
	if kind != "" && !slices.Contains(Kinds, kind) {
		return fmt.Errorf("%w: list: unknown kind %q (want one of %v, or empty for all)", ErrInvalid, kind, Kinds)
	}
	if after != "" {
		if err := ValidateID(after); err != nil {
			return fmt.Errorf("list: after: %w", err)
		}
	}
	if limit < 1 || limit > MaxListLimit {
		return fmt.Errorf("%w: list: limit %d must be between 1 and %d", ErrInvalid, limit, MaxListLimit)
	}
	return nil
}

// Parent is the end of e that is not node: for an edge that reached node
// in a traversal, the node of the previous depth it came from.
func Parent(node string, e Edge) string {
	if e.To == node {
		return e.From
	}
	return e.To
}

// Neighbours returns the nodes one edge away from id, either way.
func Neighbours(ctx context.Context, g Graph, id string) ([]Neighbour, error) {
	return g.Traverse(ctx, id, Both, nil, 1)
}

// Upstream returns what id depends on, directly or not: DEPENDS_ON and
// RUNS_ON edges out of it, up to depth.
func Upstream(ctx context.Context, g Graph, id string, depth int) ([]Neighbour, error) {
	return g.Traverse(ctx, id, Outgoing, []EdgeType{DependsOn, RunsOn}, depth)
}

// Downstream returns what depends on id, directly or not: DEPENDS_ON and
// RUNS_ON edges into it, up to depth.
func Downstream(ctx context.Context, g Graph, id string, depth int) ([]Neighbour, error) {
	return g.Traverse(ctx, id, Incoming, []EdgeType{DependsOn, RunsOn}, depth)
}

// BlastRadius is what an outage of a CI can reach: everything downstream of
// it up to depth.
func BlastRadius(ctx context.Context, g Graph, id string, depth int) ([]Neighbour, error) {
	return Downstream(ctx, g, id, depth)
}

// Owners returns the teams that own id: its own OWNED_BY edges, or, when it
// has none, those of what it runs on or depends on nearest to it.
func Owners(ctx context.Context, g Graph, id string) ([]Node, error) {
	direct, err := g.Traverse(ctx, id, Outgoing, []EdgeType{OwnedBy}, 1)
	if err != nil || len(direct) > 0 {
		return nodes(direct), err
	}
	up, err := Upstream(ctx, g, id, MaxTraverseDepth)
	if err != nil {
		return nil, err
	}
	for depth := 1; ; depth++ {
		var owners []Neighbour
		found := false
		for _, n := range up {
			if n.Depth != depth {
				continue
			}
			found = true
			o, err := g.Traverse(ctx, n.Node.ID, Outgoing, []EdgeType{OwnedBy}, 1)
			if err != nil {
				return nil, err
			}
			owners = append(owners, o...)
		}
		if len(owners) > 0 || !found {
			return dedupe(nodes(owners)), nil
		}
	}
}

func nodes(ns []Neighbour) []Node {
	out := make([]Node, len(ns))
	for i, n := range ns {
		out[i] = n.Node
	}
	return out
}

func dedupe(ns []Node) []Node {
	seen := map[string]bool{}
	out := ns[:0]
	for _, n := range ns {
		if !seen[n.ID] {
			seen[n.ID] = true
			out = append(out, n)
		}
	}
	slices.SortFunc(out, func(a, b Node) int { return compareStrings(a.ID, b.ID) })
	return out
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ValidateQuery checks q against a graph of dimension dim.
func ValidateQuery(q Query, dim int) error {
	if q.K < 1 || q.K > MaxK {
		return fmt.Errorf("%w: k %d must be between 1 and %d", ErrInvalid, q.K, MaxK)
	}
	if q.Text == "" && len(q.Vector) == 0 {
		return fmt.Errorf("%w: a query needs text, a vector or both", ErrInvalid)
	}
	if q.RRFK < 0 {
		return fmt.Errorf("%w: rrf k %d must not be negative", ErrInvalid, q.RRFK)
	}
	for _, k := range q.Filters.Kinds {
		if !slices.Contains(Kinds, k) {
			return fmt.Errorf("%w: filter: unknown kind %q", ErrInvalid, k)
		}
	}
	return ValidateVector(q.Vector, dim, true)
}

// Ranked is one list of a hybrid search, best first: node IDs with their
// scores.
type Ranked struct {
	IDs    []string
	Scores []float64
}

// HitIDs returns the IDs of hits, in order, for reading their nodes.
func HitIDs(hits []Hit) []string {
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.Node.ID
	}
	return ids
}

// FillHits puts each hit's node from nodes, in place, and drops a hit whose
// node is not there: one deleted between the ranking and the read.
func FillHits(hits []Hit, nodes map[string]Node) []Hit {
	out := hits[:0]
	for _, h := range hits {
		if n, ok := nodes[h.Node.ID]; ok {
			h.Node = n
			out = append(out, h)
		}
	}
	return out
}

// Fuse merges the lexical and vector lists with Reciprocal Rank Fusion and
// returns the best k as hits without their nodes (the adapter fills them
// in). Ties are broken by ID so results are stable across adapters. Each
// list must hold every ID once, with a score per ID.
func Fuse(lexical, vector Ranked, k, rrfK int) []Hit {
	if k <= 0 {
		return nil
	}
	if rrfK == 0 {
		rrfK = DefaultRRFK
	}
	byID := map[string]*Hit{}
	add := func(list Ranked, set func(h *Hit, rank int, score float64)) {
		for i, id := range list.IDs {
			h, ok := byID[id]
			if !ok {
				h = &Hit{Node: Node{ID: id}}
				byID[id] = h
			}
			set(h, i+1, list.Scores[i])
			h.Score += 1 / float64(rrfK+i+1)
		}
	}
	add(lexical, func(h *Hit, rank int, score float64) { h.LexicalRank, h.LexicalScore = rank, score })
	add(vector, func(h *Hit, rank int, score float64) { h.VectorRank, h.VectorScore = rank, score })
	out := make([]Hit, 0, len(byID))
	for _, h := range byID {
		out = append(out, *h)
	}
	slices.SortFunc(out, func(a, b Hit) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return compareStrings(a.Node.ID, b.Node.ID)
	})
	return out[:min(k, len(out))]
}
