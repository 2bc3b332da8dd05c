// Package postgres is the default adapter of graph.Graph: the knowledge
// graph in Postgres tables (kg_nodes, kg_edges, kg_versions; see
// migrations/00006_knowledge_graph.sql) under the same row-level security
// as every tenant table, plus an in-process index of each tenant's vectors.
//
// Every method finds the tenant through one helper (Graph.scoped) and runs
// its SQL in store.DB.WithTenant, so row-level security filters it, and
// every statement also says tenant_id = $1, so the indexes keyed on the
// tenant are used and a missing policy would still not leak.
//
// Lexical search is Postgres full text: a stored, generated tsvector over
// title (weight A) and body (weight B) with a GIN index on (tenant_id,
// search). A node matches when it holds any of the query's words
// (kg_any_word); it ranks by ts_rank over those words, normalised by
// document length and mapped into [0, 1), plus 1 when it also matches the
// whole websearch_to_tsquery, so documents holding every word come first
// and partial matches still fill the list. The ranking runs in the SQL
// function kg_lexical, because under row-level security the planner may not
// use the GIN index for @@ (it is not leakproof); the migration says why
// that function is safe.
//
// Vector search is exact: the cosine similarity of the query to every
// embedding of the tenant that passes the filters, top k by a bounded heap.
// Doing that in SQL over tens of thousands of 1536-dimension vectors is far
// too slow, so the embeddings (stored as little-endian float32 bytea) are
// held in memory per tenant, normalised to unit length in one contiguous
// matrix, loaded on first use and kept current by a per-tenant version
// counter that every node write bumps in its own transaction. Each search
// reads the version just before its lexical query and reloads the tenant
// when it moved; writes made through this process patch the index in place
// instead. Config.MaxCachedVectors bounds how many vectors all tenants
// together keep in memory; the least recently searched tenants are evicted
// first.
package postgres
