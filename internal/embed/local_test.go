package embed_test

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/embed"
	"github.com/alexus-platform/alexus/internal/embed/embedtest"
)

func newLocal(t testing.TB, dim int) *embed.Local {
	t.Helper()
	l, err := embed.NewLocal(dim)
	require.NoError(t, err)
	return l
}

func embedOne(t testing.TB, e embed.Embedder, text string) []float32 {
	t.Helper()
	vecs, err := e.Embed(context.Background(), []string{text})
	require.NoError(t, err)
	require.Len(t, vecs, 1)
	return vecs[0]
}

func norm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

func TestLocalConformance(t *testing.T) {
	t.Parallel()
	embedtest.Run(t, func(t *testing.T) embed.Embedder { return newLocal(t, 256) })
}

func TestLocalModelAndDimension(t *testing.T) {
	t.Parallel()
	l := newLocal(t, 384)
	require.Equal(t, embed.LocalModel, l.Model())
	require.Equal(t, 384, l.Dimension())
}

func TestLocalDeterministic(t *testing.T) {
	t.Parallel()
	const text = "Disk usage on db-1 crossed 90% after the nightly vacuum"
	a := embedOne(t, newLocal(t, 512), text)
	b := embedOne(t, newLocal(t, 512), text)
	require.Equal(t, a, b, "two embedders, same text")
	require.Equal(t, a, embedOne(t, newLocal(t, 512), text), "again")
}

func TestLocalUnitLength(t *testing.T) {
	t.Parallel()
	l := newLocal(t, 256)
	for _, text := range []string{
		"x",
		"postgres replication lag on db-1",
		strings.Repeat("kafka consumer group rebalancing storm ", 50),
		"Ünïcödé 日本語 テキスト",
	} {
		require.InDelta(t, 1.0, norm(embedOne(t, l, text)), 1e-5, "%q", text)
	}
}

func TestLocalEmptyTextIsZeroVector(t *testing.T) {
	t.Parallel()
	l := newLocal(t, 128)
	// Nothing but stop words and punctuation has no features either.
	for _, text := range []string{"", "   ", "!!! --- ???", "the and of"} {
		v := embedOne(t, l, text)
		require.Len(t, v, 128)
		require.Zero(t, norm(v), "%q", text)
	}
}

func TestLocalDimensionRespected(t *testing.T) {
	t.Parallel()
	for _, dim := range []int{64, 65, 384, 1536, 3072} {
		l := newLocal(t, dim)
		vecs, err := l.Embed(context.Background(), []string{"a", "checkout latency p99 above SLO", ""})
		require.NoError(t, err)
		require.Len(t, vecs, 3)
		for _, v := range vecs {
			require.Len(t, v, dim)
		}
	}
}

func TestLocalSimilarTextsAreCloser(t *testing.T) {
	t.Parallel()
	l := newLocal(t, 1536)
	a := embedOne(t, l, "postgres replication lag on db-1")
	similar := embedOne(t, l, "replication lag postgres db-2")
	unrelated := embedOne(t, l, "TLS certificate expired on edge proxy")
	simCos, unrelCos := embedtest.Cosine(a, similar), embedtest.Cosine(a, unrelated)
	require.Greater(t, simCos, unrelCos)
	require.Greater(t, simCos, 0.5, "shared words should dominate")
	require.Less(t, unrelCos, 0.2, "no shared words")
}

func TestNewLocalRefusesSmallDimension(t *testing.T) {
	t.Parallel()
	for _, dim := range []int{-1, 0, 1, 63} {
		l, err := embed.NewLocal(dim)
		require.Error(t, err, "dim %d", dim)
		require.Nil(t, l)
		require.Contains(t, err.Error(), "at least 64")
	}
	_, err := embed.NewLocal(64)
	require.NoError(t, err)
}

func BenchmarkLocalEmbed1KB1536(b *testing.B) {
	l := newLocal(b, 1536)
	var sb strings.Builder
	for sb.Len() < 1024 {
		sb.WriteString("payment-service pod crashlooping after deploy 4f2a; OOMKilled at 512Mi, heap grew ")
	}
	texts := []string{sb.String()[:1024]}
	ctx := context.Background()
	b.SetBytes(1024)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Embed(ctx, texts); err != nil {
			b.Fatal(err)
		}
	}
}
