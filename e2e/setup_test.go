package e2e_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/alexus-platform/alexus/internal/mesh"
	"github.com/alexus-platform/alexus/internal/rediskey"
	"github.com/alexus-platform/alexus/internal/redistest"
	"github.com/alexus-platform/alexus/internal/secretbox"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/actions"
	"github.com/alexus-platform/alexus/services/actions/webhook"
	"github.com/alexus-platform/alexus/services/gateway"
	"github.com/alexus-platform/alexus/services/gateway/auth"
	"github.com/alexus-platform/alexus/services/ingest"
	"github.com/alexus-platform/alexus/services/orchestrator"
)

// bundle is one running mesh and what the tests need to talk to it.
type bundle struct {
	gatewayURL     string
	addrs          mesh.Addrs
	devSecret      []byte
	internalSecret []byte
	h2c            *http.Client // unencrypted HTTP/2, for the gRPC protocol
	sink           *sink
	rdb            *redis.Client
	ns             rediskey.Space
	// db is the application-role pool on the planes' database, for
	// provisioning what only the CLI creates (integration tokens).
	db *store.DB
	// keys is the planes' key ring, for provisioning sealed secrets.
	keys *secretbox.Keyring
}

// setup starts all four planes on free ports against a fresh database and
// Redis namespace, and a receiver for remediation webhooks.
func setup(t *testing.T) *bundle {
	t.Helper()
	pg := storetest.New(t)
	rdb, ns := redistest.New(t)

	b := &bundle{devSecret: randBytes(32), internalSecret: randBytes(32), rdb: rdb, ns: ns, db: pg.DB, keys: testKeyring(t)}
	webhookSecret := randBytes(32)
	b.sink = newSink(t, webhookSecret)

	cfg := mesh.Config{
		Planes:         mesh.All,
		Addrs:          mesh.Addrs{Gateway: "127.0.0.1:0", Ingest: "127.0.0.1:0", Orchestrator: "127.0.0.1:0", Actions: "127.0.0.1:0"},
		Store:          store.Config{AdminURL: pg.AdminURL},
		RedisURL:       redistest.URL(),
		InternalSecret: b.internalSecret,
		SecretKeys:     b.keys,
		Gateway:        gateway.DefaultConfig(),
		Ingest:         ingest.DefaultConfig(),
		Orchestrator:   orchestrator.DefaultConfig(),
		Actions:        actions.DefaultConfig(),
	}
	cfg.Gateway.Auth.Issuer, cfg.Gateway.Auth.Audience = auth.DevIssuer, auth.DevAudience
	cfg.Gateway.Auth.DevHS256Secret = b.devSecret
	cfg.Gateway.DevAutoCreateTenants = true
	cfg.Gateway.DevDefaultWebhookURL = b.sink.server.URL
	cfg.Ingest.Namespace = ns
	cfg.Orchestrator.Namespace = ns
	// Short polling so the test waits on events, not on idle timers.
	cfg.Orchestrator.Block = 100 * time.Millisecond
	cfg.Orchestrator.DiscoverInterval = 50 * time.Millisecond
	cfg.Actions.WebhookSecret = webhookSecret
	cfg.Actions.PollInterval = 100 * time.Millisecond
	cfg.Actions.EgressAllow = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")} // the sink listens on loopback

	ctx, cancel := context.WithCancel(context.Background())
	m, err := mesh.Start(ctx, zaptest.NewLogger(t), cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		cancel()
		require.NoError(t, m.Wait())
	})
	b.addrs = m.Addrs
	b.gatewayURL = "http://" + m.Addrs.Gateway
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	b.h2c = &http.Client{Transport: tr}
	t.Cleanup(tr.CloseIdleConnections)
	return b
}

func (b *bundle) token(t *testing.T, tn tenant.ID) string {
	t.Helper()
	tok, err := auth.DevToken(b.devSecret, tn, "e2e-user", auth.DevIssuer, auth.DevAudience, time.Hour)
	require.NoError(t, err)
	return tok
}

// postWebhook posts an Alertmanager payload as a vendor would.
func (b *bundle) postWebhook(t *testing.T, token string, payload []byte) (int, webhookResponse) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.gatewayURL+"/v1/webhooks/alertmanager", bytes.NewReader(payload))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out webhookResponse
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if resp.StatusCode == http.StatusAccepted {
		require.NoError(t, json.Unmarshal(body, &out), string(body))
	}
	return resp.StatusCode, out
}

type webhookResponse struct {
	Results []struct {
		SignalID    string `json:"signal_id"`
		Fingerprint string `json:"fingerprint"`
		Verdict     string `json:"verdict"`
		Title       string `json:"title"`
	} `json:"results"`
}

// sink is the remediation endpoint tenants' "default" target points at.
type sink struct {
	server *httptest.Server
	mu     sync.Mutex
	got    []delivery
}

type delivery struct {
	ActionID   string `json:"action_id"`
	IncidentID string `json:"incident_id"`
	TenantID   string `json:"tenant_id"`
	signedOK   bool
}

func newSink(t *testing.T, secret []byte) *sink {
	s := &sink{}
	s.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var d delivery
		_ = json.Unmarshal(body, &d)
		d.signedOK = webhook.Verify(secret, r.Header.Get(webhook.HeaderTimestamp), body, r.Header.Get(webhook.HeaderSignature))
		s.mu.Lock()
		s.got = append(s.got, d)
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(s.server.Close)
	return s
}

func (s *sink) deliveries() []delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]delivery(nil), s.got...)
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// alertmanagerPayload is a webhook version 4 notification with one alert.
func alertmanagerPayload(status, fingerprint, alertname string) []byte {
	endsAt := "0001-01-01T00:00:00Z"
	if status == "resolved" {
		endsAt = time.Now().UTC().Format(time.RFC3339)
	}
	p := map[string]any{
		"version": "4", "groupKey": "{}:{alertname=\"" + alertname + "\"}", "truncatedAlerts": 0,
		"status": status, "receiver": "alexus",
		"groupLabels":       map[string]string{"alertname": alertname},
		"commonLabels":      map[string]string{"alertname": alertname, "severity": "critical"},
		"commonAnnotations": map[string]string{"summary": alertname + " is failing"},
		"externalURL":       "http://alertmanager.example:9093",
		"alerts": []map[string]any{{
			"status":       status,
			"labels":       map[string]string{"alertname": alertname, "severity": "critical", "instance": "api-1:8080", "service": "api"},
			"annotations":  map[string]string{"summary": alertname + " is failing", "description": "5xx above 5% for 5m", "runbook_url": "https://runbooks.example.com/" + alertname},
			"startsAt":     time.Now().Add(-5 * time.Minute).UTC().Format(time.RFC3339),
			"endsAt":       endsAt,
			"generatorURL": "http://prometheus.example:9090/graph",
			"fingerprint":  fingerprint,
		}},
	}
	b, _ := json.Marshal(p)
	return b
}

// testKeyring is a key ring of one fresh key, for the planes to seal
// tenants' secrets with.
func testKeyring(t *testing.T) *secretbox.Keyring {
	t.Helper()
	key, err := secretbox.GenerateKey()
	require.NoError(t, err)
	keys, err := secretbox.ParseKeyring("e2e:" + key)
	require.NoError(t, err)
	return keys
}
