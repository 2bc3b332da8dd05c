package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"

	actionsv1 "github.com/alexus-platform/alexus/gen/alexus/actions/v1"
	"github.com/alexus-platform/alexus/gen/alexus/actions/v1/actionsv1connect"
	ingestv1 "github.com/alexus-platform/alexus/gen/alexus/ingest/v1"
	"github.com/alexus-platform/alexus/gen/alexus/ingest/v1/ingestv1connect"
	knowledgev1 "github.com/alexus-platform/alexus/gen/alexus/knowledge/v1"
	"github.com/alexus-platform/alexus/gen/alexus/knowledge/v1/knowledgev1connect"
	orchestratorv1 "github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1"
	"github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1/orchestratorv1connect"
	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
	"github.com/alexus-platform/alexus/gen/alexus/reasoning/v1/reasoningv1connect"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/gateway"
	"github.com/alexus-platform/alexus/services/gateway/auth/authtest"
	"github.com/alexus-platform/alexus/services/gateway/planetest"
)

type bundle struct {
	ctx     context.Context
	issuer  *authtest.Issuer
	db      *storetest.Bundle
	planes  *planetest.Planes
	baseURL string
	// h2c speaks unencrypted HTTP/2, which gRPC needs; the Connect and
	// gRPC-Web protocols work over it as well.
	h2c *http.Client
	// stop ends the gateway's Run; runErr receives what Run returned.
	stop   context.CancelFunc
	runErr chan error
}

func setup(t *testing.T, mutate func(*gateway.Config)) *bundle {
	t.Helper()
	ctx := context.Background()
	b := &bundle{ctx: ctx, issuer: authtest.NewIssuer(t), db: storetest.New(t), planes: planetest.Start(t)}
	for _, id := range []tenant.ID{"acme", "globex"} {
		_, err := provision.EnsureTenant(tenant.WithIdentity(ctx, tenant.Identity{Tenant: id, Subject: "test"}), b.db.DB, provision.TenantOptions{})
		require.NoError(t, err)
	}

	cfg := gateway.DefaultConfig()
	cfg.Auth = b.issuer.Config()
	cfg.CORSAllowedOrigins = []string{"https://dash.example.com"}
	if mutate != nil {
		mutate(&cfg)
	}
	svc, err := gateway.New(cfg, gateway.Deps{
		Log:          zap.NewNop(),
		DB:           b.db.DB,
		Ingest:       b.planes.Ingest,
		Sources:      b.planes.Sources,
		Orchestrator: b.planes.Orchestrator,
		Reasoning:    b.planes.Reasoning,
		Actions:      b.planes.Actions,
		Knowledge:    b.planes.Knowledge,
	})
	require.NoError(t, err)

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	runCtx, stop := context.WithCancel(ctx)
	b.stop, b.runErr = stop, make(chan error, 1)
	go func() { b.runErr <- svc.Run(runCtx, lis) }()
	t.Cleanup(func() {
		stop()
		require.NoError(t, <-b.runErr)
	})

	b.baseURL = "http://" + lis.Addr().String()
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	t.Cleanup(tr.CloseIdleConnections)
	b.h2c = &http.Client{Transport: tr}
	return b
}

// protocols are the wire protocols every public call must work over.
var protocols = map[string][]connect.ClientOption{
	"connect":      nil,
	"connect-json": {connect.WithProtoJSON()},
	"grpc":         {connect.WithGRPC()},
	"grpc-web":     {connect.WithGRPCWeb()},
}

func withToken[T any](req *connect.Request[T], token string) *connect.Request[T] {
	req.Header().Set("Authorization", "Bearer "+token)
	return req
}

