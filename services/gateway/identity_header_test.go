package gateway

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

// Whatever its spelling on the wire, a caller's identity header never
// reaches the handlers.
func TestDropIdentityHeader(t *testing.T) {
	t.Parallel()
	var seen http.Header
	h := dropIdentityHeader(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { seen = r.Header.Clone() }))
	for _, name := range []string{"x-alexus-identity", "X-Alexus-Identity", "X-ALEXUS-IDENTITY"} {
		r := httptest.NewRequest(http.MethodPost, "/v1/webhooks/generic", nil)
		r.Header.Set(name, "forged")
		r.Header.Set("Content-Type", "application/json")
		h.ServeHTTP(httptest.NewRecorder(), r)
		require.Empty(t, seen.Values("X-Alexus-Identity"), name)
		require.Equal(t, "application/json", seen.Get("Content-Type"))
	}
}
