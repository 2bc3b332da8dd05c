// Package cmdb imports configuration items (CIs) and their relations from a
// CMDB export into the knowledge graph.
//
// Parse reads one file in one of the Formats: the native JSON document
// ({"cis":[...],"relations":[...]}), the native CSV files (cis.csv,
// relations.csv), or ServiceNow exports of the cmdb_ci table (or any of its
// class tables) and of cmdb_rel_ci, as JSON ({"records":[...]} or
// {"result":[...]}, values as strings or as {"value","display_value"}
// reference objects) or CSV with field names as headers. It returns a Batch of
// graph nodes and edges and the rows it rejected, each with its reason; only
// input that cannot be read at all (not JSON, a CSV without the needed header,
// over the size cap) is an error.
//
// Import writes a Batch: nodes first, then edges, in chunks, so tens of
// thousands of CIs go in a few dozen statements. It checks every edge's
// endpoints against the batch and the graph before writing, because
// graph.Graph.UpsertEdges is all or none: an edge to a CI that exists nowhere
// is reported against its row and the rest are written. Import is
// idempotent: node IDs come from the export (sys_id, or the native id), nodes
// are upserted and edges that exist are kept.
//
// How ServiceNow classes become node types and relationship types become edge
// types is in mapping.go (ClassType, RelationType).
package cmdb