func TestForwardsJWTTenantOverEveryProtocol(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	tok := b.issuer.Token(t, "acme")
	const want = "acme/user-1"

	for name, opts := range protocols {
		ingest := ingestv1connect.NewIngestServiceClient(b.h2c, b.baseURL, opts...)
		orch := orchestratorv1connect.NewOrchestratorServiceClient(b.h2c, b.baseURL, opts...)
		reason := reasoningv1connect.NewReasoningServiceClient(b.h2c, b.baseURL, opts...)
		acts := actionsv1connect.NewActionServiceClient(b.h2c, b.baseURL, opts...)
		srcs := ingestv1connect.NewSourceServiceClient(b.h2c, b.baseURL, opts...)
		know := knowledgev1connect.NewKnowledgeServiceClient(b.h2c, b.baseURL, opts...)

		ir, err := ingest.Ingest(b.ctx, withToken(connect.NewRequest(&ingestv1.IngestRequest{Source: "alertmanager", Payload: []byte(`{}`)}), tok))
		require.NoError(t, err, name)
		require.Equal(t, want, ir.Msg.GetResults()[0].GetTitle(), name)

		lr, err := orch.ListIncidents(b.ctx, withToken(connect.NewRequest(&orchestratorv1.ListIncidentsRequest{}), tok))
		require.NoError(t, err, name)
		require.Equal(t, want, lr.Msg.GetNextPageToken(), name)

		cr, err := reason.CheckConfidence(b.ctx, withToken(connect.NewRequest(&reasoningv1.CheckConfidenceRequest{
			Classification: &reasoningv1.Classification{}, Diagnosis: &reasoningv1.Diagnosis{},
		}), tok))
		require.NoError(t, err, name)
		require.Equal(t, want, cr.Msg.GetReason(), name)

		ar, err := acts.ListAuditLog(b.ctx, withToken(connect.NewRequest(&actionsv1.ListAuditLogRequest{}), tok))
		require.NoError(t, err, name)
		require.Equal(t, want, ar.Msg.GetNextPageToken(), name)

		sr, err := srcs.ListMappingRules(b.ctx, withToken(connect.NewRequest(&ingestv1.ListMappingRulesRequest{}), tok))
		require.NoError(t, err, name)
		require.Equal(t, want, sr.Msg.GetRules()[0].GetTitle(), name)

		kr, err := know.GetNode(b.ctx, withToken(connect.NewRequest(&knowledgev1.GetNodeRequest{Id: "api"}), tok))
		require.NoError(t, err, name)
		require.Equal(t, want, kr.Msg.GetNode().GetTitle(), name)
	}

	// A second tenant's token reaches the plane as that tenant.
	other := b.issuer.SignES256(t, b.issuer.Claims("globex"))
	lr, err := orchestratorv1connect.NewOrchestratorServiceClient(b.h2c, b.baseURL, connect.WithGRPC()).
		ListIncidents(b.ctx, withToken(connect.NewRequest(&orchestratorv1.ListIncidentsRequest{}), other))
	require.NoError(t, err)
	require.Equal(t, "globex/user-1", lr.Msg.GetNextPageToken())
}

func TestSmuggledIdentityHeaderIsIgnored(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	// A genuine internal token for another tenant, as if it had leaked:
	// even correctly signed, it must not choose the tenant.
	smuggled, err := b.planes.Signer.Sign(tenant.Identity{Tenant: "globex", Subject: "mallory"})
	require.NoError(t, err)

	for name, opts := range protocols {
		client := orchestratorv1connect.NewOrchestratorServiceClient(b.h2c, b.baseURL, opts...)

		req := withToken(connect.NewRequest(&orchestratorv1.ListIncidentsRequest{}), b.issuer.Token(t, "acme"))
		req.Header().Set(tenant.MetadataKey, smuggled)
		res, err := client.ListIncidents(b.ctx, req)
		require.NoError(t, err, name)
		require.Equal(t, "acme/user-1", res.Msg.GetNextPageToken(), name)

		bare := connect.NewRequest(&orchestratorv1.ListIncidentsRequest{})
		bare.Header().Set(tenant.MetadataKey, smuggled)
		_, err = client.ListIncidents(b.ctx, bare)
		require.Equal(t, connect.CodeUnauthenticated, connect.CodeOf(err), name)
	}
}

