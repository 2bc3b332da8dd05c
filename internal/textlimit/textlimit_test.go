package textlimit

import (
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

func TestTruncate(t *testing.T) {
	t.Parallel()
	require.Equal(t, "abc", Truncate("abc", 5))
	require.Equal(t, "ab", Truncate("abc", 2))
	require.Equal(t, "h", Truncate("hé", 2), "é is two bytes; it is not split")
	require.Equal(t, "", Truncate("é", 1))
	for n := 0; n <= len("añb€c"); n++ {
		require.True(t, utf8.ValidString(Truncate("añb€c", n)), n)
	}
}
