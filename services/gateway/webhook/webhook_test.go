package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	ingestv1 "github.com/alexus-platform/alexus/gen/alexus/ingest/v1"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/gateway/auth"
	"github.com/alexus-platform/alexus/services/gateway/auth/authtest"
	"github.com/alexus-platform/alexus/services/gateway/planetest"
	"github.com/alexus-platform/alexus/services/gateway/webhook"
)

const maxBody = 4096

type bundle struct {
	ctx    context.Context
	issuer *authtest.Issuer
	db     *storetest.Bundle
	url    string // the alertmanager webhook URL
	base   string
	token  string // acme's integration token for alertmanager
	logs   *observer.ObservedLogs
	h      http.Handler
	log    *zap.Logger
	authn  *auth.Authenticator
}

// setup serves the handler over planetest's fake ingest; opts may change
// its deps.
func setup(t *testing.T, opts ...func(*webhook.Deps)) *bundle {
	t.Helper()
	ctx := context.Background()
	b := &bundle{ctx: ctx, issuer: authtest.NewIssuer(t), db: storetest.New(t)}
	acme := tenant.WithIdentity(ctx, tenant.Identity{Tenant: "acme", Subject: "test"})
	_, err := provision.EnsureTenant(acme, b.db.DB, provision.TenantOptions{})
	require.NoError(t, err)
	b.token, err = provision.CreateIntegrationToken(acme, b.db.DB, "alertmanager", "prod alertmanager")
	require.NoError(t, err)

	core, logs := observer.New(zapcore.DebugLevel)
	b.logs = logs
	log := zap.New(core)
	planes := planetest.Start(t)
	rctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	v, err := auth.NewVerifier(rctx, b.issuer.Config(), log)
	require.NoError(t, err)
	ts, err := auth.NewTenants(b.db.DB, auth.TenantsConfig{}, log)
	require.NoError(t, err)
	authn, err := auth.NewAuthenticator(v, ts, log)
	require.NoError(t, err)
	b.log, b.authn = log, authn
	deps := webhook.Deps{Log: log, Auth: authn, DB: b.db.DB, Ingest: planes.Ingest}
	for _, o := range opts {
		o(&deps)
	}
	h, err := webhook.New(webhook.Config{MaxBodyBytes: maxBody}, deps)
	require.NoError(t, err)

	mux := http.NewServeMux()
	mux.Handle(webhook.Pattern, h)
	b.h = mux
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	b.base = srv.URL + "/v1/webhooks/"
	b.url = b.base + "alertmanager"
	return b
}

type answer struct {
	status     int
	header     http.Header
	results    []webhook.Result
	err        webhook.ErrorBody
	rawBody    string
	retryAfter string
}

func (b *bundle) post(t *testing.T, url, authorization, contentType string, body io.Reader, extra http.Header) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(b.ctx, http.MethodPost, url, body)
	require.NoError(t, err)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, vs := range extra {
		req.Header[k] = vs
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	a := answer{status: res.StatusCode, header: res.Header, rawBody: string(raw), retryAfter: res.Header.Get("Retry-After")}
	require.Equal(t, "application/json", res.Header.Get("Content-Type"), "every answer is JSON: %s", raw)
	if res.StatusCode == http.StatusAccepted {
		var ok webhook.Response
		require.NoError(t, json.Unmarshal(raw, &ok))
		a.results = ok.Results
	} else {
		require.NoError(t, json.Unmarshal(raw, &a.err))
		require.NotEmpty(t, a.err.Error)
		require.NotEmpty(t, a.err.Code)
	}
	return a
}

func (b *bundle) postJSON(t *testing.T, authorization string, payload []byte) answer {
	return b.post(t, b.url, authorization, "application/json", bytes.NewReader(payload), nil)
}

