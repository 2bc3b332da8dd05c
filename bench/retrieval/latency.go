package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alexus-platform/alexus/internal/embed"
	"github.com/alexus-platform/alexus/internal/graph"
	"github.com/alexus-platform/alexus/internal/graph/postgres"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// The latency targets of the issue.
const (
	targetP95    = 50 * time.Millisecond
	targetRecall = 1.0
)

// latencyResult is the latency benchmark's outcome.
type latencyResult struct {
	docs, otherTenants, otherDocs, dim int
	load, cold                         time.Duration
	indexMiB                           float64
	// hybrid, lexical and vector are the sorted latencies of each mode.
	hybrid, lexical, vector []time.Duration
	// recall is the mean share of the brute-force top k that the vector
	// list returned, over recallChecked queries.
	recall        float64
	recallChecked int
	recallMisses  []string
}

// synthesiser makes documents and queries that read like the corpus: each
// is a corpus document (or query) with its sentences shuffled, another
// system's name swapped in and fresh numbers, so the vocabulary and the
// text lengths are the corpus's, and no two documents are the same text.
type synthesiser struct {
	r       *rand.Rand
	corpus  Corpus
	queries QuerySet
}

func (s *synthesiser) swapSystem(text string) string {
	for _, sys := range systems {
		if strings.Contains(text, sys.id) {
			other := systems[s.r.IntN(len(systems))]
			return strings.ReplaceAll(text, sys.id, other.id)
		}
	}
	return text
}

func (s *synthesiser) doc(i int) graph.Node {
	d := s.corpus.Docs[s.r.IntN(len(s.corpus.Docs))]
	sentences := strings.SplitAfter(d.Body, ". ")
	s.r.Shuffle(len(sentences), func(a, b int) { sentences[a], sentences[b] = sentences[b], sentences[a] })
	body := s.swapSystem(strings.Join(sentences, " ")) + " Ref " + strconv.Itoa(100000+s.r.IntN(900000)) + "."
	return graph.Node{
		ID: fmt.Sprintf("syn-%06d", i), Kind: graph.Kind(d.Kind), Type: d.Type,
		Title: s.swapSystem(d.Title), Body: body,
	}
}

func (s *synthesiser) query() string {
	q := s.queries.Queries[s.r.IntN(len(s.queries.Queries))]
	return s.swapSystem(q.Text)
}

// loadSynthetic writes n synthetic documents for the context's tenant and
// returns their unit vectors by ID when keep is set.
func loadSynthetic(ctx context.Context, g graph.Graph, e embed.Embedder, s *synthesiser, n int, keep bool) (map[string][]float32, error) {
	const batch = 1000
	var kept map[string][]float32
	if keep {
		kept = make(map[string][]float32, n)
	}
	for start := 0; start < n; start += batch {
		nodes := make([]graph.Node, 0, batch)
		texts := make([]string, 0, batch)
		for i := start; i < min(n, start+batch); i++ {
			nd := s.doc(i)
			nodes = append(nodes, nd)
			texts = append(texts, nd.Title+"\n"+nd.Body)
		}
		vecs, err := e.Embed(ctx, texts)
		if err != nil {
			return nil, err
		}
		for i := range nodes {
			nodes[i].Embedding = vecs[i]
			if keep {
				kept[nodes[i].ID] = vecs[i]
			}
		}
		if err := g.UpsertNodes(ctx, nodes); err != nil {
			return nil, fmt.Errorf("upsert synthetic documents: %w", err)
		}
	}
	return kept, nil
}

