package openaiapi_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/openaiapi"
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
			got, ok := openaiapi.RetryAfter(h, now, time.Minute)
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestParseErrorReadsEveryServersShape(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body, message, code string
	}{
		{"openai", `{"error":{"message":"Incorrect API key provided: sk-secret","type":"invalid_request_error","code":"invalid_api_key"}}`, "Incorrect API key provided: [redacted]", "invalid_api_key"},
		{"ollama", `{"error":"model \"x\" not found"}`, `model "x" not found`, ""},
		{"vllm", `{"object":"error","message":"max tokens too large","type":"BadRequestError"}`, "max tokens too large", ""},
		{"html", `<html>bad gateway</html>`, "", ""},
	} {
		e := openaiapi.ParseError(400, []byte(tc.body), "sk-secret")
		require.Equal(t, tc.message, e.Message, tc.name)
		require.Equal(t, tc.code, e.Code, tc.name)
		require.NotContains(t, e.Error(), "sk-secret", tc.name)
	}
	long := openaiapi.ParseError(500, []byte(`{"error":{"message":"`+strings.Repeat("é", 400)+`"}}`))
	require.LessOrEqual(t, len(long.Message), 300+len("…"), "messages are clipped")
}

func TestRetryCarriesTheWaitToBackoff(t *testing.T) {
	t.Parallel()
	base := errors.New("HTTP 429")
	h := http.Header{"Retry-After": {"3"}}
	err := openaiapi.Retry(base, h, time.Minute)
	var ra *backoff.RetryAfterError
	require.ErrorAs(t, err, &ra)
	require.Equal(t, 3*time.Second, ra.Duration)
	require.Same(t, base, openaiapi.Unwrap(err))
	require.Same(t, base, openaiapi.Retry(base, http.Header{}, time.Minute), "no wait asked, the error as it is")
	require.True(t, openaiapi.RetryableStatus(429))
	require.True(t, openaiapi.RetryableStatus(503))
	require.False(t, openaiapi.RetryableStatus(401))
}
