package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/alexus-platform/alexus/internal/graph"
)

// traverseSQL walks breadth first from $2 along edges of the types $4 (all
// when NULL), outgoing when $5 and incoming when $6, up to depth $3.
//
// walk holds (node, depth) pairs. UNION (not UNION ALL) drops a pair found
// twice at one depth, so each level has at most one row per node and the
// walk is bounded by depth × nodes however many cycles or diamonds the
// graph has (a path array would enumerate every path instead). A node may
// reappear at a deeper level through a cycle; best keeps its least depth.
// reached then picks, for each node, the edge that reached it first: from
// the parent at the previous depth with the least ID, then by edge type.
const traverseSQL = `
WITH RECURSIVE walk (id, depth) AS (
  SELECT $2::text, 0
  UNION
  SELECT s.next, w.depth + 1
  FROM walk w
  CROSS JOIN LATERAL (
    SELECT e.dst AS next FROM kg_edges e
    WHERE $5 AND e.tenant_id = $1 AND e.src = w.id AND ($4::text[] IS NULL OR e.type = ANY($4))
    UNION ALL
    SELECT e.src FROM kg_edges e
    WHERE $6 AND e.tenant_id = $1 AND e.dst = w.id AND ($4::text[] IS NULL OR e.type = ANY($4))
  ) AS s
  WHERE w.depth < $3
),
best AS (
  SELECT id, min(depth) AS depth FROM walk GROUP BY id HAVING min(depth) > 0
),
reached AS (
  SELECT DISTINCT ON (b.id) b.id, b.depth, s.src, s.type, s.dst
  FROM best b
  CROSS JOIN LATERAL (
    SELECT e.src, e.type, e.dst, e.src AS parent FROM kg_edges e
    WHERE $5 AND e.tenant_id = $1 AND e.dst = b.id AND ($4::text[] IS NULL OR e.type = ANY($4))
    UNION ALL
    SELECT e.src, e.type, e.dst, e.dst FROM kg_edges e
    WHERE $6 AND e.tenant_id = $1 AND e.src = b.id AND ($4::text[] IS NULL OR e.type = ANY($4))
  ) AS s
  JOIN (SELECT $2::text AS id, 0 AS depth UNION ALL SELECT id, depth FROM best) AS p
    ON p.id = s.parent AND p.depth = b.depth - 1
  ORDER BY b.id, s.parent, s.type, s.src, s.dst
)
SELECT r.depth, r.src, r.type, r.dst,
       n.id, n.kind, n.type, n.title, n.body, n.properties, n.embedding, n.updated_at
FROM reached r
JOIN kg_nodes n ON n.tenant_id = $1 AND n.id = r.id
ORDER BY r.depth, r.id`

// Traverse walks from id along edges of the given types (all when empty)
// in dir, up to depth, and returns each node reached once, at its least
// depth, ordered by depth then ID, with the edge that reached it first.
func (g *Graph) Traverse(ctx context.Context, id string, dir graph.Direction, types []graph.EdgeType, depth int) ([]graph.Neighbour, error) {
	t, err := g.scoped(ctx)
	if err != nil {
		return nil, err
	}
	if err := graph.ValidateTraverse(id, dir, types, depth); err != nil {
		return nil, err
	}
	var typeFilter []string
	for _, et := range types {
		typeFilter = append(typeFilter, string(et))
	}

	// The start's existence and the walk go in one round trip: a walk
	// from a node that does not exist reaches nothing (every edge's ends
	// exist), and the answer is then ErrNotFound.
	var (
		out    []graph.Neighbour
		exists bool
	)
	b := &pgx.Batch{}
	b.Queue(`SELECT EXISTS (SELECT FROM kg_nodes WHERE tenant_id = $1 AND id = $2)`, string(t), id)
	b.Queue(traverseSQL, string(t), id, depth, typeFilter,
		dir == graph.Outgoing || dir == graph.Both, dir == graph.Incoming || dir == graph.Both)
	err = g.db.Batch(ctx, b, func(br pgx.BatchResults) error {
		if err := br.QueryRow().Scan(&exists); err != nil {
			return fmt.Errorf("traverse from %q: %w", id, err)
		}
		rows, err := br.Query()
		if err != nil {
			return fmt.Errorf("traverse from %q: %w", id, err)
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (graph.Neighbour, error) {
			var (
				nb    graph.Neighbour
				etype string
			)
			var err error
			nb.Node, err = scanNodeAfter(row, &nb.Depth, &nb.Edge.From, &etype, &nb.Edge.To)
			nb.Edge.Type = graph.EdgeType(etype)
			return nb, err
		})
		if err != nil {
			return fmt.Errorf("traverse from %q: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !exists {
		return nil, fmt.Errorf("%w: %q", graph.ErrNotFound, id)
	}
	return out, nil
}