func TestRefusesBadCallers(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	expired := b.issuer.Claims("acme")
	expired["exp"] = time.Now().Add(-time.Hour).Unix()

	cases := map[string]struct {
		header string
		code   connect.Code
		msg    string
	}{
		"no token":        {"", connect.CodeUnauthenticated, "missing bearer token"},
		"not bearer":      {"Basic YWxhZGRpbjpvcGVuc2VzYW1l", connect.CodeUnauthenticated, "missing bearer token"},
		"expired":         {"Bearer " + b.issuer.SignRS256(t, expired), connect.CodeUnauthenticated, "expired"},
		"garbage":         {"Bearer nonsense", connect.CodeUnauthenticated, "malformed"},
		"unknown tenant":  {"Bearer " + b.issuer.Token(t, "ghost"), connect.CodePermissionDenied, "tenant ghost is not provisioned"},
		"integration tok": {"Bearer " + provision.TokenPrefix + "notajwt", connect.CodeUnauthenticated, "malformed"},
	}
	for name, opts := range protocols {
		client := orchestratorv1connect.NewOrchestratorServiceClient(b.h2c, b.baseURL, opts...)
		for cname, c := range cases {
			req := connect.NewRequest(&orchestratorv1.ListIncidentsRequest{})
			if c.header != "" {
				req.Header().Set("Authorization", c.header)
			}
			_, err := client.ListIncidents(b.ctx, req)
			require.Equal(t, c.code, connect.CodeOf(err), "%s/%s: %v", name, cname, err)
			require.Contains(t, err.Error(), c.msg, "%s/%s", name, cname)

			// Streaming RPCs are guarded the same way.
			wreq := connect.NewRequest(&orchestratorv1.WatchIncidentsRequest{})
			if c.header != "" {
				wreq.Header().Set("Authorization", c.header)
			}
			stream, err := client.WatchIncidents(b.ctx, wreq)
			require.NoError(t, err)
			require.False(t, stream.Receive(), "%s/%s", name, cname)
			require.Equal(t, c.code, connect.CodeOf(stream.Err()), "%s/%s", name, cname)
			require.NoError(t, stream.Close())
		}
	}
}

func TestPlaneErrorComesBackUnchanged(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	tok := b.issuer.Token(t, "acme")

	for name, opts := range protocols {
		_, err := orchestratorv1connect.NewOrchestratorServiceClient(b.h2c, b.baseURL, opts...).
			ListIncidents(b.ctx, withToken(connect.NewRequest(&orchestratorv1.ListIncidentsRequest{PageToken: planetest.FailPageToken}), tok))
		var cerr *connect.Error
		require.ErrorAs(t, err, &cerr, name)
		require.Equal(t, connect.CodeNotFound, cerr.Code(), name)
		require.Equal(t, planetest.FailMessage, cerr.Message(), name)
		require.Len(t, cerr.Details(), 1, name)
		detail, err := cerr.Details()[0].Value()
		require.NoError(t, err, name)
		info, ok := detail.(*errdetails.ErrorInfo)
		require.True(t, ok, name)
		require.Equal(t, planetest.FailReason, info.GetReason(), name)

		_, err = ingestv1connect.NewIngestServiceClient(b.h2c, b.baseURL, opts...).
			Ingest(b.ctx, withToken(connect.NewRequest(&ingestv1.IngestRequest{Source: "alertmanager", Payload: planetest.FailPayload(codes.Unavailable, 0)}), tok))
		require.Equal(t, connect.CodeUnavailable, connect.CodeOf(err), name)

		// The plane's own request validation surfaces as INVALID_ARGUMENT.
		_, err = ingestv1connect.NewIngestServiceClient(b.h2c, b.baseURL, opts...).
			Ingest(b.ctx, withToken(connect.NewRequest(&ingestv1.IngestRequest{Source: "Bad Source"}), tok))
		require.Equal(t, connect.CodeInvalidArgument, connect.CodeOf(err), name)
	}
}

