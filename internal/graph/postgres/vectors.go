package postgres

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/singleflight"

	"github.com/alexus-platform/alexus/internal/graph"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// index is one tenant's embeddings, normalised to unit length in one
// contiguous row-major matrix, with what the filters need per row. version
// is the tenant's kg_versions value the index reflects.
type index struct {
	mu      sync.RWMutex
	version int64
	dim     int
	ids     []string
	kinds   []graph.Kind
	types   []string
	vecs    []float32
	pos     map[string]int
}

func newIndex(dim, capacity int) *index {
	return &index{
		dim:   dim,
		ids:   make([]string, 0, capacity),
		kinds: make([]graph.Kind, 0, capacity),
		types: make([]string, 0, capacity),
		vecs:  make([]float32, 0, capacity*dim),
		pos:   make(map[string]int, capacity),
	}
}

func (x *index) currentVersion() int64 {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.version
}

func (x *index) rows() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.ids)
}

// set adds or replaces the row of id; v is normalised on the way in. The
// caller holds x.mu for writing (or owns x alone).
func (x *index) set(id string, kind graph.Kind, typ string, v []float32) {
	i, ok := x.pos[id]
	if !ok {
		i = len(x.ids)
		x.pos[id] = i
		x.ids, x.kinds, x.types = append(x.ids, id), append(x.kinds, kind), append(x.types, typ)
		x.vecs = append(x.vecs, make([]float32, x.dim)...)
	}
	x.kinds[i], x.types[i] = kind, typ
	normalise(x.vecs[i*x.dim:(i+1)*x.dim], v)
}

// remove deletes the row of id by moving the last row into its place.
func (x *index) remove(id string) {
	i, ok := x.pos[id]
	if !ok {
		return
	}
	last := len(x.ids) - 1
	if i != last {
		x.ids[i], x.kinds[i], x.types[i] = x.ids[last], x.kinds[last], x.types[last]
		copy(x.vecs[i*x.dim:(i+1)*x.dim], x.vecs[last*x.dim:])
		x.pos[x.ids[i]] = i
	}
	delete(x.pos, id)
	x.ids, x.kinds, x.types = x.ids[:last], x.kinds[:last], x.types[:last]
	x.vecs = x.vecs[:last*x.dim]
}

// normalise writes v / |v| into dst; a zero vector stays zero, so it is
// similar to nothing (cosine 0).
func normalise(dst, v []float32) {
	var sum float64
	for _, f := range v {
		sum += float64(f) * float64(f)
	}
	if sum == 0 {
		clear(dst)
		return
	}
	inv := 1 / math.Sqrt(sum)
	for i, f := range v {
		dst[i] = float32(float64(f) * inv)
	}
}

// parallelMin is the matrix size (rows × dimension) from which a search is
// split across GOMAXPROCS goroutines; below it the goroutines cost more
// than they save.
const parallelMin = 1 << 18

// search returns the k rows most similar to the unit vector q among those
// passing f, best first, ties by ID: exact, every row is scored.
func (x *index) search(q []float32, k int, f graph.Filters) graph.Ranked {
	x.mu.RLock()
	defer x.mu.RUnlock()
	n := len(x.ids)
	keep := x.filter(f)
	workers := 1
	if n*x.dim >= parallelMin {
		workers = max(1, min(runtime.GOMAXPROCS(0), n/1024))
	}
	heaps := make([]topK, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*n/workers, (w+1)*n/workers
		heaps[w] = topK{k: k, ids: x.ids}
		score := func() {
			h := &heaps[w]
			for i := lo; i < hi; i++ {
				if keep != nil && !keep(i) {
					continue
				}
				h.push(i, dot(q, x.vecs[i*x.dim:(i+1)*x.dim]))
			}
		}
		if workers == 1 {
			score()
			break
		}
		wg.Go(score)
	}
	wg.Wait()
	var all []scored
	for _, h := range heaps {
		all = append(all, h.items...)
	}
	slices.SortFunc(all, func(a, b scored) int {
		if less(a, b, x.ids) {
			return 1
		}
		if less(b, a, x.ids) {
			return -1
		}
		return 0
	})
	all = all[:min(k, len(all))]
	out := graph.Ranked{IDs: make([]string, len(all)), Scores: make([]float64, len(all))}
	for i, s := range all {
		out.IDs[i], out.Scores[i] = x.ids[s.row], float64(s.score)
	}
	return out
}

