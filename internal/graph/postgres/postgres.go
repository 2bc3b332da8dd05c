package postgres

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/alexus-platform/alexus/internal/graph"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// Defaults of Config.
const (
	// DefaultMaxCachedVectors bounds the vectors kept in memory across
	// tenants: 500,000 of 1536 dimensions is about 3 GiB.
	DefaultMaxCachedVectors = 500_000
	// MaxDimension bounds Config.Dimension.
	MaxDimension = 16_384
)

// Config configures the adapter.
type Config struct {
	// Dimension is the embedding dimension; 0 means graph.DefaultDimension.
	Dimension int
	// MaxCachedVectors bounds the vectors held in memory across all
	// tenants; 0 means DefaultMaxCachedVectors. A tenant with more vectors
	// than this alone is still searched exactly, but reloaded every search.
	MaxCachedVectors int
}

func (c Config) withDefaults() Config {
	if c.Dimension == 0 {
		c.Dimension = graph.DefaultDimension
	}
	if c.MaxCachedVectors == 0 {
		c.MaxCachedVectors = DefaultMaxCachedVectors
	}
	return c
}

// Validate names the first bad field.
func (c Config) Validate() error {
	if c.Dimension < 0 || c.Dimension > MaxDimension {
		return fmt.Errorf("graph postgres: dimension %d must be between 1 and %d (0 means %d)", c.Dimension, MaxDimension, graph.DefaultDimension)
	}
	if c.MaxCachedVectors < 0 {
		return fmt.Errorf("graph postgres: max cached vectors %d must not be negative (0 means %d)", c.MaxCachedVectors, DefaultMaxCachedVectors)
	}
	return nil
}

// Graph is the Postgres knowledge graph. It is safe for concurrent use.
type Graph struct {
	db    *store.DB
	dim   int
	cache *vectorCache
}

var _ graph.Graph = (*Graph)(nil)

// New returns a graph on db, whose schema must be migrated.
func New(db *store.DB, cfg Config) (*Graph, error) {
	if db == nil {
		return nil, errors.New("graph postgres: nil database")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &Graph{db: db, dim: cfg.Dimension, cache: newVectorCache(cfg.MaxCachedVectors)}, nil
}

// Dimension is the embedding dimension every vector must have.
func (g *Graph) Dimension() int { return g.dim }

// scoped is the one tenant filter: every method calls it first, and every
// statement binds the tenant it returns as $1 next to row-level security.
func (g *Graph) scoped(ctx context.Context) (tenant.ID, error) {
	return tenant.Require(ctx)
}

// inTenant runs fn in a transaction of the context's tenant (RLS set by
// store.DB.WithTenant), passing the tenant for the explicit filters.
func (g *Graph) inTenant(ctx context.Context, fn func(tx pgx.Tx, t tenant.ID) error) error {
	t, err := g.scoped(ctx)
	if err != nil {
		return err
	}
	return g.db.WithTenant(ctx, func(tx pgx.Tx) error { return fn(tx, t) })
}

// bumpVersion advances the tenant's vector version inside a node write's
// transaction and returns the new version. Its row lock also serialises
// the tenant's node writes, so versions follow commit order.
func bumpVersion(ctx context.Context, tx pgx.Tx, t tenant.ID) (int64, error) {
	var v int64
	err := tx.QueryRow(ctx, `
		INSERT INTO kg_versions (tenant_id, version) VALUES ($1, 1)
		ON CONFLICT (tenant_id) DO UPDATE SET version = kg_versions.version + 1
		RETURNING version`, string(t)).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("bump graph version: %w", err)
	}
	return v, nil
}

// Batches of a write are sent in chunks of at most this many rows or bytes,
// so no single message to Postgres grows without bound.
const (
	chunkRows  = 2000
	chunkBytes = 16 << 20
)