func TestWatchIncidentsStreamsThrough(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	tok := b.issuer.Token(t, "acme")

	for name, opts := range protocols {
		stream, err := orchestratorv1connect.NewOrchestratorServiceClient(b.h2c, b.baseURL, opts...).
			WatchIncidents(b.ctx, withToken(connect.NewRequest(&orchestratorv1.WatchIncidentsRequest{}), tok))
		require.NoError(t, err, name)
		var seqs []int64
		for stream.Receive() {
			require.Equal(t, "acme/user-1", stream.Msg().GetTransition().GetSummary(), name)
			seqs = append(seqs, stream.Msg().GetTransition().GetSequence())
		}
		require.NoError(t, stream.Err(), name)
		require.Equal(t, []int64{1, 2, 3}, seqs, name)
		require.NoError(t, stream.Close())
	}
}

func TestWatchIncidentsCallerLeavingEndsPlaneStream(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)

	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	stream, err := orchestratorv1connect.NewOrchestratorServiceClient(b.h2c, b.baseURL, connect.WithGRPC()).
		WatchIncidents(ctx, withToken(connect.NewRequest(&orchestratorv1.WatchIncidentsRequest{IncidentId: planetest.WatchForever}), b.issuer.Token(t, "acme")))
	require.NoError(t, err)
	require.True(t, stream.Receive(), "first transition: %v", stream.Err())

	cancel()
	require.Equal(t, "acme/user-1", waitFor(t, b.planes.WatchEnded), "the plane's stream ends when the caller goes away")
	require.NoError(t, stream.Close())
}

func TestShutdownEndsWatchWithUnavailable(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)

	stream, err := orchestratorv1connect.NewOrchestratorServiceClient(b.h2c, b.baseURL, connect.WithGRPC()).
		WatchIncidents(b.ctx, withToken(connect.NewRequest(&orchestratorv1.WatchIncidentsRequest{IncidentId: planetest.WatchForever}), b.issuer.Token(t, "acme")))
	require.NoError(t, err)
	require.True(t, stream.Receive(), "first transition: %v", stream.Err())

	b.stop()
	require.False(t, stream.Receive())
	require.Equal(t, connect.CodeUnavailable, connect.CodeOf(stream.Err()), "watchers are told to reconnect: %v", stream.Err())
	require.Equal(t, "acme/user-1", waitFor(t, b.planes.WatchEnded))
	require.NoError(t, stream.Close())
}

func TestIngestBatchClientStreamsThrough(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	tok := b.issuer.Token(t, "acme")

	for name, opts := range protocols {
		if name == "grpc-web" {
			// gRPC-Web has no client streaming.
			continue
		}
		client := ingestv1connect.NewIngestServiceClient(b.h2c, b.baseURL, opts...)
		stream := client.IngestBatch(b.ctx)
		stream.RequestHeader().Set("Authorization", "Bearer "+tok)
		for range 4 {
			require.NoError(t, stream.Send(&ingestv1.IngestBatchRequest{Item: &ingestv1.IngestRequest{Source: "alertmanager", Payload: []byte(`{}`)}}), name)
		}
		res, err := stream.CloseAndReceive()
		require.NoError(t, err, name)
		require.Len(t, res.Msg.GetItems(), 4, name)
		for i, it := range res.Msg.GetItems() {
			require.Equal(t, int32(i), it.GetIndex(), name)
			require.Equal(t, "acme/user-1", it.GetRejectedReason(), name)
		}

		// A plane failure mid-stream comes back with its code.
		stream = client.IngestBatch(b.ctx)
		stream.RequestHeader().Set("Authorization", "Bearer "+tok)
		_ = stream.Send(&ingestv1.IngestBatchRequest{Item: &ingestv1.IngestRequest{Source: "alertmanager", Payload: planetest.FailPayload(codes.ResourceExhausted, 0)}})
		_, err = stream.CloseAndReceive()
		require.Equal(t, connect.CodeResourceExhausted, connect.CodeOf(err), name)

		stream = client.IngestBatch(b.ctx)
		_ = stream.Send(&ingestv1.IngestBatchRequest{Item: &ingestv1.IngestRequest{Source: "alertmanager", Payload: []byte(`{}`)}})
		_, err = stream.CloseAndReceive()
		require.Equal(t, connect.CodeUnauthenticated, connect.CodeOf(err), name)
	}
}

