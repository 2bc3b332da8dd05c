package cmdb

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/alexus-platform/alexus/internal/graph"
)

// Defaults of Options.
const (
	DefaultChunkSize     = 5000
	DefaultLookupWorkers = 8
)

// Options tune Import.
type Options struct {
	// ChunkSize is how many nodes or edges go to the graph per call; 0
	// means DefaultChunkSize. Each call is all or none.
	ChunkSize int
	// LookupWorkers is how many graph reads run at once to find edge ends
	// and teams the batch does not hold; 0 means DefaultLookupWorkers.
	LookupWorkers int
}

// Report says what an import did.
type Report struct {
	// NodesUpserted counts the distinct CIs of the batch written (created
	// or replaced; an upsert does not say which).
	NodesUpserted int
	// TeamsCreated counts the team CIs created because a CI named a team
	// that neither the batch nor the graph had.
	TeamsCreated int
	// EdgesUpserted counts the distinct edges written; an edge that
	// existed is kept and counted.
	EdgesUpserted int
	// Rejected are the edges (and, for a batch not made by Parse, nodes)
	// the graph could not take, against the rows they came from. Parse's
	// own row errors are not repeated here.
	Rejected []RowError
}

// Import writes b to g: nodes, then the teams they name that g lacks, then
// edges, ChunkSize at a time. An edge whose ends are neither in the batch
// nor CIs of g is rejected against its row and the rest are written. The
// error is for what stops the import: a cancelled context or a failing
// store; the chunks written before it stay written, and running Import
// again is safe.
//
// Nodes are replaced whole, as graph.Graph.UpsertNodes does, so an
// embedding computed for a CI since the last import is cleared and must be
// computed again.
func Import(ctx context.Context, g graph.Graph, b *Batch, opts Options) (Report, error) {
	var rep Report
	if b == nil {
		return rep, nil
	}
	if opts.ChunkSize <= 0 {
		opts.ChunkSize = DefaultChunkSize
	}
	if opts.LookupWorkers <= 0 {
		opts.LookupWorkers = DefaultLookupWorkers
	}

	// The nodes to write, last one of an ID winning as in the graph, and
	// the kind every ID will have once they are written.
	kinds := make(map[string]graph.Kind, len(b.Nodes)+len(b.Teams))
	last := make(map[string]int, len(b.Nodes))
	for i, n := range b.Nodes {
		last[n.ID] = i
		kinds[n.ID] = n.Kind
	}
	nodes := make([]graph.Node, 0, len(last))
	for i, n := range b.Nodes {
		if last[n.ID] == i {
			nodes = append(nodes, n)
		}
	}

	// IDs to look up in the graph: team stubs and edge ends the batch
	// lacks.
	var lookup []string
	asked := map[string]bool{}
	ask := func(id string) {
		if _, ok := kinds[id]; !ok && !asked[id] {
			asked[id] = true
			lookup = append(lookup, id)
		}
	}
	for _, t := range b.Teams {
		ask(t.ID)
	}
	for _, e := range b.Edges {
		ask(e.From)
		ask(e.To)
	}
	found, err := lookupKinds(ctx, g, lookup, opts.LookupWorkers)
	if err != nil {
		return rep, err
	}
	for id, k := range found {
		kinds[id] = k
	}
	teams := 0
	for _, t := range b.Teams {
		if _, ok := kinds[t.ID]; !ok {
			kinds[t.ID] = t.Kind
			nodes = append(nodes, t)
			teams++
		}
	}

	rejectedNodes := map[string]bool{}
	err = inChunks(ctx, nodes, opts.ChunkSize, func(c []graph.Node) error { return g.UpsertNodes(ctx, c) },
		func(n graph.Node, err error) {
			rejectedNodes[n.ID] = true
			delete(kinds, n.ID)
			rep.Rejected = append(rep.Rejected, RowError{Source: "import", ID: n.ID, Err: err.Error()})
		})
	if err != nil {
		return rep, err
	}
	rep.NodesUpserted = len(nodes) - teams
	rep.TeamsCreated = teams
	for _, n := range nodes[len(nodes)-teams:] {
		if rejectedNodes[n.ID] {
			rep.TeamsCreated--
		}
	}
	for _, n := range nodes[:len(nodes)-teams] {
		if rejectedNodes[n.ID] {
			rep.NodesUpserted--
		}
	}

	// Edges: distinct, with both ends CIs, each remembered with its row.
	type rowEdge struct {
		e   graph.Edge
		row Row
	}
	seen := make(map[graph.Edge]bool, len(b.Edges))
	edges := make([]rowEdge, 0, len(b.Edges))
	for i, e := range b.Edges {
		var row Row
		if i < len(b.EdgeRows) {
			row = b.EdgeRows[i]
		}
		if seen[e] {
			continue
		}
		if msg := endProblem(e, kinds); msg != "" {
			rep.Rejected = append(rep.Rejected, RowError{Source: row.Source, Row: row.Row, ID: row.ID, Err: msg})
			continue
		}
		seen[e] = true
		edges = append(edges, rowEdge{e, row})
	}
	refused := 0
	err = inChunks(ctx, edges, opts.ChunkSize,
		func(c []rowEdge) error {
			es := make([]graph.Edge, len(c))
			for i, re := range c {
				es[i] = re.e
			}
			return g.UpsertEdges(ctx, es)
		},
		func(re rowEdge, err error) {
			refused++
			rep.Rejected = append(rep.Rejected, RowError{Source: re.row.Source, Row: re.row.Row, ID: re.row.ID, Err: err.Error()})
		})
	if err != nil {
		return rep, err
	}
	rep.EdgesUpserted = len(edges) - refused
	return rep, nil
}

