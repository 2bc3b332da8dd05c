// Package graphtest is the conformance suite of graph.Graph: every adapter
// (graph/postgres, graph/neo4j) runs Run against stores of its own, so the
// adapters agree on what the interface means.
//
// The suite covers node CRUD, typed edges, traversals over a small fixed
// CMDB, the helpers built on traversals (Upstream, Downstream, BlastRadius,
// Neighbours, Owners), hybrid search over a small fixed corpus of incidents
// and runbooks, tenant isolation and the refusal of bad input.
//
// Its lexical expectations hold under the semantics a full-text engine such
// as Postgres' 'english' configuration has: a multi-word query may match
// only documents holding every word (AND) or any word (OR), words may be
// stemmed and stop words dropped. The suite therefore uses query words that
// appear verbatim in the documents it expects to find, asserts the order of
// the top documents only where it is clear under either reading, and
// asserts that a document sharing no word with the query is not in the
// lexical list.
//
// A throwaway in-memory Graph in this package's tests runs the suite under
// both readings, so the suite can be checked without a database.
package graphtest
