package neo4j

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/alexus-platform/alexus/internal/graph"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// chunkRows bounds the rows one statement of a batch write sends, so no
// single Bolt message grows without bound; a batch's chunks share one
// transaction.
const chunkRows = 1000

// upsertNodesCypher replaces each node whole (SET n = map drops every
// property the map does not hold, and a null value sets none) and keeps
// its relationships. MERGE on (tenant_id, id) is safe under concurrency
// because of the kg_node_id uniqueness constraint.
const upsertNodesCypher = `
UNWIND $rows AS row
MERGE (n:KGNode {tenant_id: $tenant, id: row.id})
SET n = {tenant_id: $tenant, id: row.id, kind: row.kind, type: row.type, title: row.title, body: row.body,
         props: row.props, embedding: row.embedding, has_vector: row.has_vector,
         updated_at: datetime.transaction()}`

// UpsertNodes creates or replaces nodes, all or none. When the same ID
// appears twice the last one wins.
func (g *Graph) UpsertNodes(ctx context.Context, nodes []graph.Node) error {
	if _, err := tenant.Require(ctx); err != nil {
		return err
	}
	if len(nodes) == 0 {
		return nil
	}
	last := make(map[string]int, len(nodes))
	for i, n := range nodes {
		if err := graph.ValidateNode(n, g.dim); err != nil {
			return err
		}
		last[n.ID] = i
	}
	rows := make([]any, 0, len(last))
	for i, n := range nodes {
		if last[n.ID] != i {
			continue
		}
		row, err := nodeRow(n)
		if err != nil {
			return err
		}
		rows = append(rows, row)
	}
	return g.write(ctx, func(t *tx) error {
		for chunk := range slices.Chunk(rows, chunkRows) {
			if _, err := t.run(upsertNodesCypher, map[string]any{"rows": chunk}); err != nil {
				return fmt.Errorf("upsert graph nodes: %w", err)
			}
		}
		return nil
	})
}

// nodeRow is n as the parameter row upsertNodesCypher reads.
func nodeRow(n graph.Node) (map[string]any, error) {
	row := map[string]any{
		"id": n.ID, "kind": string(n.Kind), "type": n.Type, "title": n.Title, "body": n.Body,
		"props": nil, "embedding": nil, "has_vector": false,
	}
	if len(n.Properties) > 0 {
		b, err := json.Marshal(n.Properties)
		if err != nil {
			return nil, fmt.Errorf("%w: node %q: encode properties: %v", graph.ErrInvalid, n.ID, err)
		}
		row["props"] = string(b)
	}
	if len(n.Embedding) > 0 {
		// float64 holds every float32 exactly, so the vector round-trips.
		v := make([]float64, len(n.Embedding))
		nonZero := false
		for i, x := range n.Embedding {
			v[i] = float64(x)
			nonZero = nonZero || x != 0
		}
		row["embedding"], row["has_vector"] = v, nonZero
	}
	return row, nil
}

// DeleteNodes deletes nodes and their relationships; missing IDs are
// ignored.
func (g *Graph) DeleteNodes(ctx context.Context, ids []string) error {
	if _, err := tenant.Require(ctx); err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	for _, id := range ids {
		if err := graph.ValidateID(id); err != nil {
			return err
		}
	}
	return g.write(ctx, func(t *tx) error {
		for chunk := range slices.Chunk(ids, chunkRows) {
			_, err := t.run(deleteNodesCypher, map[string]any{"ids": chunk})
			if err != nil {
				return fmt.Errorf("delete graph nodes: %w", err)
			}
		}
		return nil
	})
}

// nodeProjection returns a node as one map column, "node".
const nodeProjection = `n {.id, .kind, .type, .title, .body, .props, .embedding, .updated_at} AS node`

// The statements of node and edge reads and writes. Those of edge writes
// take the relationship type (%[1]s), a validated graph.EdgeType, because
// Neo4j 5 cannot take a relationship type from a parameter.
const (
	deleteNodesCypher = `MATCH (n:KGNode {tenant_id: $tenant}) WHERE n.id IN $ids DETACH DELETE n`
	nodeCypher        = `MATCH (n:KGNode {tenant_id: $tenant, id: $id}) RETURN ` + nodeProjection
	nodesCypher       = `MATCH (n:KGNode {tenant_id: $tenant}) WHERE n.id IN $ids RETURN ` + nodeProjection
	kindsCypher       = `MATCH (n:KGNode {tenant_id: $tenant}) WHERE n.id IN $ids RETURN n.id AS id, n.kind AS kind`
	upsertEdgesCypher = `
UNWIND $edges AS e
MATCH (a:KGNode {tenant_id: $tenant, id: e.from})
MATCH (b:KGNode {tenant_id: $tenant, id: e.to})
MERGE (a)-[:%[1]s]->(b)
RETURN count(*) AS merged`
	deleteEdgesCypher = `
UNWIND $edges AS e
MATCH (a:KGNode {tenant_id: $tenant, id: e.from})-[r:%[1]s]->(b:KGNode {tenant_id: $tenant, id: e.to})
DELETE r`
)

