package neo4j

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/alexus-platform/alexus/internal/graph"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// startCypher says whether the start exists.
const startCypher = `MATCH (n:KGNode {tenant_id: $tenant, id: $id}) RETURN count(n) AS found`

// Each level of a traversal returns the edges from the frontier ($frontier)
// to nodes not yet seen ($seen), as (src, type, dst) in their stored
// direction and next, the node they reach. %[1]s is the relationship type
// pattern: empty for any type, else ":A|B" of validated graph.EdgeTypes.
const (
	outgoingLevel = `
MATCH (a:KGNode {tenant_id: $tenant})-[r%[1]s]->(b:KGNode {tenant_id: $tenant})
WHERE a.id IN $frontier AND NOT b.id IN $seen
RETURN a.id AS src, type(r) AS type, b.id AS dst, b.id AS next`
	incomingLevel = `
MATCH (a:KGNode {tenant_id: $tenant})<-[r%[1]s]-(b:KGNode {tenant_id: $tenant})
WHERE a.id IN $frontier AND NOT b.id IN $seen
RETURN b.id AS src, type(r) AS type, a.id AS dst, b.id AS next`
)

// Traverse walks from id along edges of the given types (all when empty)
// in dir, up to depth, and returns each node reached once, at its least
// depth, ordered by depth then ID, with the edge that reached it chosen as
// the contract says: least (parent, Type, From, To), the parent being its
// end at the previous depth.
func (g *Graph) Traverse(ctx context.Context, id string, dir graph.Direction, types []graph.EdgeType, depth int) ([]graph.Neighbour, error) {
	if _, err := tenant.Require(ctx); err != nil {
		return nil, err
	}
	if err := graph.ValidateTraverse(id, dir, types, depth); err != nil {
		return nil, err
	}
	level := levelCypher(dir, types)

	var out []graph.Neighbour
	err := g.read(ctx, func(t *tx) error {
		out = nil // the driver may run this function again
		recs, err := t.run(startCypher, map[string]any{"id": id})
		if err != nil {
			return fmt.Errorf("traverse from %q: %w", id, err)
		}
		if countOf(recs, "found") == 0 {
			return fmt.Errorf("%w: %q", graph.ErrNotFound, id)
		}
		seen := []string{id}
		frontier := []string{id}
		var reached []graph.Neighbour
		for d := 1; d <= depth && len(frontier) > 0; d++ {
			recs, err := t.run(level, map[string]any{"frontier": frontier, "seen": seen})
			if err != nil {
				return fmt.Errorf("traverse from %q: %w", id, err)
			}
			best := map[string]graph.Edge{}
			for _, rec := range recs {
				var e graph.Edge
				var next, typ string
				for key, dst := range map[string]*string{"src": &e.From, "type": &typ, "dst": &e.To, "next": &next} {
					v, _ := rec.Get(key)
					*dst, _ = v.(string)
				}
				e.Type = graph.EdgeType(typ)
				if b, ok := best[next]; !ok || compareEdges(next, e, b) < 0 {
					best[next] = e
				}
			}
			frontier = slices.Sorted(maps.Keys(best))
			for _, n := range frontier {
				reached = append(reached, graph.Neighbour{Node: graph.Node{ID: n}, Edge: best[n], Depth: d})
			}
			seen = append(seen, frontier...)
		}

		ids := make([]string, len(reached))
		for i, n := range reached {
			ids[i] = n.Node.ID
		}
		nodes, err := nodesByID(t, ids)
		if err != nil {
			return fmt.Errorf("traverse from %q: %w", id, err)
		}
		for _, n := range reached {
			// Edges cannot outlive their nodes; a node missing here was
			// deleted while the walk ran.
			if node, ok := nodes[n.Node.ID]; ok {
				n.Node = node
				out = append(out, n)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// levelCypher is the query of one traversal level for dir and types.
func levelCypher(dir graph.Direction, types []graph.EdgeType) string {
	var pattern string
	if len(types) > 0 {
		names := make([]string, 0, len(types))
		for _, t := range types {
			names = append(names, string(t))
		}
		slices.Sort(names)
		pattern = ":" + strings.Join(slices.Compact(names), "|")
	}
	switch dir {
	case graph.Outgoing:
		return fmt.Sprintf(outgoingLevel, pattern)
	case graph.Incoming:
		return fmt.Sprintf(incomingLevel, pattern)
	}
	return fmt.Sprintf(outgoingLevel, pattern) + "\nUNION ALL" + fmt.Sprintf(incomingLevel, pattern)
}

// compareEdges orders two edges that reach node by their parent (the end
// that is not node), then Type, From and To: graph.Graph's tie rule.
func compareEdges(node string, a, b graph.Edge) int {
	return cmp.Or(cmp.Compare(graph.Parent(node, a), graph.Parent(node, b)),
		cmp.Compare(a.Type, b.Type), cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To))
}