// filter returns whether row i passes f, or nil when f keeps every row.
func (x *index) filter(f graph.Filters) func(i int) bool {
	if len(f.Kinds) == 0 && len(f.Types) == 0 {
		return nil
	}
	return func(i int) bool {
		return (len(f.Kinds) == 0 || slices.Contains(f.Kinds, x.kinds[i])) &&
			(len(f.Types) == 0 || slices.Contains(f.Types, x.types[i]))
	}
}

// dot is the inner product of a and b (len(b) >= len(a)), unrolled by 8
// with independent sums so the additions pipeline.
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+8 <= len(a); i += 8 {
		aa, bb := a[i:i+8:i+8], b[i:i+8:i+8]
		s0 += aa[0] * bb[0]
		s1 += aa[1] * bb[1]
		s2 += aa[2] * bb[2]
		s3 += aa[3] * bb[3]
		s4 += aa[4] * bb[4]
		s5 += aa[5] * bb[5]
		s6 += aa[6] * bb[6]
		s7 += aa[7] * bb[7]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

type scored struct {
	score float32
	row   int
}

// less orders worse before better: a lower score, or an equal score and a
// greater ID.
func less(a, b scored, ids []string) bool {
	if a.score != b.score {
		return a.score < b.score
	}
	return ids[a.row] > ids[b.row]
}

// topK keeps the k best rows seen in a min-heap whose root is the worst.
type topK struct {
	k     int
	ids   []string
	items []scored
}

func (h *topK) push(row int, score float32) {
	s := scored{score: score, row: row}
	if len(h.items) < h.k {
		h.items = append(h.items, s)
		h.up(len(h.items) - 1)
		return
	}
	if !less(h.items[0], s, h.ids) {
		return
	}
	h.items[0] = s
	h.down(0)
}

func (h *topK) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !less(h.items[i], h.items[p], h.ids) {
			return
		}
		h.items[i], h.items[p] = h.items[p], h.items[i]
		i = p
	}
}

func (h *topK) down(i int) {
	n := len(h.items)
	for {
		m, l, r := i, 2*i+1, 2*i+2
		if l < n && less(h.items[l], h.items[m], h.ids) {
			m = l
		}
		if r < n && less(h.items[r], h.items[m], h.ids) {
			m = r
		}
		if m == i {
			return
		}
		h.items[i], h.items[m] = h.items[m], h.items[i]
		i = m
	}
}

// vectorCache holds tenants' indexes up to max rows in total, evicting the
// least recently used tenants. Lock order: c.mu is never held while waiting
// for an index's mu for writing, and an index's mu is never held while
// taking c.mu.
type vectorCache struct {
	max   int
	loads singleflight.Group

	mu      sync.Mutex
	entries map[tenant.ID]*cacheEntry
	total   int
	clock   uint64
}

type cacheEntry struct {
	idx  *index
	rows int
	used uint64
}

func newVectorCache(max int) *vectorCache {
	return &vectorCache{max: max, entries: map[tenant.ID]*cacheEntry{}}
}

// get returns t's index, nil when none is cached, and marks it used.
func (c *vectorCache) get(t tenant.ID) *index {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[t]
	if e == nil {
		return nil
	}
	c.clock++
	e.used = c.clock
	return e.idx
}

// put caches x for t unless a newer index is cached already, evicting
// other tenants as needed; a tenant larger than the whole cache is not
// kept.
func (c *vectorCache) put(t tenant.ID, x *index) {
	rows, version := x.rows(), x.currentVersion()
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.entries[t]; e != nil {
		if e.idx.currentVersion() >= version {
			return
		}
		c.total -= e.rows
		delete(c.entries, t)
	}
	if rows > c.max {
		return
	}
	c.clock++
	c.entries[t] = &cacheEntry{idx: x, rows: rows, used: c.clock}
	c.total += rows
	c.evict(t)
}

