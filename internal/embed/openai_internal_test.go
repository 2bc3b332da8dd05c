package embed

import (
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		headers map[string]string
		want    time.Duration
		ok      bool
	}{
		{"none", nil, 0, false},
		{"seconds", map[string]string{"Retry-After": "7"}, 7 * time.Second, true},
		{"fractional seconds", map[string]string{"Retry-After": "0.25"}, 250 * time.Millisecond, true},
		{"milliseconds first", map[string]string{"Retry-After-Ms": "1500", "Retry-After": "9"}, 1500 * time.Millisecond, true},
		{"bad milliseconds fall back", map[string]string{"Retry-After-Ms": "soon", "Retry-After": "2"}, 2 * time.Second, true},
		{"http date", map[string]string{"Retry-After": now.Add(30 * time.Second).Format(http.TimeFormat)}, 30 * time.Second, true},
		{"past date", map[string]string{"Retry-After": now.Add(-time.Minute).Format(http.TimeFormat)}, 0, false},
		{"capped seconds", map[string]string{"Retry-After": "3600"}, time.Minute, true},
		{"capped huge", map[string]string{"Retry-After": "1e300"}, time.Minute, true},
		{"capped date", map[string]string{"Retry-After": now.Add(24 * time.Hour).Format(http.TimeFormat)}, time.Minute, true},
		{"zero", map[string]string{"Retry-After": "0"}, 0, false},
		{"negative", map[string]string{"Retry-After": "-5"}, 0, false},
		{"garbage", map[string]string{"Retry-After": "later"}, 0, false},
		{"infinite", map[string]string{"Retry-After": "+Inf"}, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			for k, v := range tc.headers {
				h.Set(k, v)
			}
			got, ok := retryAfter(h, now, time.Minute)
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.want, got)
		})
	}
}

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