// latencyRun loads -latency-docs synthetic documents for tenant acme and
// -other-docs for each of -other-tenants more, then times HybridSearch for
// acme with a fresh adapter (so the first search loads the vectors, and is
// reported apart), and checks the vector list against a brute force.
func latencyRun(ctx context.Context, d *database, o options, corpus Corpus, qs QuerySet, log io.Writer) (*latencyResult, error) {
	res := &latencyResult{docs: o.latencyDocs, otherTenants: o.otherTenants, otherDocs: o.otherDocs, dim: o.dim}
	e, err := embed.NewLocal(o.dim)
	if err != nil {
		return res, err
	}
	g, err := postgres.New(d.db, postgres.Config{Dimension: o.dim})
	if err != nil {
		return res, err
	}
	s := &synthesiser{r: rand.New(rand.NewPCG(20_000, uint64(o.dim))), corpus: corpus, queries: qs}
	start := time.Now()
	for i := range o.otherTenants {
		tctx, err := ensureTenant(ctx, d.db, tenant.ID(fmt.Sprintf("other%d", i)))
		if err != nil {
			return res, err
		}
		if _, err := loadSynthetic(tctx, g, e, s, o.otherDocs, false); err != nil {
			return res, err
		}
		fmt.Fprintf(log, "latency: loaded tenant other%d (%d documents)\n", i, o.otherDocs)
	}
	acme, err := ensureTenant(ctx, d.db, "acme")
	if err != nil {
		return res, err
	}
	vectors, err := loadSynthetic(acme, g, e, s, o.latencyDocs, true)
	if err != nil {
		return res, err
	}
	res.load = time.Since(start)
	fmt.Fprintf(log, "latency: loaded %d documents in %s\n", o.latencyDocs+o.otherTenants*o.otherDocs, res.load.Round(time.Millisecond))

	texts := make([]string, o.latencyQueries)
	for i := range texts {
		texts[i] = s.query()
	}
	qvecs, err := e.Embed(ctx, texts)
	if err != nil {
		return res, err
	}

	// A fresh adapter holds no vectors: its first search loads acme's.
	g, err = postgres.New(d.db, postgres.Config{Dimension: o.dim})
	if err != nil {
		return res, err
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	t0 := time.Now()
	if _, err := g.HybridSearch(acme, graph.Query{Text: texts[0], Vector: qvecs[0], K: o.k}); err != nil {
		return res, err
	}
	res.cold = time.Since(t0)
	runtime.GC()
	runtime.ReadMemStats(&after)
	res.indexMiB = (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / (1 << 20)

	timed := func(q func(i int) graph.Query) ([]time.Duration, error) {
		lat := make([]time.Duration, 0, len(texts))
		for i := range texts {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			t0 := time.Now()
			hits, err := g.HybridSearch(acme, q(i))
			lat = append(lat, time.Since(t0))
			if err != nil {
				return nil, err
			}
			if len(hits) == 0 {
				return nil, fmt.Errorf("query %q found nothing", texts[i])
			}
		}
		slices.Sort(lat)
		return lat, nil
	}
	if res.hybrid, err = timed(func(i int) graph.Query { return graph.Query{Text: texts[i], Vector: qvecs[i], K: o.k} }); err != nil {
		return res, err
	}
	fmt.Fprintf(log, "latency: hybrid p95 %s\n", percentile(res.hybrid, 95))
	if res.lexical, err = timed(func(i int) graph.Query { return graph.Query{Text: texts[i], K: o.k} }); err != nil {
		return res, err
	}
	if res.vector, err = timed(func(i int) graph.Query { return graph.Query{Vector: qvecs[i], K: o.k} }); err != nil {
		return res, err
	}

	// Brute force: the cosine of each query to every acme vector.
	bf := newBruteForce(vectors)
	var sum float64
	for i := range min(o.recallQueries, len(texts)) {
		hits, err := g.HybridSearch(acme, graph.Query{Vector: qvecs[i], K: o.k})
		if err != nil {
			return res, err
		}
		got, miss := bf.recall(hits, qvecs[i], o.k)
		sum += got
		if miss != "" && len(res.recallMisses) < 5 {
			res.recallMisses = append(res.recallMisses, fmt.Sprintf("query %d: %s", i, miss))
		}
		res.recallChecked++
	}
	if res.recallChecked > 0 {
		res.recall = sum / float64(res.recallChecked)
	}
	return res, nil
}

// bruteForce holds unit vectors by ID for an exhaustive top k.
type bruteForce struct {
	ids  []string
	vecs [][]float32
	row  map[string]int
}

func newBruteForce(vectors map[string][]float32) *bruteForce {
	bf := &bruteForce{row: map[string]int{}}
	for id := range vectors {
		bf.ids = append(bf.ids, id)
	}
	slices.Sort(bf.ids)
	for i, id := range bf.ids {
		bf.vecs = append(bf.vecs, unit(vectors[id]))
		bf.row[id] = i
	}
	return bf
}

// recall scores every vector against q, takes the top k and returns the
// share of them the hits hold, and a description of what was wrong. A hit
// whose similarity equals the k-th best within float32 rounding counts as
// found: with ties at the cut either is a correct top k.
func (bf *bruteForce) recall(hits []graph.Hit, q []float32, k int) (float64, string) {
	qn := unit(q)
	type scored struct {
		id  string
		sim float64
	}
	all := make([]scored, len(bf.ids))
	for i, id := range bf.ids {
		all[i] = scored{id, cosine(qn, bf.vecs[i])}
	}
	slices.SortFunc(all, func(a, b scored) int {
		switch {
		case a.sim > b.sim:
			return -1
		case a.sim < b.sim:
			return 1
		}
		return strings.Compare(a.id, b.id)
	})
	top := all[:min(k, len(all))]
	cut := top[len(top)-1].sim
	want := map[string]bool{}
	for _, t := range top {
		want[t.id] = true
	}
	found := 0
	var miss []string
	for _, h := range hits {
		row, ok := bf.row[h.Node.ID]
		switch {
		case want[h.Node.ID]:
			found++
		case ok && math.Abs(cosine(qn, bf.vecs[row])-cut) < 1e-5:
			found++
		default:
			miss = append(miss, h.Node.ID)
		}
	}
	found = min(found, len(top))
	if len(miss) > 0 || found < len(top) {
		return float64(found) / float64(len(top)), fmt.Sprintf("%d of %d; unexpected %v", found, len(top), miss)
	}
	return 1, ""
}

// unit returns v scaled to length 1 (a zero vector stays zero).
func unit(v []float32) []float32 {
	var n float64
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	out := make([]float32, len(v))
	if n == 0 {
		return out
	}
	inv := 1 / math.Sqrt(n)
	for i, x := range v {
		out[i] = float32(float64(x) * inv)
	}
	return out
}

func cosine(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}