func TestDevAutoCreateTenants(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *gateway.Config) {
		c.DevAutoCreateTenants = true
		c.DevDefaultWebhookURL = "http://127.0.0.1:9/hook"
	})

	res, err := orchestratorv1connect.NewOrchestratorServiceClient(b.h2c, b.baseURL).
		ListIncidents(b.ctx, withToken(connect.NewRequest(&orchestratorv1.ListIncidentsRequest{}), b.issuer.Token(t, "newco")))
	require.NoError(t, err)
	require.Equal(t, "newco/user-1", res.Msg.GetNextPageToken())

	ok, err := provision.TenantExists(tenant.WithIdentity(b.ctx, tenant.Identity{Tenant: "newco"}), b.db.DB)
	require.NoError(t, err)
	require.True(t, ok)
}

func TestRequestLargerThanMaxBodyIsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *gateway.Config) { c.MaxBodyBytes = 1024 })

	_, err := ingestv1connect.NewIngestServiceClient(b.h2c, b.baseURL).
		Ingest(b.ctx, withToken(connect.NewRequest(&ingestv1.IngestRequest{Source: "alertmanager", Payload: bytes.Repeat([]byte("x"), 4096)}), b.issuer.Token(t, "acme")))
	require.Equal(t, connect.CodeResourceExhausted, connect.CodeOf(err), "%v", err)
}

func TestHealthAndReflectionNeedNoToken(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)

	hc := grpchealth.NewClient(b.h2c, b.baseURL, connect.WithGRPC())
	res, err := hc.Check(b.ctx, &grpchealth.CheckRequest{Service: ingestv1connect.IngestServiceName})
	require.NoError(t, err)
	require.Equal(t, grpchealth.StatusServing, res.Status)

	rc := grpcreflect.NewClient(b.h2c, b.baseURL, connect.WithGRPC())
	rs := rc.NewStream(b.ctx)
	names, err := rs.ListServices()
	require.NoError(t, err)
	_, err = rs.Close()
	require.NoError(t, err)
	got := make([]string, 0, len(names))
	for _, n := range names {
		got = append(got, string(n))
	}
	require.ElementsMatch(t, gateway.ServiceNames, got)
}

func TestWebhookRouteForwardsWithJWT(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)

	req, err := http.NewRequestWithContext(b.ctx, http.MethodPost, b.baseURL+"/v1/webhooks/alertmanager", strings.NewReader(`{"alerts":[]}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+b.issuer.Token(t, "acme"))
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusAccepted, res.StatusCode)
	var body struct {
		Results []struct {
			Title   string `json:"title"`
			Verdict string `json:"verdict"`
		} `json:"results"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&body))
	require.Len(t, body.Results, 1)
	require.Equal(t, "acme/user-1", body.Results[0].Title)
	require.Equal(t, "accepted", body.Results[0].Verdict)

	get, err := http.NewRequestWithContext(b.ctx, http.MethodGet, b.baseURL+"/v1/webhooks/alertmanager", nil)
	require.NoError(t, err)
	res2, err := http.DefaultClient.Do(get)
	require.NoError(t, err)
	res2.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, res2.StatusCode)
}