// Node returns one node, graph.ErrNotFound when the tenant has none.
func (g *Graph) Node(ctx context.Context, id string) (graph.Node, error) {
	if _, err := tenant.Require(ctx); err != nil {
		return graph.Node{}, err
	}
	if err := graph.ValidateID(id); err != nil {
		return graph.Node{}, err
	}
	var n graph.Node
	err := g.read(ctx, func(t *tx) error {
		recs, err := t.run(nodeCypher, map[string]any{"id": id})
		if err != nil {
			return fmt.Errorf("read graph node %q: %w", id, err)
		}
		if len(recs) == 0 {
			return fmt.Errorf("%w: %q", graph.ErrNotFound, id)
		}
		n, err = recordNode(recs[0])
		return err
	})
	return n, err
}

// listProjection is nodeProjection without the embedding, which ListNodes
// does not return.
const listProjection = `n {.id, .kind, .type, .title, .body, .props, .updated_at} AS node`

// The statements of ListNodes: one range over the kg_node_id constraint's
// index (tenant_id, id), in ID order; listByKindCypher keeps one kind.
const (
	listCypher       = `MATCH (n:KGNode {tenant_id: $tenant}) WHERE n.id > $after RETURN ` + listProjection + ` ORDER BY n.id LIMIT $limit`
	listByKindCypher = `MATCH (n:KGNode {tenant_id: $tenant}) WHERE n.id > $after AND n.kind = $kind RETURN ` + listProjection + ` ORDER BY n.id LIMIT $limit`
)