// UpsertNodes creates or replaces nodes, all or none. When the same ID
// appears twice the last one wins.
func (g *Graph) UpsertNodes(ctx context.Context, nodes []graph.Node) error {
	t, err := g.scoped(ctx)
	if err != nil {
		return err
	}
	if len(nodes) == 0 {
		return nil
	}
	last := make(map[string]int, len(nodes))
	for i, n := range nodes {
		if err := validateNode(n, g.dim); err != nil {
			return err
		}
		last[n.ID] = i
	}
	batch := make([]graph.Node, 0, len(last))
	for i, n := range nodes {
		if last[n.ID] == i {
			batch = append(batch, n)
		}
	}

	var version int64
	err = g.inTenant(ctx, func(tx pgx.Tx, t tenant.ID) error {
		var err error
		if version, err = bumpVersion(ctx, tx, t); err != nil {
			return err
		}
		for start := 0; start < len(batch); {
			var (
				ids, kinds, types, titles, bodies, props []string
				embs                                     [][]byte
				size                                     int
				end                                      = start
			)
			for ; end < len(batch) && end-start < chunkRows && size < chunkBytes; end++ {
				n := batch[end]
				p, err := encodeProperties(n.Properties)
				if err != nil {
					return err
				}
				e := encodeVector(n.Embedding)
				ids, kinds, types = append(ids, n.ID), append(kinds, string(n.Kind)), append(types, n.Type)
				titles, bodies, props, embs = append(titles, n.Title), append(bodies, n.Body), append(props, p), append(embs, e)
				size += len(n.ID) + len(n.Title) + len(n.Body) + len(p) + len(e)
			}
			_, err := tx.Exec(ctx, `
				INSERT INTO kg_nodes (tenant_id, id, kind, type, title, body, properties, embedding, updated_at)
				SELECT $1, u.id, u.kind, u.type, u.title, u.body, u.props::jsonb, u.emb, now()
				FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bytea[])
				  AS u (id, kind, type, title, body, props, emb)
				ON CONFLICT (tenant_id, id) DO UPDATE SET
				  kind = EXCLUDED.kind, type = EXCLUDED.type, title = EXCLUDED.title, body = EXCLUDED.body,
				  properties = EXCLUDED.properties, embedding = EXCLUDED.embedding, updated_at = EXCLUDED.updated_at`,
				string(t), ids, kinds, types, titles, bodies, props, embs)
			if err != nil {
				return fmt.Errorf("upsert graph nodes: %w", dbError(err))
			}
			start = end
		}
		return nil
	})
	if err != nil {
		return err
	}
	g.cache.patch(t, version, func(x *index) {
		for _, n := range batch {
			if len(n.Embedding) == 0 {
				x.remove(n.ID)
				continue
			}
			x.set(n.ID, n.Kind, n.Type, n.Embedding)
		}
	})
	return nil
}

// validateNode is graph.ValidateNode plus what Postgres cannot store: text
// and JSON there cannot hold a NUL character.
func validateNode(n graph.Node, dim int) error {
	if err := graph.ValidateNode(n, dim); err != nil {
		return err
	}
	hasNUL := strings.ContainsRune(n.Title, 0) || strings.ContainsRune(n.Body, 0)
	for _, v := range n.Properties {
		hasNUL = hasNUL || strings.ContainsRune(v, 0)
	}
	if hasNUL {
		return fmt.Errorf("%w: node %q: title, body and property values must not hold a NUL character", graph.ErrInvalid, n.ID)
	}
	return nil
}

