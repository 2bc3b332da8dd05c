package main

import (
	"fmt"
	"io"
	"time"
)

// report is what one run measured.
type report struct {
	k, dim         int
	docs, queries  int
	quality, sweep []qualityRow
	latency        *latencyResult
	notes          []string
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func metOrNot(ok bool) string {
	if ok {
		return "met"
	}
	return "**not met**"
}

func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "# Retrieval evaluation\n\n")
	fmt.Fprintf(w, "Corpus: %d documents, %d queries (testdata/retrieval). Cut-off k = %d. Local embedder dimension %d.\n\n", r.docs, r.queries, r.k, r.dim)
	if len(r.quality) > 0 {
		fmt.Fprintf(w, "## Quality\n\n")
		fmt.Fprintf(w, "| adapter | embedder | mode | nDCG@%[1]d | recall@%[1]d (grade 3) | recall@%[1]d (grade ≥ 2) | p50 | p95 |\n", r.k)
		fmt.Fprintf(w, "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |\n")
		for _, q := range r.quality {
			fmt.Fprintf(w, "| %s | %s | %s | %.3f | %.3f | %.3f | %s | %s |\n", q.adapter, q.embedder, q.mode, q.ndcg, q.recall3, q.recall2, ms(q.p50), ms(q.p95))
		}
		fmt.Fprintln(w)
		for _, g := range r.groups() {
			lex, vec, hyb := g[0], g[1], g[2]
			fmt.Fprintf(w, "- %s / %s, per query: hybrid vs lexical %s; hybrid vs vector %s.\n", hyb.adapter, hyb.embedder,
				winLoss(hyb.perQuery, lex.perQuery), winLoss(hyb.perQuery, vec.perQuery))
		}
		fmt.Fprintln(w)
	}
	if len(r.sweep) > 0 {
		fmt.Fprintf(w, "### Hybrid by RRF constant (diagnostic, Query.RRFK)\n\n")
		fmt.Fprintf(w, "| adapter | embedder | mode | nDCG@%[1]d | recall@%[1]d (grade 3) | recall@%[1]d (grade ≥ 2) |\n", r.k)
		fmt.Fprintf(w, "| --- | --- | --- | ---: | ---: | ---: |\n")
		for _, q := range r.sweep {
			fmt.Fprintf(w, "| %s | %s | %s | %.3f | %.3f | %.3f |\n", q.adapter, q.embedder, q.mode, q.ndcg, q.recall3, q.recall2)
		}
		fmt.Fprintln(w)
	}
	if l := r.latency; l != nil && len(l.hybrid) > 0 {
		fmt.Fprintf(w, "## Latency (postgres adapter)\n\n")
		fmt.Fprintf(w, "Tenant acme: %d documents of %d dimensions (local embedder); %d other tenants with %d each. "+
			"Loaded in %s. First search (loads acme's vectors into memory): %s; the vectors take %.0f MiB of heap. "+
			"%d queries per mode, one at a time, K = %d.\n\n",
			l.docs, l.dim, l.otherTenants, l.otherDocs, l.load.Round(time.Millisecond), ms(l.cold), l.indexMiB, len(l.hybrid), r.k)
		fmt.Fprintf(w, "| mode | p50 | p95 | p99 | max |\n| --- | ---: | ---: | ---: | ---: |\n")
		for _, m := range []struct {
			name string
			lat  []time.Duration
		}{{"hybrid", l.hybrid}, {"lexical", l.lexical}, {"vector", l.vector}} {
			if len(m.lat) == 0 {
				continue
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", m.name, ms(percentile(m.lat, 50)), ms(percentile(m.lat, 95)), ms(percentile(m.lat, 99)), ms(m.lat[len(m.lat)-1]))
		}
		fmt.Fprintf(w, "\nVector list against a brute-force top %d over acme's vectors: recall %.4f over %d queries.\n", r.k, l.recall, l.recallChecked)
		for _, m := range l.recallMisses {
			fmt.Fprintf(w, "- %s\n", m)
		}
		fmt.Fprintln(w)
	}

	fmt.Fprintf(w, "## Targets\n\n")
	for _, g := range r.groups() {
		lex, vec, hyb := g[0], g[1], g[2]
		fmt.Fprintf(w, "- %s / %s: hybrid nDCG@%d %.3f > lexical %.3f and > vector %.3f: %s\n", hyb.adapter, hyb.embedder, r.k,
			hyb.ndcg, lex.ndcg, vec.ndcg, metOrNot(hyb.ndcg > lex.ndcg && hyb.ndcg > vec.ndcg))
	}
	if l := r.latency; l != nil && len(l.hybrid) > 0 {
		p95 := percentile(l.hybrid, 95)
		fmt.Fprintf(w, "- postgres HybridSearch p95 at %d documents of %d dimensions %s < %s: %s\n", l.docs, l.dim, ms(p95), ms(targetP95), metOrNot(p95 < targetP95))
		fmt.Fprintf(w, "- exact vector top-%d, recall %.4f against brute force (want %.1f): %s\n", r.k, l.recall, targetRecall, metOrNot(l.recallChecked > 0 && l.recall >= targetRecall))
	}
	for _, n := range r.notes {
		fmt.Fprintf(w, "- %s\n", n)
	}
}

// groups returns the quality rows as (lexical, vector, hybrid) triples per
// adapter and embedder; evaluate writes them in that order.
func (r *report) groups() [][3]qualityRow {
	var out [][3]qualityRow
	for i := 0; i+2 < len(r.quality); i += 3 {
		out = append(out, [3]qualityRow{r.quality[i], r.quality[i+1], r.quality[i+2]})
	}
	return out
}

// winLoss counts the queries where a scores above, equal to and below b.
func winLoss(a, b []float64) string {
	var win, tie, loss int
	for i := range a {
		switch {
		case a[i] > b[i]+1e-9:
			win++
		case a[i] < b[i]-1e-9:
			loss++
		default:
			tie++
		}
	}
	return fmt.Sprintf("better on %d, equal on %d, worse on %d", win, tie, loss)
}