// requireNoTokenInLogs fails when any logged message or field contains tok.
func (b *bundle) requireNoTokenInLogs(t *testing.T, tok string) {
	t.Helper()
	for _, e := range b.logs.All() {
		require.NotContains(t, e.Message, tok)
		for k, v := range e.ContextMap() {
			require.NotContains(t, k+"="+toString(v), tok)
		}
	}
}

func toString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestWebhookAcceptsTenantJWT(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok := b.issuer.Token(t, "acme")

	a := b.post(t, b.url, "Bearer "+tok, "application/json; charset=utf-8", strings.NewReader(`{"version":"4"}`), http.Header{
		"User-Agent":      {"Alertmanager/0.27"},
		"X-Grafana-Org":   {"1"},
		"Cookie":          {"session=secret"},
		"X-Random-Header": {"dropped"},
	})
	require.Equal(t, http.StatusAccepted, a.status, a.rawBody)
	require.Equal(t, []webhook.Result{{
		SignalID:    "sig-alertmanager",
		Fingerprint: "content-type,user-agent,x-grafana-org", // the headers ingest received
		Verdict:     "accepted",
		Title:       "acme/user-1",
	}}, a.results)
	b.requireNoTokenInLogs(t, tok)
}

func TestWebhookAcceptsIntegrationToken(t *testing.T) {
	t.Parallel()
	b := setup(t)

	a := b.postJSON(t, "Bearer "+b.token, []byte(`{"version":"4"}`))
	require.Equal(t, http.StatusAccepted, a.status, a.rawBody)
	require.Equal(t, "acme/integration:alertmanager", a.results[0].Title)
	b.requireNoTokenInLogs(t, b.token)
}

func TestWebhookIntegrationTokenForAnotherSourceIsForbidden(t *testing.T) {
	t.Parallel()
	b := setup(t)

	a := b.post(t, b.base+"grafana", "Bearer "+b.token, "application/json", strings.NewReader(`{}`), nil)
	require.Equal(t, http.StatusForbidden, a.status)
	require.Equal(t, "permission_denied", a.err.Code)
	require.Contains(t, a.err.Error, `"alertmanager", not "grafana"`)
}

func TestWebhookRefusesMissingOrInvalidAuth(t *testing.T) {
	t.Parallel()
	b := setup(t)

	for name, authz := range map[string]string{
		"none":                 "",
		"basic":                "Basic YWxhZGRpbjpvcGVuc2VzYW1l",
		"empty bearer":         "Bearer ",
		"bad jwt":              "Bearer eyJhbGciOiJub25lIn0.e30.",
		"unknown integration":  "Bearer " + provision.TokenPrefix + "thisTokenWasNeverIssued",
		"token of wrong shape": "Bearer " + strings.TrimPrefix(b.token, provision.TokenPrefix),
	} {
		a := b.postJSON(t, authz, []byte(`{}`))
		require.Equal(t, http.StatusUnauthorized, a.status, name)
		require.Equal(t, "unauthenticated", a.err.Code, name)
		require.NotEmpty(t, a.header.Get("WWW-Authenticate"), name)
		require.NotContains(t, a.rawBody, strings.TrimPrefix(b.token, provision.TokenPrefix), name)
	}
	b.requireNoTokenInLogs(t, strings.TrimPrefix(b.token, provision.TokenPrefix))
}

func TestWebhookRevokedIntegrationTokenIsUnauthorized(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.Equal(t, http.StatusAccepted, b.postJSON(t, "Bearer "+b.token, []byte(`{}`)).status)

	acme := tenant.WithIdentity(b.ctx, tenant.Identity{Tenant: "acme"})
	require.NoError(t, b.db.DB.WithTenant(acme, func(tx pgx.Tx) error {
		_, err := tx.Exec(acme, `UPDATE integration_tokens SET revoked_at = now()`)
		return err
	}))

	a := b.postJSON(t, "Bearer "+b.token, []byte(`{}`))
	require.Equal(t, http.StatusUnauthorized, a.status)
	require.Equal(t, "unknown or revoked integration token", a.err.Error)
}

