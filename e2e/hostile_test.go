package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	orchestratorv1 "github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1"
	"github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1/orchestratorv1connect"
	"github.com/alexus-platform/alexus/internal/rediskey"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// post sends body to the webhook of source with a content type and returns
// the status and the decoded error code ("" on success).
func (b *bundle) post(t *testing.T, token, source, contentType string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.gatewayURL+"/v1/webhooks/"+source, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var e struct {
		Code string `json:"code"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&e)
	return resp.StatusCode, e.Code
}

func (b *bundle) streamLen(t *testing.T, tn tenant.ID) int64 {
	t.Helper()
	n, err := b.rdb.XLen(context.Background(), b.ns.Tenant(tn, rediskey.SignalStream)).Result()
	require.NoError(t, err)
	return n
}

// TestHostileBodiesAreRefusedAndNothingIsStored posts malformed and hostile
// bodies through the real gateway and ingest. Each gets a clear 4xx, none
// reaches the stream, and the planes keep serving.
func TestHostileBodiesAreRefusedAndNothingIsStored(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok := b.token(t, "acme")
	valid := alertmanagerPayload("firing", "e2e00000000000h1", "Hostile")

	deep := strings.Repeat(`{"a":`, 2000) + `1` + strings.Repeat(`}`, 2000)
	huge := append([]byte(`{"version":"4","alerts":[{"labels":{"x":"`), bytes.Repeat([]byte("x"), 2<<20)...)
	huge = append(huge, []byte(`"}}]}`)...)

	for _, tc := range []struct {
		name, source, contentType string
		body                      []byte
		status                    int
	}{
		{"truncated JSON", "alertmanager", "application/json", valid[:len(valid)/2], http.StatusBadRequest},
		{"wrong content type", "alertmanager", "text/xml", valid, http.StatusUnsupportedMediaType},
		{"no content type", "alertmanager", "", valid, http.StatusUnsupportedMediaType},
		{"invalid UTF-8", "generic", "application/json", []byte("{\"title\": \"bad \xff\xfe bytes\"}"), http.StatusBadRequest},
		{"deep nesting", "generic", "application/json", []byte(deep), http.StatusBadRequest},
		{"huge body", "alertmanager", "application/json", huge, http.StatusRequestEntityTooLarge},
		{"empty body", "alertmanager", "application/json", nil, http.StatusBadRequest},
		{"JSON of the wrong shape", "alertmanager", "application/json", []byte(`[1,2,3]`), http.StatusBadRequest},
		{"unknown source", "nagios", "application/json", valid, http.StatusBadRequest},
		{"source name with a path trick", "..%2Fadmin", "application/json", valid, http.StatusBadRequest},
	} {
		status, code := b.post(t, tok, tc.source, tc.contentType, tc.body)
		require.Equal(t, tc.status, status, "%s (code %q)", tc.name, code)
		require.NotEmpty(t, code, "%s: the error body names a code", tc.name)
	}
	require.Zero(t, b.streamLen(t, "acme"), "nothing refused reached the stream")

	// The planes still serve: a valid alert goes through after all that.
	status, _ := b.post(t, tok, "alertmanager", "application/json", valid)
	require.Equal(t, http.StatusAccepted, status)
	require.EqualValues(t, 1, b.streamLen(t, "acme"))
}

// TestHostileContentIsStoredVerbatimForTheCallerOnly posts valid alerts
// whose content tries SQL, Redis-key and markup injection and claims another
// tenant. They are stored as plain data, for the caller's tenant only.
func TestHostileContentIsStoredVerbatimForTheCallerOnly(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tokA, tokB := b.token(t, "acme"), b.token(t, "globex")
	orch := orchestratorv1connect.NewOrchestratorServiceClient(http.DefaultClient, b.gatewayURL)

	nasty := map[string]any{
		"title":       "'; DROP TABLE signals; -- <script>alert(1)</script> \x00",
		"resource":    "}{globex}:signals",
		"fingerprint": "{globex}:dedup:x",
		"tenant_id":   "globex",
		"tenant":      "globex",
		"labels": map[string]string{
			"tenant_id":  "globex",
			"sql":        `1' OR '1'='1`,
			"nul\x00key": "nul\x00value",
			"redis":      "*\r\n$8\r\nFLUSHALL\r\n",
			"long":       strings.Repeat("€", 5000),
		},
	}
	body, err := json.Marshal(nasty)
	require.NoError(t, err)
	status, _ := b.post(t, tokA, "generic", "application/json", body)
	require.Equal(t, http.StatusAccepted, status)

	var inc *orchestratorv1.Incident
	require.Eventually(t, func() bool {
		list, err := orch.ListIncidents(context.Background(), authed(&orchestratorv1.ListIncidentsRequest{}, tokA))
		require.NoError(t, err)
		if len(list.Msg.GetIncidents()) == 1 && list.Msg.GetIncidents()[0].GetDecision() != 0 {
			inc = list.Msg.GetIncidents()[0]
			return true
		}
		return false
	}, deadline, 20*time.Millisecond)
	// Stored verbatim, but for the NUL, which Postgres text cannot hold.
	require.Equal(t, strings.ReplaceAll(nasty["title"].(string), "\x00", "\uFFFD"), inc.GetTitle())
	require.Equal(t, "generic:{globex}:dedup:x", inc.GetFingerprint())

	// Nothing landed in globex's slice of Redis or Postgres.
	require.Zero(t, b.streamLen(t, "globex"))
	listB, err := orch.ListIncidents(context.Background(), authed(&orchestratorv1.ListIncidentsRequest{}, tokB))
	require.NoError(t, err)
	require.Empty(t, listB.Msg.GetIncidents())
	n, err := b.rdb.Exists(context.Background(), b.ns.Tenant("globex", rediskey.Dedup, "generic:{globex}:dedup:x")).Result()
	require.NoError(t, err)
	require.Zero(t, n)
}
