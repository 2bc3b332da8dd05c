// Package embedtest is the conformance suite every embed.Embedder runs:
// one vector per text, in order, of the embedder's dimension, finite, and
// the same for a text whether it is embedded alone or in a batch.
package embedtest

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/embed"
)

// Run exercises the Embedder that newEmbedder returns; it is called once
// per subtest, so each gets a fresh one.
func Run(t *testing.T, newEmbedder func(t *testing.T) embed.Embedder) {
	t.Helper()

	t.Run("ModelAndDimension", func(t *testing.T) {
		t.Parallel()
		e := newEmbedder(t)
		require.NotEmpty(t, e.Model())
		require.Positive(t, e.Dimension())
	})

	t.Run("NoTexts", func(t *testing.T) {
		t.Parallel()
		e := newEmbedder(t)
		vecs, err := e.Embed(context.Background(), nil)
		require.NoError(t, err)
		require.Empty(t, vecs)
	})

	t.Run("OneFiniteVectorPerTextOfDimension", func(t *testing.T) {
		t.Parallel()
		e := newEmbedder(t)
		texts := make([]string, 100)
		for i := range texts {
			texts[i] = fmt.Sprintf("host db-%d reports replication lag of %d seconds", i, i*7)
		}
		vecs, err := e.Embed(context.Background(), texts)
		require.NoError(t, err)
		require.Len(t, vecs, len(texts))
		for i, v := range vecs {
			require.Len(t, v, e.Dimension(), "vector %d", i)
			for j, x := range v {
				require.False(t, math.IsNaN(float64(x)) || math.IsInf(float64(x), 0), "vector %d value %d is %v", i, j, x)
			}
		}
	})

	t.Run("BatchMatchesSingles", func(t *testing.T) {
		t.Parallel()
		e := newEmbedder(t)
		texts := []string{
			"TLS certificate expired on edge proxy",
			"postgres replication lag on db-1",
			"disk full on /var/lib/kafka",
			"TLS certificate expired on edge proxy",
		}
		batch, err := e.Embed(context.Background(), texts)
		require.NoError(t, err)
		require.Len(t, batch, len(texts))
		for i, text := range texts {
			single, err := e.Embed(context.Background(), []string{text})
			require.NoError(t, err)
			require.Len(t, single, 1)
			// A remote model may differ in the last bits between a batch
			// and a single request, so the check is on direction.
			require.Greater(t, Cosine(single[0], batch[i]), 0.999, "text %d", i)
		}
		require.Greater(t, Cosine(batch[0], batch[3]), 0.999, "the same text twice")
		require.Less(t, Cosine(batch[0], batch[1]), 0.999, "different texts")
	})
}

// Cosine is the cosine similarity of a and b (0 if either is zero).
func Cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}