func TestWebhookUnknownTenantIsForbidden(t *testing.T) {
	t.Parallel()
	b := setup(t)

	a := b.postJSON(t, "Bearer "+b.issuer.Token(t, "ghost"), []byte(`{}`))
	require.Equal(t, http.StatusForbidden, a.status)
	require.Equal(t, webhook.ErrorBody{Error: "tenant ghost is not provisioned", Code: "permission_denied"}, a.err)
}

func TestWebhookCallerCancellationIsNotAnOutage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// Served in-process so the request's own context can be ended before
	// the tenant is checked, as when a vendor hangs up.
	ctx, cancel := context.WithCancel(b.ctx)
	cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, b.url, strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer "+b.issuer.Token(t, "acme"))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	b.h.ServeHTTP(rec, req)

	require.Equal(t, 499, rec.Code, rec.Body.String())
	var body webhook.ErrorBody
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	require.Equal(t, "canceled", body.Code)
	require.Empty(t, rec.Header().Get("Retry-After"))
	require.Zero(t, b.logs.FilterLevelExact(zapcore.ErrorLevel).Len(), "a hang-up is not logged as a failure")
}

func TestWebhookChecksBody(t *testing.T) {
	t.Parallel()
	b := setup(t)
	authz := "Bearer " + b.token

	a := b.post(t, b.url, authz, "text/plain", strings.NewReader(`{}`), nil)
	require.Equal(t, http.StatusUnsupportedMediaType, a.status)
	a = b.post(t, b.url, authz, "", strings.NewReader(`{}`), nil)
	require.Equal(t, http.StatusUnsupportedMediaType, a.status)
	a = b.post(t, b.url, authz, "application/jsonx", strings.NewReader(`{}`), nil)
	require.Equal(t, http.StatusUnsupportedMediaType, a.status)

	big := bytes.Repeat([]byte("x"), maxBody+1)
	a = b.postJSON(t, authz, big)
	require.Equal(t, http.StatusRequestEntityTooLarge, a.status)
	// Without a Content-Length the cap is enforced while reading.
	a = b.post(t, b.url, authz, "application/json", io.MultiReader(bytes.NewReader(big)), nil)
	require.Equal(t, http.StatusRequestEntityTooLarge, a.status)

	a = b.postJSON(t, authz, nil)
	require.Equal(t, http.StatusBadRequest, a.status)
	require.Equal(t, "body is empty", a.err.Error)

	a = b.post(t, b.base+"Not_A_Source", "Bearer "+b.issuer.Token(t, "acme"), "application/json", strings.NewReader(`{}`), nil)
	require.Equal(t, http.StatusBadRequest, a.status)
	require.Equal(t, "invalid_argument", a.err.Code)
}

func TestWebhookMapsIngestErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	authz := "Bearer " + b.token

	cases := []struct {
		code       codes.Code
		retry      int
		status     int
		name       string
		retryAfter string
	}{
		{codes.InvalidArgument, 0, http.StatusBadRequest, "invalid_argument", ""},
		{codes.Unauthenticated, 0, http.StatusUnauthorized, "unauthenticated", ""},
		{codes.PermissionDenied, 0, http.StatusForbidden, "permission_denied", ""},
		{codes.NotFound, 0, http.StatusNotFound, "not_found", ""},
		{codes.FailedPrecondition, 0, http.StatusUnprocessableEntity, "failed_precondition", ""},
		{codes.ResourceExhausted, 0, http.StatusTooManyRequests, "resource_exhausted", "1"},
		{codes.ResourceExhausted, 7, http.StatusTooManyRequests, "resource_exhausted", "7"},
		{codes.Unavailable, 0, http.StatusServiceUnavailable, "unavailable", "5"},
		{codes.Internal, 0, http.StatusBadGateway, "internal", ""},
		{codes.DeadlineExceeded, 0, http.StatusBadGateway, "deadline_exceeded", ""},
	}
	for _, c := range cases {
		a := b.postJSON(t, authz, planetest.FailPayload(c.code, c.retry))
		require.Equal(t, c.status, a.status, c.code.String())
		require.Equal(t, c.name, a.err.Code, c.code.String())
		require.Equal(t, c.retryAfter, a.retryAfter, c.code.String())
	}
}