// ListNodes pages through the tenant's nodes of kind (all kinds when
// empty), ordered by ID, returning at most limit whose ID is greater than
// after ("" for the first page), without their embeddings.
func (g *Graph) ListNodes(ctx context.Context, kind graph.Kind, after string, limit int) ([]graph.Node, error) {
	if _, err := tenant.Require(ctx); err != nil {
		return nil, err
	}
	if err := graph.ValidateList(kind, after, limit); err != nil {
		return nil, err
	}
	cypher, params := listCypher, map[string]any{"after": after, "limit": int64(limit)}
	if kind != "" {
		cypher, params["kind"] = listByKindCypher, string(kind)
	}
	var out []graph.Node
	err := g.read(ctx, func(t *tx) error {
		recs, err := t.run(cypher, params)
		if err != nil {
			return fmt.Errorf("list graph nodes: %w", err)
		}
		// Reset, for the driver may run this function again.
		out = make([]graph.Node, 0, len(recs))
		for _, rec := range recs {
			n, err := recordNode(rec)
			if err != nil {
				return err
			}
			out = append(out, n)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// nodesByID reads the nodes with the given IDs; missing ones are absent
// from the map.
func nodesByID(t *tx, ids []string) (map[string]graph.Node, error) {
	out := make(map[string]graph.Node, len(ids))
	for chunk := range slices.Chunk(ids, chunkRows) {
		recs, err := t.run(nodesCypher, map[string]any{"ids": chunk})
		if err != nil {
			return nil, fmt.Errorf("read graph nodes: %w", err)
		}
		for _, rec := range recs {
			n, err := recordNode(rec)
			if err != nil {
				return nil, err
			}
			out[n.ID] = n
		}
	}
	return out, nil
}

// recordNode decodes the "node" column of nodeProjection.
func recordNode(rec *neo4j.Record) (graph.Node, error) {
	v, _ := rec.Get("node")
	m, ok := v.(map[string]any)
	if !ok {
		return graph.Node{}, fmt.Errorf("decode graph node: got %T", v)
	}
	str := func(k string) string { s, _ := m[k].(string); return s }
	n := graph.Node{ID: str("id"), Kind: graph.Kind(str("kind")), Type: str("type"), Title: str("title"), Body: str("body")}
	if p := str("props"); p != "" {
		if err := json.Unmarshal([]byte(p), &n.Properties); err != nil {
			return graph.Node{}, fmt.Errorf("decode properties of %q: %w", n.ID, err)
		}
	}
	if list, ok := m["embedding"].([]any); ok && len(list) > 0 {
		n.Embedding = make([]float32, len(list))
		for i, x := range list {
			f, ok := x.(float64)
			if !ok {
				return graph.Node{}, fmt.Errorf("decode embedding of %q: element %d is %T", n.ID, i, x)
			}
			n.Embedding[i] = float32(f)
		}
	}
	// In UTC, so two reads of one node compare equal whatever zone the
	// server's clock reports.
	switch at := m["updated_at"].(type) {
	case time.Time:
		n.UpdatedAt = at.UTC()
	case neo4j.LocalDateTime:
		n.UpdatedAt = at.Time().UTC()
	}
	return n, nil
}

// UpsertEdges adds edges, all or none; an edge that exists is kept, and an
// edge to or from a node the tenant does not have is graph.ErrNotFound.
func (g *Graph) UpsertEdges(ctx context.Context, edges []graph.Edge) error {
	if _, err := tenant.Require(ctx); err != nil {
		return err
	}
	if len(edges) == 0 {
		return nil
	}
	// IDs and types first, then (in the transaction) that both ends exist,
	// then their kinds: the order every adapter checks in.
	seen := make(map[graph.Edge]bool, len(edges))
	var batch []graph.Edge
	var ids []string
	idSeen := map[string]bool{}
	for _, e := range edges {
		for _, id := range []string{e.From, e.To} {
			if err := graph.ValidateID(id); err != nil {
				return err
			}
			if !idSeen[id] {
				idSeen[id] = true
				ids = append(ids, id)
			}
		}
		if err := graph.ValidateEdgeType(e.Type); err != nil {
			return err
		}
		if !seen[e] {
			seen[e] = true
			batch = append(batch, e)
		}
	}
	return g.write(ctx, func(t *tx) error {
		kinds := make(map[string]graph.Kind, len(ids))
		for chunk := range slices.Chunk(ids, chunkRows) {
			recs, err := t.run(kindsCypher, map[string]any{"ids": chunk})
			if err != nil {
				return fmt.Errorf("read kinds of edge ends: %w", err)
			}
			for _, rec := range recs {
				id, _ := rec.Get("id")
				kind, _ := rec.Get("kind")
				s, _ := id.(string)
				k, _ := kind.(string)
				kinds[s] = graph.Kind(k)
			}
		}
		for _, e := range batch {
			for _, end := range []string{e.From, e.To} {
				if _, ok := kinds[end]; !ok {
					return fmt.Errorf("%w: %s edge from %q to %q: no node %q", graph.ErrNotFound, e.Type, e.From, e.To, end)
				}
			}
			if err := graph.ValidateEdge(e, kinds[e.From], kinds[e.To]); err != nil {
				return err
			}
		}
		for typ, rows := range edgeRowsByType(batch) {
			for chunk := range slices.Chunk(rows, chunkRows) {
				recs, err := t.run(fmt.Sprintf(upsertEdgesCypher, typ), map[string]any{"edges": chunk})
				if err != nil {
					return fmt.Errorf("upsert graph edges: %w", err)
				}
				// A node deleted since the kinds were read leaves its
				// edges unmatched.
				if merged := countOf(recs, "merged"); merged != int64(len(chunk)) {
					return fmt.Errorf("%w: %d of %d %s edges lost an end while being written", graph.ErrNotFound, int64(len(chunk))-merged, len(chunk), typ)
				}
			}
		}
		return nil
	})
}

// DeleteEdges removes edges; missing ones are ignored.
func (g *Graph) DeleteEdges(ctx context.Context, edges []graph.Edge) error {
	if _, err := tenant.Require(ctx); err != nil {
		return err
	}
	if len(edges) == 0 {
		return nil
	}
	seen := make(map[graph.Edge]bool, len(edges))
	var batch []graph.Edge
	for _, e := range edges {
		if err := graph.ValidateEdgeType(e.Type); err != nil {
			return err
		}
		if !seen[e] {
			seen[e] = true
			batch = append(batch, e)
		}
	}
	return g.write(ctx, func(t *tx) error {
		for typ, rows := range edgeRowsByType(batch) {
			for chunk := range slices.Chunk(rows, chunkRows) {
				_, err := t.run(fmt.Sprintf(deleteEdgesCypher, typ), map[string]any{"edges": chunk})
				if err != nil {
					return fmt.Errorf("delete graph edges: %w", err)
				}
			}
		}
		return nil
	})
}

// edgeRowsByType groups edges by type as parameter rows {from, to}.
func edgeRowsByType(edges []graph.Edge) map[graph.EdgeType][]any {
	out := map[graph.EdgeType][]any{}
	for _, e := range edges {
		out[e.Type] = append(out[e.Type], map[string]any{"from": e.From, "to": e.To})
	}
	return out
}

// countOf reads an integer column of the first record, 0 when absent.
func countOf(recs []*neo4j.Record, key string) int64 {
	if len(recs) == 0 {
		return 0
	}
	v, _ := recs[0].Get(key)
	n, _ := v.(int64)
	return n
}
