package postgres_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/graph"
	"github.com/alexus-platform/alexus/internal/graph/postgres"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// vocabulary is the words of the benchmark's texts: incident-triage terms,
// so stemming and stop words behave as they do on real documents.
var vocabulary = strings.Fields(`
	api gateway checkout payment database postgres mysql redis kafka queue consumer producer
	latency timeout error rate spike outage degraded restart deploy rollback release canary
	memory leak cpu saturation disk full volume inode network partition dns resolution tls
	certificate expired handshake load balancer health check failing pod crashloop kubernetes
	node drained autoscaling replica lag primary failover backup restore snapshot migration
	schema lock deadlock connection pool exhausted thread starvation garbage collection pause
	cache eviction miss ratio cdn origin throttling quota limit exceeded webhook retry backoff
	cron job stuck batch import export search index shard rebalance elasticsearch cluster
	yellow red green alert page oncall escalation runbook postmortem mitigation root cause
	customer impact login session token auth sso ldap permission denied forbidden config drift
	feature flag toggle traffic shift region zone availability storage bucket object upload
	email notification sms delay pipeline build test flaky artifact registry image pull`)

func randomText(r *rand.Rand, words int) string {
	w := make([]string, words)
	for i := range w {
		w[i] = vocabulary[r.IntN(len(vocabulary))]
	}
	return strings.Join(w, " ")
}

func unitVector(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	var sum float64
	for i := range v {
		f := r.NormFloat64()
		v[i] = float32(f)
		sum += f * f
	}
	inv := float32(1 / math.Sqrt(sum))
	for i := range v {
		v[i] *= inv
	}
	return v
}

// loadDocs writes n documents of dim dimensions for the context's tenant in
// batches of 1,000.
func loadDocs(tb testing.TB, g *postgres.Graph, ctx context.Context, r *rand.Rand, n, dim int) {
	tb.Helper()
	const batch = 1000
	for start := 0; start < n; start += batch {
		nodes := make([]graph.Node, 0, batch)
		for i := start; i < min(n, start+batch); i++ {
			kind, typ := graph.KindDocument, "runbook"
			if i%4 == 0 {
				kind, typ = graph.KindIssue, "postmortem"
			}
			nodes = append(nodes, graph.Node{
				ID: fmt.Sprintf("doc-%06d", i), Kind: kind, Type: typ,
				Title: randomText(r, 5), Body: randomText(r, 40),
				Embedding: unitVector(r, dim),
			})
		}
		require.NoError(tb, g.UpsertNodes(ctx, nodes))
	}
}

// BenchmarkHybridSearch20k measures HybridSearch (text and vector, K=10)
// for a tenant of 20,000 documents of 1536 dimensions while nine other
// tenants hold 2,000 each, and reports the latency's p50 and p95, the time
// to load the data, the first (cold) search, which loads the tenant's
// vectors, and the heap the loaded vectors take.
func BenchmarkHybridSearch20k(b *testing.B) {
	const (
		dim    = graph.DefaultDimension
		docs   = 20_000
		others = 9
		each   = 2_000
	)
	db := storetest.New(b).DB
	g, err := postgres.New(db, postgres.Config{Dimension: dim})
	require.NoError(b, err)
	r := rand.New(rand.NewPCG(20_000, 1536))

	start := time.Now()
	acme := as("acme")
	for i := range others {
		ctx := as(tenant.ID(fmt.Sprintf("other%d", i)))
		_, err := provision.EnsureTenant(ctx, db, provision.TenantOptions{})
		require.NoError(b, err)
		loadDocs(b, g, ctx, r, each, dim)
	}
	_, err = provision.EnsureTenant(acme, db, provision.TenantOptions{})
	require.NoError(b, err)
	loadDocs(b, g, acme, r, docs, dim)
	loaded := time.Since(start)

	queries := make([]graph.Query, 200)
	for i := range queries {
		queries[i] = graph.Query{Text: randomText(r, 6), Vector: unitVector(r, dim), K: 10}
	}

	// A fresh Graph has no vectors in memory: its first search loads them.
	g, err = postgres.New(db, postgres.Config{Dimension: dim})
	require.NoError(b, err)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start = time.Now()
	hits, err := g.HybridSearch(acme, queries[0])
	require.NoError(b, err)
	require.Len(b, hits, 10)
	cold := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.Logf("loaded %d documents in %s; cold search (vector load) %s; vectors take %.0f MiB of heap",
		docs+others*each, loaded.Round(time.Millisecond), cold.Round(time.Millisecond),
		float64(after.HeapAlloc-before.HeapAlloc)/(1<<20))

	for _, mode := range []struct {
		name  string
		query func(q graph.Query) graph.Query
	}{
		{"hybrid", func(q graph.Query) graph.Query { q.Text = firstWords(q.Text, 3); return q }},
		// Six words rarely all meet in one document, so the lexical list
		// needs its second tier, which ranks every document holding any
		// of them (most of the corpus, with this small vocabulary).
		{"hybrid-6words", func(q graph.Query) graph.Query { return q }},
		{"text", func(q graph.Query) graph.Query { q.Text, q.Vector = firstWords(q.Text, 3), nil; return q }},
		{"vector", func(q graph.Query) graph.Query { q.Text = ""; return q }},
	} {
		b.Run(mode.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				t0 := time.Now()
				hits, err := g.HybridSearch(acme, mode.query(queries[i%len(queries)]))
				lat = append(lat, time.Since(t0))
				if err != nil || len(hits) != 10 {
					b.Fatalf("search %d: %d hits, %v", i, len(hits), err)
				}
			}
			b.StopTimer()
			slices.Sort(lat)
			ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
			b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
			b.ReportMetric(ms(lat[min(len(lat)-1, len(lat)*95/100)]), "p95-ms")
			b.ReportMetric(loaded.Seconds(), "load-s")
			b.ReportMetric(ms(cold), "cold-ms")
			b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "index-MiB")
		})
	}
}

func firstWords(s string, n int) string {
	return strings.Join(strings.Fields(s)[:n], " ")
}