// refusingIngest answers every Ingest with err.
type refusingIngest struct {
	ingestv1.IngestServiceClient
	err error
}

func (r refusingIngest) Ingest(context.Context, *ingestv1.IngestRequest, ...grpc.CallOption) (*ingestv1.IngestResponse, error) {
	return nil, r.err
}

// refusal builds the status ingest answers when a limit turns a call away.
func refusal(t *testing.T, reason, domain string, retry time.Duration) error {
	t.Helper()
	st, err := status.New(codes.ResourceExhausted, reason+": refused").WithDetails(
		&errdetails.ErrorInfo{Reason: reason, Domain: domain},
		&errdetails.RetryInfo{RetryDelay: durationpb.New(retry)},
	)
	require.NoError(t, err)
	return st.Err()
}

func TestWebhookMapsIngestRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)

	cases := []struct {
		name       string
		err        error
		status     int
		reason     string
		retryAfter string
	}{
		{"rate limited", refusal(t, "RATE_LIMITED", "alexus.ingest", 1500*time.Millisecond), http.StatusTooManyRequests, "RATE_LIMITED", "2"},
		{"rate limited for a few ms", refusal(t, "RATE_LIMITED", "alexus.ingest", 2*time.Millisecond), http.StatusTooManyRequests, "RATE_LIMITED", "1"},
		{"replica busy", refusal(t, "INGEST_BUSY", "alexus.ingest", time.Second), http.StatusServiceUnavailable, "INGEST_BUSY", "1"},
		{"tenant busy", refusal(t, "TENANT_BUSY", "alexus.ingest", 3*time.Second), http.StatusServiceUnavailable, "TENANT_BUSY", "3"},
		{"zero delay", refusal(t, "TENANT_BUSY", "alexus.ingest", 0), http.StatusServiceUnavailable, "TENANT_BUSY", "1"},
		{"another domain's reason", refusal(t, "INGEST_BUSY", "example.com", 4*time.Second), http.StatusTooManyRequests, "", "4"},
	}
	for _, c := range cases {
		h, err := webhook.New(webhook.Config{MaxBodyBytes: maxBody}, webhook.Deps{Log: b.log, Auth: b.authn, DB: b.db.DB, Ingest: refusingIngest{err: c.err}})
		require.NoError(t, err)
		req := httptest.NewRequestWithContext(b.ctx, http.MethodPost, b.url, strings.NewReader(`{}`))
		req.Header.Set("Authorization", "Bearer "+b.token)
		req.Header.Set("Content-Type", "application/json")
		req.SetPathValue("source", "alertmanager")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		require.Equal(t, c.status, rec.Code, c.name)
		require.Equal(t, c.retryAfter, rec.Header().Get("Retry-After"), c.name)
		require.Equal(t, "application/json", rec.Header().Get("Content-Type"), c.name)
		var body webhook.ErrorBody
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), c.name)
		require.Equal(t, "resource_exhausted", body.Code, c.name)
		require.Equal(t, c.reason, body.Reason, c.name)
		require.NotEmpty(t, body.Error, c.name)
		if c.reason != "" {
			require.Contains(t, rec.Body.String(), `"reason":"`+c.reason+`"`, c.name)
		}
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	_, err := webhook.New(webhook.Config{}, webhook.Deps{})
	require.ErrorContains(t, err, "max body bytes")
	_, err = webhook.New(webhook.Config{MaxBodyBytes: 1}, webhook.Deps{})
	require.ErrorContains(t, err, "required")
}