// evict drops least recently used tenants other than keep until the total
// fits. The caller holds c.mu.
func (c *vectorCache) evict(keep tenant.ID) {
	for c.total > c.max {
		var (
			victim tenant.ID
			oldest *cacheEntry
		)
		for id, e := range c.entries {
			if id != keep && (oldest == nil || e.used < oldest.used) {
				victim, oldest = id, e
			}
		}
		if oldest == nil {
			// keep alone is over the bound (it grew by writes): drop it too.
			if e := c.entries[keep]; e != nil {
				c.total -= e.rows
				delete(c.entries, keep)
			}
			return
		}
		c.total -= oldest.rows
		delete(c.entries, victim)
	}
}

// patch applies a committed write that moved t's version to version: when
// the cached index is exactly one version behind, fn updates it in place;
// when it is further behind, the next search reloads it; when it already
// reflects the write (reloaded meanwhile), nothing is done.
func (c *vectorCache) patch(t tenant.ID, version int64, fn func(x *index)) {
	c.mu.Lock()
	e := c.entries[t]
	c.mu.Unlock()
	if e == nil {
		return
	}
	x := e.idx
	x.mu.Lock()
	if x.version == version-1 {
		fn(x)
		x.version = version
	}
	rows := len(x.ids)
	x.mu.Unlock()

	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.entries[t]; e != nil && e.idx == x {
		c.total += rows - e.rows
		e.rows = rows
		c.evict(t)
	}
}

// vectors returns t's index at version (or newer), loading it in tx when
// the cached one is older or missing. Concurrent loads of one tenant share
// one query.
func (g *Graph) vectors(ctx context.Context, tx pgx.Tx, t tenant.ID, version int64) (*index, error) {
	for attempt := 0; ; attempt++ {
		if x := g.cache.get(t); x != nil && x.currentVersion() >= version {
			return x, nil
		}
		v, err, _ := g.cache.loads.Do(string(t), func() (any, error) {
			if x := g.cache.get(t); x != nil && x.currentVersion() >= version {
				return x, nil
			}
			x, err := loadIndex(ctx, tx, t, g.dim)
			if err != nil {
				return nil, err
			}
			g.cache.put(t, x)
			return x, nil
		})
		if err != nil {
			return nil, err
		}
		// A load that another search started before this one read its
		// version may be older; it is current as of a moment ago, which
		// is as good as a search racing a write can expect.
		if x := v.(*index); x.currentVersion() >= version || attempt == 1 {
			return x, nil
		}
	}
}

// loadIndex reads every embedding of t and the version they are at in one
// statement, hence one snapshot.
func loadIndex(ctx context.Context, tx pgx.Tx, t tenant.ID, dim int) (*index, error) {
	var count int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM kg_nodes WHERE tenant_id = $1 AND embedding IS NOT NULL`, string(t)).Scan(&count); err != nil {
		return nil, fmt.Errorf("count graph vectors: %w", err)
	}
	rows, err := tx.Query(ctx, `
		SELECT v.version, n.id, n.kind, n.type, n.embedding
		FROM (SELECT coalesce((SELECT version FROM kg_versions WHERE tenant_id = $1), 0) AS version) AS v
		LEFT JOIN kg_nodes n ON n.tenant_id = $1 AND n.embedding IS NOT NULL`, string(t))
	if err != nil {
		return nil, fmt.Errorf("load graph vectors: %w", err)
	}
	defer rows.Close()
	x := newIndex(dim, count)
	v := make([]float32, dim)
	for rows.Next() {
		var (
			id, kind, typ *string
			emb           []byte
		)
		// The embedding is scanned as raw bytes, valid until the next row,
		// and decoded straight into the matrix.
		raw := rows.RawValues()
		if err := rows.Scan(&x.version, &id, &kind, &typ, nil); err != nil {
			return nil, fmt.Errorf("load graph vectors: %w", err)
		}
		if id == nil {
			continue
		}
		emb = raw[4]
		if len(emb) != 4*dim {
			return nil, fmt.Errorf("load graph vectors: node %q has a %d-dimension embedding, the graph's is %d", *id, len(emb)/4, dim)
		}
		for i := range v {
			v[i] = math.Float32frombits(uint32(emb[4*i]) | uint32(emb[4*i+1])<<8 | uint32(emb[4*i+2])<<16 | uint32(emb[4*i+3])<<24)
		}
		x.set(*id, graph.Kind(*kind), *typ, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load graph vectors: %w", err)
	}
	return x, nil
}
