package ticketapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/ticket"
	"github.com/alexus-platform/alexus/internal/ticket/ticketapi"
)

func caller(t *testing.T, h http.HandlerFunc) *ticketapi.Caller {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	base, err := ticketapi.ParseBaseURL(srv.URL + "/root")
	require.NoError(t, err)
	return ticketapi.New(ticketapi.Config{
		System:        "test",
		BaseURL:       base,
		Authorization: "Bearer tok-123",
		Secrets:       []string{"pw-456"},
		ErrorMessage:  func(b []byte) string { return string(b) },
		Options:       ticketapi.Options{Timeout: 100 * time.Millisecond, InitialBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, MaxRetries: 2},
	})
}

func TestDoSendsJSONAndDecodes(t *testing.T) {
	t.Parallel()
	c := caller(t, func(w http.ResponseWriter, r *http.Request) {
		require.Equal(t, "/root/things/A-1", r.URL.Path)
		require.Equal(t, "x=1", r.URL.RawQuery)
		require.Equal(t, "Bearer tok-123", r.Header.Get("Authorization"))
		require.Equal(t, "application/json", r.Header.Get("Content-Type"))
		var in map[string]string
		require.NoError(t, json.NewDecoder(r.Body).Decode(&in))
		_ = json.NewEncoder(w).Encode(map[string]string{"echo": in["v"]})
	})
	var out struct{ Echo string }
	err := c.Do(context.Background(), ticketapi.Request{Method: "POST", Path: "things/A-1", Query: map[string][]string{"x": {"1"}}, Body: map[string]string{"v": "hi"}, Out: &out})
	require.NoError(t, err)
	require.Equal(t, "hi", out.Echo)
}

func TestRemoteMessagesAreRedacted(t *testing.T) {
	t.Parallel()
	c := caller(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte("bad token tok-123 and password pw-456"))
	})
	err := c.Do(context.Background(), ticketapi.Request{Method: "GET", Path: "x"})
	require.Error(t, err)
	require.NotContains(t, err.Error(), "tok-123")
	require.NotContains(t, err.Error(), "pw-456")
	require.Contains(t, err.Error(), "test: GET /x, 1 attempt(s): HTTP 400 Bad Request")
}

func TestCreateLooksBeforeEveryRetry(t *testing.T) {
	t.Parallel()
	var created atomic.Int32
	c := caller(t, func(w http.ResponseWriter, r *http.Request) {
		created.Add(1)
		w.WriteHeader(http.StatusBadGateway)
	})
	var finds int
	find := func(context.Context) (string, bool, error) {
		finds++
		return "", finds == 3, nil // the third look finds what a create made
	}
	create := func(ctx context.Context) (string, error) {
		return "", c.Once(ctx, ticketapi.Request{Method: "POST", Path: "x"})
	}
	_, made, err := ticketapi.FindOrCreate(context.Background(), c, find, create)
	require.NoError(t, err)
	require.True(t, made)
	require.Equal(t, int32(2), created.Load())
	require.Equal(t, 3, finds)
}

func TestCreateStopsWhenTheLookFails(t *testing.T) {
	t.Parallel()
	c := caller(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	calls := 0
	find := func(context.Context) (string, bool, error) {
		calls++
		if calls > 1 {
			return "", false, ticket.ErrRateLimited
		}
		return "", false, nil
	}
	create := func(ctx context.Context) (string, error) {
		return "", c.Once(ctx, ticketapi.Request{Method: "POST", Path: "x"})
	}
	_, _, err := ticketapi.FindOrCreate(context.Background(), c, find, create)
	require.ErrorIs(t, err, ticket.ErrRateLimited)
	require.Contains(t, err.Error(), "1 attempt(s)")
}

func TestParseBaseURL(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"", "://", "https://u:p@x", "ftp://x", "https://", "https://x?q=1", "https://x#f"} {
		_, err := ticketapi.ParseBaseURL(bad)
		require.Error(t, err, bad)
		require.NotContains(t, err.Error(), "u:p", bad)
	}
}
