package llm_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/llm"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// requestKey is a request's own API key; no error may contain it.
const requestKey = "sk-request-5f0e1d2c3b4a59687766secret"

// A request's own model and key replace the client's, the tenant's static
// overrides included, for that call only.
func TestCompleteRequestOverrides(t *testing.T) {
	t.Parallel()
	b := setup(t, ok(goodAnswer))
	c := b.client(t, func(c *llm.Config) {
		c.Tenants = map[tenant.ID]llm.TenantConfig{"globex": {Model: "llama3.1:70b", APIKey: "sk-globex-77aa33bb99cc11dd"}}
	})
	for _, id := range []string{"acme", "globex"} {
		req := triageRequest()
		req.Model, req.APIKey = "tenant-model", requestKey
		var out triage
		resp, err := llm.CompleteJSON(forTenant(id), c, req, &out)
		require.NoError(t, err)
		require.Equal(t, "tenant-model", resp.Model)
		reqs := b.requests()
		r := reqs[len(reqs)-1]
		require.Equal(t, "tenant-model", r.body.Model, id)
		require.Equal(t, "Bearer "+requestKey, r.header.Get("Authorization"), id)
	}

	// A request without overrides is back on the client's settings.
	_, err := c.Complete(forTenant("acme"), triageRequest())
	require.NoError(t, err)
	reqs := b.requests()
	r := reqs[len(reqs)-1]
	require.Equal(t, "gpt-4o-mini", r.body.Model)
	require.Equal(t, "Bearer "+testKey, r.header.Get("Authorization"))
	require.Equal(t, "gpt-4o-mini", c.Model("acme"), "an override does not change the client's model")
}

// A request's own timeout bounds each of its requests, shorter than the
// client's.
func TestCompleteRequestTimeout(t *testing.T) {
	t.Parallel()
	b := setup(t, func(_ http.ResponseWriter, r *http.Request, _ int, _ wireRequest) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	c := b.client(t, func(c *llm.Config) { c.Timeout = 5 * time.Second; c.MaxRetries = -1 })
	req := triageRequest()
	req.Timeout = 50 * time.Millisecond
	start := time.Now()
	_, err := c.Complete(forTenant("acme"), req)
	requireClean(t, err)
	require.ErrorIs(t, err, llm.ErrTimeout)
	require.Less(t, time.Since(start), 2*time.Second, "the request's timeout applied, not the client's 5s")
	require.Len(t, b.requests(), 1)
}

// A request's key is redacted from what the server echoes, as configured
// keys are.
func TestCompleteRequestKeyRedacted(t *testing.T) {
	t.Parallel()
	b := setup(t, func(w http.ResponseWriter, r *http.Request, _ int, _ wireRequest) {
		apiError(w, http.StatusUnauthorized, "bad key "+strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), "", "invalid_api_key")
	})
	c := b.client(t)
	req := triageRequest()
	req.APIKey = requestKey
	_, err := c.Complete(forTenant("acme"), req)
	requireClean(t, err)
	require.NotContains(t, err.Error(), requestKey)
	require.Contains(t, err.Error(), "bad key [redacted]")
}

// Bad overrides fail before anything is sent, and the error does not
// repeat the key.
func TestCompleteRequestOverridesChecked(t *testing.T) {
	t.Parallel()
	b := setup(t, ok(goodAnswer))
	c := b.client(t)
	for name, mod := range map[string]func(*llm.Request){
		"key with a newline": func(r *llm.Request) { r.APIKey = requestKey + "\nX-Evil: 1" },
		"key with a space":   func(r *llm.Request) { r.APIKey = "sk- " + requestKey },
		"blank model":        func(r *llm.Request) { r.Model = "  " },
		"negative timeout":   func(r *llm.Request) { r.Timeout = -time.Second },
	} {
		req := triageRequest()
		mod(&req)
		_, err := c.Complete(forTenant("acme"), req)
		requireClean(t, err)
		require.NotContains(t, err.Error(), requestKey, name)
		require.Contains(t, err.Error(), "0 attempt(s)", name)
	}
	require.Empty(t, b.requests())
}