// DeleteNodes deletes nodes and, by the foreign keys' cascade, their edges;
// missing IDs are ignored.
func (g *Graph) DeleteNodes(ctx context.Context, ids []string) error {
	t, err := g.scoped(ctx)
	if err != nil {
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
	var version int64
	err = g.inTenant(ctx, func(tx pgx.Tx, t tenant.ID) error {
		var err error
		if version, err = bumpVersion(ctx, tx, t); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM kg_nodes WHERE tenant_id = $1 AND id = ANY($2)`, string(t), ids); err != nil {
			return fmt.Errorf("delete graph nodes: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	g.cache.patch(t, version, func(x *index) {
		for _, id := range ids {
			x.remove(id)
		}
	})
	return nil
}

const nodeColumns = `id, kind, type, title, body, properties, embedding, updated_at`

// Node returns one node, graph.ErrNotFound when the tenant has none.
func (g *Graph) Node(ctx context.Context, id string) (graph.Node, error) {
	var n graph.Node
	err := g.inTenant(ctx, func(tx pgx.Tx, t tenant.ID) error {
		if err := graph.ValidateID(id); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+nodeColumns+` FROM kg_nodes WHERE tenant_id = $1 AND id = $2`, string(t), id)
		if err != nil {
			return fmt.Errorf("read graph node %q: %w", id, err)
		}
		n, err = pgx.CollectExactlyOneRow(rows, scanNode)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: %q", graph.ErrNotFound, id)
		}
		if err != nil {
			return fmt.Errorf("read graph node %q: %w", id, err)
		}
		return nil
	})
	return n, err
}

// listColumns are nodeColumns without the embedding, which ListNodes does
// not return (and so does not read out of line).
const listColumns = `id, kind, type, title, body, properties, updated_at`

// ListNodes pages through the tenant's nodes of kind (all kinds when
// empty), ordered by ID, returning at most limit whose ID is greater than
// after ("" for the first page), without their embeddings. One walk of the
// primary key (tenant_id, id).
func (g *Graph) ListNodes(ctx context.Context, kind graph.Kind, after string, limit int) ([]graph.Node, error) {
	if _, err := g.scoped(ctx); err != nil {
		return nil, err
	}
	if err := graph.ValidateList(kind, after, limit); err != nil {
		return nil, err
	}
	var out []graph.Node
	err := g.inTenant(ctx, func(tx pgx.Tx, t tenant.ID) error {
		stmt, args := listSQL, []any{string(t), after, limit}
		if kind != "" {
			stmt, args = listByKindSQL, []any{string(t), string(kind), after, limit}
		}
		rows, err := tx.Query(ctx, stmt, args...)
		if err != nil {
			return fmt.Errorf("list graph nodes: %w", err)
		}
		out, err = pgx.CollectRows(rows, scanListedNode)
		if err != nil {
			return fmt.Errorf("list graph nodes: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// The statements of ListNodes, each one range scan of the primary key
// (tenant_id, id) in order: $1 the tenant, $2 the kind (listByKindSQL
// only), then the ID to start after and the limit.
const (
	listSQL       = `SELECT ` + listColumns + ` FROM kg_nodes WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3`
	listByKindSQL = `SELECT ` + listColumns + ` FROM kg_nodes WHERE tenant_id = $1 AND kind = $2 AND id > $3 ORDER BY id LIMIT $4`
)

// scanListedNode scans a row of listColumns.
func scanListedNode(row pgx.CollectableRow) (graph.Node, error) {
	var (
		n     graph.Node
		kind  string
		props []byte
		at    time.Time
	)
	if err := row.Scan(&n.ID, &kind, &n.Type, &n.Title, &n.Body, &props, &at); err != nil {
		return graph.Node{}, err
	}
	n.Kind, n.UpdatedAt = graph.Kind(kind), at
	var err error
	if n.Properties, err = decodeProperties(n.ID, props); err != nil {
		return graph.Node{}, err
	}
	return n, nil
}

// nodesByID reads the nodes with the given IDs; missing ones are absent
// from the map.
func nodesByID(ctx context.Context, tx pgx.Tx, t tenant.ID, ids []string) (map[string]graph.Node, error) {
	rows, err := tx.Query(ctx, `SELECT `+nodeColumns+` FROM kg_nodes WHERE tenant_id = $1 AND id = ANY($2)`, string(t), ids)
	if err != nil {
		return nil, fmt.Errorf("read graph nodes: %w", err)
	}
	ns, err := pgx.CollectRows(rows, scanNode)
	if err != nil {
		return nil, fmt.Errorf("read graph nodes: %w", err)
	}
	out := make(map[string]graph.Node, len(ns))
	for _, n := range ns {
		out[n.ID] = n
	}
	return out, nil
}

func scanNode(row pgx.CollectableRow) (graph.Node, error) {
	return scanNodeAfter(row)
}

// scanNodeAfter scans a row whose node columns (nodeColumns) follow the
// columns scanned into prefix.
func scanNodeAfter(row pgx.CollectableRow, prefix ...any) (graph.Node, error) {
	var (
		n     graph.Node
		kind  string
		props []byte
		emb   []byte
		at    time.Time
	)
	if err := row.Scan(append(prefix, &n.ID, &kind, &n.Type, &n.Title, &n.Body, &props, &emb, &at)...); err != nil {
		return graph.Node{}, err
	}
	n.Kind, n.UpdatedAt = graph.Kind(kind), at
	var err error
	if n.Properties, err = decodeProperties(n.ID, props); err != nil {
		return graph.Node{}, err
	}
	if emb != nil {
		n.Embedding = decodeVector(emb)
	}
	return n, nil
}

// decodeProperties decodes the properties column of node id; nil when it
// holds none.
func decodeProperties(id string, props []byte) (map[string]string, error) {
	if len(props) == 0 || string(props) == "{}" {
		return nil, nil
	}
	var p map[string]string
	if err := json.Unmarshal(props, &p); err != nil {
		return nil, fmt.Errorf("decode properties of %q: %w", id, err)
	}
	return p, nil
}

func encodeProperties(p map[string]string) (string, error) {
	if len(p) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("%w: encode properties: %v", graph.ErrInvalid, err)
	}
	return string(b), nil
}

// encodeVector is v as little-endian float32s, nil for no vector.
func encodeVector(v []float32) []byte {
	if len(v) == 0 {
		return nil
	}
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func decodeVector(b []byte) []float32 {
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// UpsertEdges adds edges, all or none; an edge that exists is kept, and an
// edge to or from a node the tenant does not have is graph.ErrNotFound.
func (g *Graph) UpsertEdges(ctx context.Context, edges []graph.Edge) error {
	if _, err := g.scoped(ctx); err != nil {
		return err
	}
	if len(edges) == 0 {
		return nil
	}
	seen := make(map[graph.Edge]bool, len(edges))
	batch := make([]graph.Edge, 0, len(edges))
	var ids []string
	idSeen := map[string]bool{}
	for _, e := range edges {
		if err := graph.ValidateEdgeType(e.Type); err != nil {
			return err
		}
		for _, id := range []string{e.From, e.To} {
			if err := graph.ValidateID(id); err != nil {
				return err
			}
			if !idSeen[id] {
				idSeen[id] = true
				ids = append(ids, id)
			}
		}
		if !seen[e] {
			seen[e] = true
			batch = append(batch, e)
		}
	}
	return g.inTenant(ctx, func(tx pgx.Tx, t tenant.ID) error {
		rows, err := tx.Query(ctx, `SELECT id, kind FROM kg_nodes WHERE tenant_id = $1 AND id = ANY($2)`, string(t), ids)
		if err != nil {
			return fmt.Errorf("read kinds of edge ends: %w", err)
		}
		kinds := make(map[string]graph.Kind, len(ids))
		var id, kind string
		_, err = pgx.ForEachRow(rows, []any{&id, &kind}, func() error {
			kinds[id] = graph.Kind(kind)
			return nil
		})
		if err != nil {
			return fmt.Errorf("read kinds of edge ends: %w", err)
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
		for start := 0; start < len(batch); start += chunkRows * 5 {
			chunk := batch[start:min(len(batch), start+chunkRows*5)]
			srcs, types, dsts := make([]string, len(chunk)), make([]string, len(chunk)), make([]string, len(chunk))
			for i, e := range chunk {
				srcs[i], types[i], dsts[i] = e.From, string(e.Type), e.To
			}
			_, err := tx.Exec(ctx, `
				INSERT INTO kg_edges (tenant_id, src, type, dst)
				SELECT $1, u.src, u.type, u.dst FROM unnest($2::text[], $3::text[], $4::text[]) AS u (src, type, dst)
				ON CONFLICT DO NOTHING`, string(t), srcs, types, dsts)
			if err != nil {
				return fmt.Errorf("upsert graph edges: %w", dbError(err))
			}
		}
		return nil
	})
}

// DeleteEdges removes edges; missing ones are ignored.
func (g *Graph) DeleteEdges(ctx context.Context, edges []graph.Edge) error {
	if _, err := g.scoped(ctx); err != nil {
		return err
	}
	if len(edges) == 0 {
		return nil
	}
	srcs, types, dsts := make([]string, len(edges)), make([]string, len(edges)), make([]string, len(edges))
	for i, e := range edges {
		if err := graph.ValidateEdgeType(e.Type); err != nil {
			return err
		}
		srcs[i], types[i], dsts[i] = e.From, string(e.Type), e.To
	}
	return g.inTenant(ctx, func(tx pgx.Tx, t tenant.ID) error {
		_, err := tx.Exec(ctx, `
			DELETE FROM kg_edges e USING unnest($2::text[], $3::text[], $4::text[]) AS u (src, type, dst)
			WHERE e.tenant_id = $1 AND e.src = u.src AND e.type = u.type AND e.dst = u.dst`,
			string(t), srcs, types, dsts)
		if err != nil {
			return fmt.Errorf("delete graph edges: %w", err)
		}
		return nil
	})
}

// dbError maps the constraint violations a valid write can still meet to
// the graph's errors: a node deleted concurrently under a new edge is
// ErrNotFound, a value a CHECK refuses is ErrInvalid.
func dbError(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	switch pe.Code {
	case "23503": // foreign_key_violation
		return fmt.Errorf("%w: %s", graph.ErrNotFound, pe.Message)
	case "23514", "22P05", "22021", "54000": // check_violation, untranslatable_character, character_not_in_repertoire, program_limit_exceeded
		return fmt.Errorf("%w: %s", graph.ErrInvalid, pe.Message)
	}
	return err
}
