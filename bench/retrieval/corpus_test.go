package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/graph"
)

// root is the repository root, seen from this package's directory.
const root = "../.."

func TestCommittedCorpus(t *testing.T) {
	t.Parallel()
	c, qs, err := loadCorpus(root)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(c.Docs), 500)
	require.GreaterOrEqual(t, len(qs.Queries), 60)

	ids := map[string]bool{}
	for _, d := range c.Docs {
		require.False(t, ids[d.ID], "document %s twice", d.ID)
		ids[d.ID] = true
		require.NoError(t, graph.ValidateNode(d.Node(), 0), d.ID)
	}
	queryIDs := map[string]bool{}
	for _, q := range qs.Queries {
		require.False(t, queryIDs[q.ID], "query %s twice", q.ID)
		queryIDs[q.ID] = true
		require.NotEmpty(t, q.Text, q.ID)
		best := 0
		for id, g := range q.Judgments {
			require.True(t, ids[id], "query %s judges unknown document %s", q.ID, id)
			require.True(t, g >= 1 && g <= 3, "query %s: grade %d of %s", q.ID, g, id)
			best = max(best, g)
		}
		require.Equal(t, 3, best, "query %s has no grade-3 document", q.ID)
	}

	var size int64
	for _, f := range []string{corpusFile, queriesFile} {
		fi, err := os.Stat(filepath.Join(root, f))
		require.NoError(t, err)
		size += fi.Size()
	}
	require.Less(t, size, int64(2<<20), "corpus files should stay under 2 MB")
}

// TestCorpusIsGenerated checks that the committed files are exactly what
// -generate writes, so nobody edits them by hand (or tunes them) without
// the generator saying so.
func TestCorpusIsGenerated(t *testing.T) {
	t.Parallel()
	c, q := Generate()
	for path, v := range map[string]any{corpusFile: c, queriesFile: q} {
		want, err := encode(v)
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(root, path))
		require.NoError(t, err)
		require.True(t, bytes.Equal(want, got), "%s differs from the generator's output; run go run ./bench/retrieval -generate", path)
	}
}

func TestParseFlags(t *testing.T) {
	t.Parallel()
	o, err := parseFlags(nil, &bytes.Buffer{})
	require.NoError(t, err)
	require.Equal(t, 10, o.k)
	require.Equal(t, graph.DefaultDimension, o.dim)
	_, err = parseFlags([]string{"-dim", "8"}, &bytes.Buffer{})
	require.Error(t, err)
}