func TestCORSPreflight(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	preflight := func(origin string) http.Header {
		req, err := http.NewRequestWithContext(b.ctx, http.MethodOptions, b.baseURL+"/"+orchestratorv1connect.OrchestratorServiceName+"/ListIncidents", nil)
		require.NoError(t, err)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", http.MethodPost)
		// Browsers send the requested headers lower-cased and sorted (Fetch).
		req.Header.Set("Access-Control-Request-Headers", "authorization,connect-protocol-version,content-type")
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		return res.Header
	}

	h := preflight("https://dash.example.com")
	require.Equal(t, "https://dash.example.com", h.Get("Access-Control-Allow-Origin"))
	require.Contains(t, strings.ToLower(h.Get("Access-Control-Allow-Headers")), "authorization")
	require.Contains(t, h.Get("Access-Control-Allow-Methods"), http.MethodPost)

	h = preflight("https://evil.example.com")
	require.Empty(t, h.Get("Access-Control-Allow-Origin"))
	require.Empty(t, h.Get("Access-Control-Allow-Headers"))

	// An actual call from the allowed origin exposes the gRPC-Web status
	// headers to the page.
	req := withToken(connect.NewRequest(&orchestratorv1.ListIncidentsRequest{}), b.issuer.Token(t, "acme"))
	req.Header().Set("Origin", "https://dash.example.com")
	res, err := orchestratorv1connect.NewOrchestratorServiceClient(b.h2c, b.baseURL, connect.WithGRPCWeb()).ListIncidents(b.ctx, req)
	require.NoError(t, err)
	require.Contains(t, res.Header().Get("Access-Control-Expose-Headers"), "Grpc-Status")
}

func TestNoCORSWithoutOrigins(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *gateway.Config) { c.CORSAllowedOrigins = nil })

	req, err := http.NewRequestWithContext(b.ctx, http.MethodOptions, b.baseURL+"/"+orchestratorv1connect.OrchestratorServiceName+"/ListIncidents", nil)
	require.NoError(t, err)
	req.Header.Set("Origin", "https://dash.example.com")
	req.Header.Set("Access-Control-Request-Method", http.MethodPost)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Empty(t, res.Header.Get("Access-Control-Allow-Origin"))
}

func TestConfigValidateNamesBadField(t *testing.T) {
	t.Parallel()
	good := func() gateway.Config {
		c := gateway.DefaultConfig()
		c.Auth.JWKSURL, c.Auth.Issuer, c.Auth.Audience = "https://idp.test/jwks", "iss", "aud"
		return c
	}
	require.NoError(t, good().Validate())
	cases := map[string]func(*gateway.Config){
		"auth.issuer":             func(c *gateway.Config) { c.Auth.Issuer = "" },
		"cors_allowed_origins":    func(c *gateway.Config) { c.CORSAllowedOrigins = []string{"dash.example.com"} },
		"max_body_bytes":          func(c *gateway.Config) { c.MaxBodyBytes = 0 },
		"dev_default_webhook_url": func(c *gateway.Config) { c.DevDefaultWebhookURL = "not a url" },
		"tenant_cache_ttl":        func(c *gateway.Config) { c.TenantCacheTTL = -time.Second },
		"read_header_timeout":     func(c *gateway.Config) { c.ReadHeaderTimeout = 0 },
		"shutdown_timeout":        func(c *gateway.Config) { c.ShutdownTimeout = 0 },
	}
	for want, mutate := range cases {
		c := good()
		mutate(&c)
		require.ErrorContains(t, c.Validate(), want)
	}
}

func TestNewRequiresDeps(t *testing.T) {
	t.Parallel()
	cfg := gateway.DefaultConfig()
	cfg.Auth.JWKSURL, cfg.Auth.Issuer, cfg.Auth.Audience = "https://idp.test/jwks", "iss", "aud"
	_, err := gateway.New(cfg, gateway.Deps{})
	require.ErrorContains(t, err, "deps.DB")
}

// waitFor receives one value, failing the test if none arrives in a
// generous deadline (a hang guard, not a timing assertion).
func waitFor[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		t.Fatal(errors.New("nothing arrived within 30s"))
		var zero T
		return zero
	}
}
