// Package neo4j is the Neo4j 5 adapter of graph.Graph, on
// github.com/neo4j/neo4j-go-driver/v5. It passes the same conformance suite
// (graph/graphtest) as graph/postgres, with the same semantics.
//
// # The model in Neo4j
//
// Every node of every tenant is one Neo4j node with the single label
// :KGNode and the properties tenant_id, id, kind, type, title, body, props,
// embedding, has_vector and updated_at. The kind is a property, not a
// label: Neo4j 5 cannot set a label from a parameter, so a kind label would
// need one statement per kind, and every filter reads the property anyway.
//
// Properties are stored as one JSON string (props), not flattened onto the
// node: a property may be named like a column of ours ("id", "tenant_id")
// or hold characters ('.', ':', '-') that Cypher would need quoted, and a
// single value makes "an upsert replaces the node whole" one assignment.
// Nothing queries inside it.
//
// The embedding is a LIST<FLOAT> (stored as doubles, so a float32 vector
// round-trips exactly); has_vector says it is present and not all zeros,
// since a zero vector has no cosine similarity and stays out of the vector
// list. updated_at is the server's datetime.transaction().
//
// Edges are relationships typed exactly as graph.EdgeType (DEPENDS_ON,
// ...), created with MERGE between two nodes both matched under the
// tenant, so an edge never joins two tenants. MERGE keeps an edge once
// against sequential upserts; two transactions merging the same new edge
// at the same moment may both create it (Neo4j guarantees uniqueness only
// for constrained node properties). Traversals and deletes treat such
// twins as one edge.
//
// # Schema
//
// EnsureSchema (run by New, idempotent) creates, each IF NOT EXISTS:
//
//   - kg_node_id, a uniqueness constraint on (tenant_id, id): what MERGE
//     relies on, and the index every lookup by ID seeks (node keys need
//     Enterprise Edition; uniqueness works on Community);
//   - kg_tenant, a range index on tenant_id, for the per-tenant vector scan;
//   - kg_text, a full-text index on title and body with the 'english'
//     analyzer (as Postgres' 'english' configuration: stemming, stop words),
//     updated in the writing transaction (not eventually consistent);
//   - kg_embedding, a vector index on embedding of the configured dimension
//     with cosine similarity. An existing kg_embedding of another dimension
//     is an error, not silently kept.
//
// # Tenancy
//
// No method runs Cypher itself: each goes through Graph.read or Graph.write,
// which take the tenant from tenant.Require and hand the method a tx whose
// run injects it as $tenant, and refuses any statement that does not name
// $tenant or that has a :KGNode pattern not scoped by
// {tenant_id: $tenant ...}. That check (checkScoped) is a guard against the
// obvious mistake, not a Cypher parser. Only the schema step runs unscoped
// statements, through its own path.
//
// # Search
//
// HybridSearch fuses two lists with graph.Fuse, each cut at max(K, 50) and
// ranked best first with equal scores by ID, filters applied inside the
// query before the cut:
//
//   - Lexical: db.index.fulltext.queryNodes over kg_text with the Lucene
//     query title:(words)^2 OR body:(words), so the title weighs twice the
//     body. The user's words are lower-cased (so AND, OR, NOT are never
//     operators) and every Lucene special character is escaped; a node
//     matches when it holds any word, and BM25 ranks those holding more of
//     them first. The score is Lucene's. The full-text index spans all
//     tenants: the procedure's matches are filtered to the tenant before
//     the cut, which costs in proportion to other tenants' matches, and the
//     BM25 statistics (document frequencies) are index-wide, so another
//     tenant's documents shift this tenant's scores, though not which nodes
//     match.
//   - Vector: exact, as the package graph documents: cosine similarity
//     (vector.similarity.cosine, Neo4j 5.18+) against every embedded node of
//     the tenant that passes the filters, found through kg_tenant. The
//     vector index kg_embedding is not used for search: its
//     db.index.vector.queryNodes is approximate and not filtered by tenant,
//     so a tenant's top k may need an unbounded over-fetch past other
//     tenants' nodes, and can still miss. The exact scan costs a pass over
//     the tenant's vectors per search, fine for thousands of nodes per
//     tenant and slow for millions; the index is kept so that an
//     approximate mode can be added without a schema change. Neo4j's
//     function returns (1 + cos) / 2; hits carry the cosine itself, as the
//     Postgres adapter's do.
//
// # Traversal
//
// Traverse runs a breadth-first search with one Cypher query per depth,
// from the previous depth's nodes along the allowed relationship types and
// directions to nodes not yet seen. Doing it level by level in Go honours
// the contract exactly and keeps the work bounded by depth × reached nodes,
// where a variable-length pattern would enumerate every path. A node reached
// by several edges from the previous depth keeps the least (From, Type, To)
// of them in its stored direction.
package neo4j
