// Package graph is a tenant's knowledge graph: what the reasoning plane
// retrieves to diagnose an alert, behind one interface with two adapters
// (graph/postgres, the default, and graph/neo4j) that pass one conformance
// suite (graph/graphtest).
//
// # The model
//
// A Node is one of four kinds:
//
//   - a configuration item (KindCI): a service, host, database, queue or
//     team, as a CMDB knows it;
//   - an issue (KindIssue): a past incident or a postmortem;
//   - a document (KindDocument): a runbook section or a chunk of a
//     knowledge file;
//   - a resolution (KindResolution): what fixed an issue, validated or not
//     by the 48-hour quality gate.
//
// Every node has a tenant-unique ID chosen by the caller (a CMDB sys_id, an
// incident ID, "<file>#<chunk>"), a Type within its kind ("service",
// "postmortem", ...), a Title and Body that lexical search reads (the title
// weighing more), free-form string Properties, and optionally an Embedding
// of the graph's configured dimension that vector search reads.
//
// Edges are directed and typed; the types and the kinds they join are fixed
// (see EdgeType), and an edge to or from a missing node is refused. Deleting
// a node deletes its edges. Upserting a node replaces it whole and keeps its
// edges.
//
// # Tenancy
//
// No method takes a tenant: every one reads it from the context
// (tenant.Require), and an adapter passes every query through one tenant
// filter of its own, so no call can reach another tenant's nodes.
//
// # Search
//
// HybridSearch ranks nodes two ways, lexically (full text over title and
// body) and by vector (exact cosine similarity to the query vector, no
// approximate index), and fuses the two rankings with Reciprocal Rank
// Fusion: score = Σ 1/(k + rank) over the lists a node appears in, k = 60
// unless the query says otherwise. Each hit carries both ranks and the
// fused score, so a diagnosis can say why a document was retrieved.
package graph
