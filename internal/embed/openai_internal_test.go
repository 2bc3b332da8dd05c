package embed

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// JSON cannot carry NaN or an infinity, so the check behind the wire is
// tested here directly.
func TestFinite(t *testing.T) {
	t.Parallel()
	_, ok := finite([]float32{0, -1, 1e38})
	require.True(t, ok)
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
		x, ok := finite([]float32{0.5, bad})
		require.False(t, ok)
		require.Equal(t, math.Float32bits(bad), math.Float32bits(x))
	}
}