// endProblem says why e cannot be written given the kinds of the IDs known,
// or "" when it can.
func endProblem(e graph.Edge, kinds map[string]graph.Kind) string {
	for _, id := range []string{e.From, e.To} {
		k, ok := kinds[id]
		if !ok {
			return fmt.Sprintf("%s edge %s → %s: no CI %q in the import or the graph", e.Type, e.From, e.To, id)
		}
		if k != graph.KindCI {
			return fmt.Sprintf("%s edge %s → %s: %q is a %s, not a CI", e.Type, e.From, e.To, id, k)
		}
	}
	return ""
}

// lookupKinds reads the kinds of the nodes g has among ids, workers at a
// time; missing IDs are absent from the result.
func lookupKinds(ctx context.Context, g graph.Graph, ids []string, workers int) (map[string]graph.Kind, error) {
	out := make(map[string]graph.Kind, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
		next     = make(chan string)
	)
	for range min(workers, len(ids)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range next {
				n, err := g.Node(ctx, id)
				mu.Lock()
				switch {
				case err == nil:
					out[id] = n.Kind
				case errors.Is(err, graph.ErrNotFound), errors.Is(err, graph.ErrInvalid):
				case firstErr == nil:
					firstErr = fmt.Errorf("cmdb: look up %q: %w", id, err)
					cancel()
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, id := range ids {
		select {
		case next <- id:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// inChunks writes items size at a time. A chunk the graph refuses as a
// whole for its content (ErrInvalid, ErrNotFound) is halved until the items
// it refuses are found alone; those go to reject and the rest are written.
// Any other error stops the writing.
func inChunks[T any](ctx context.Context, items []T, size int, write func([]T) error, reject func(T, error)) error {
	var try func(c []T) error
	try = func(c []T) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := write(c)
		if err == nil || !(errors.Is(err, graph.ErrInvalid) || errors.Is(err, graph.ErrNotFound)) {
			return err
		}
		if len(c) == 1 {
			reject(c[0], err)
			return nil
		}
		if err := try(c[:len(c)/2]); err != nil {
			return err
		}
		return try(c[len(c)/2:])
	}
	for start := 0; start < len(items); start += size {
		if err := try(items[start:min(len(items), start+size)]); err != nil {
			return err
		}
	}
	return nil
}
