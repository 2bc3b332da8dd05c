package reasoning_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
	"github.com/alexus-platform/alexus/internal/llm"
	"github.com/alexus-platform/alexus/internal/llm/llmtest"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/secretbox"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/orchestrator/reasoning"
	"github.com/alexus-platform/alexus/services/orchestrator/reasoning/modelsettings"
)

// The deployment's model and key, and acme's own.
const (
	deploymentModel = "triage-model"
	deploymentKey   = "sk-deployment-0a1b2c3d4e5f"
	acmeModelKey    = "sk-acme-own-9f8e7d6c5b4a3921"
)

// settingsBundle is one test's database with tenants acme and globex, a
// fake model server, and a handler whose model client is metered by the
// tenants' model settings, as the orchestrator wires them.
type settingsBundle struct {
	db           *store.DB
	keys         *secretbox.Keyring
	srv          *llmtest.Server
	h            *reasoning.Handler
	acme, globex context.Context
}

func settingsCtx(id tenant.ID) context.Context {
	return tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: id, Subject: "test"})
}

// setupSettings answers classification requests with a confident incident
// and diagnosis requests with a diagnosis citing the alert, or hangs when
// hang is set.
func setupSettings(t *testing.T, hang bool) *settingsBundle {
	t.Helper()
	db := storetest.New(t).DB
	key, err := secretbox.GenerateKey()
	require.NoError(t, err)
	keys, err := secretbox.ParseKeyring("k1:" + key)
	require.NoError(t, err)
	b := &settingsBundle{db: db, keys: keys, acme: settingsCtx("acme"), globex: settingsCtx("globex")}
	for _, ctx := range []context.Context{b.acme, b.globex} {
		_, err := provision.EnsureTenant(ctx, db, provision.TenantOptions{})
		require.NoError(t, err)
	}
	b.srv = llmtest.New(t, func(_ int, req llmtest.Request) llmtest.Reply {
		switch {
		case hang:
			return llmtest.Reply{Hang: true}
		case strings.Contains(string(req.ResponseFormat), `"diagnosis"`):
			return llmtest.JSON(map[string]any{
				"probable_cause": "checkout's last deploy broke its payment calls",
				"evidence":       []any{map[string]any{"document_id": "signal:" + modelSignal().GetId(), "summary": "5xx above 5%"}},
				"action":         nil, "runbook": "", "confidence": 0.7,
			})
		}
		return llmtest.JSON(map[string]any{"intent": "incident", "severity": "error", "confidence": 0.9, "rationale": "checkout is failing"})
	})
	b.h = b.handler(t, modelsettings.New(db, keys, nil))
	return b
}

// handler returns a handler over b's model server with settings s.
func (b *settingsBundle) handler(t *testing.T, s *modelsettings.Store) *reasoning.Handler {
	t.Helper()
	m, err := llm.New(llm.Config{
		BaseURL: b.srv.BaseURL(), Model: deploymentModel, APIKey: deploymentKey,
		Timeout: 5 * time.Second, MaxRetries: 1,
		InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond, MaxRetryAfter: time.Millisecond,
		Meter: s,
	})
	require.NoError(t, err)
	h, err := reasoning.NewHandler(reasoning.Options{
		Rules: reasoning.FixedThresholds(defaultThresholds), Model: m, Catalogue: testCatalogue,
		Settings: s, StageBudget: 10 * time.Second,
	})
	require.NoError(t, err)
	return h
}

func (b *settingsBundle) set(t *testing.T, ctx context.Context, req *reasoningv1.SetModelSettingsRequest) *reasoningv1.ModelSettings {
	t.Helper()
	resp, err := b.h.SetModelSettings(ctx, req)
	require.NoError(t, err)
	return resp.GetSettings()
}

func (b *settingsBundle) get(t *testing.T, ctx context.Context) *reasoningv1.ModelSettings {
	t.Helper()
	resp, err := b.h.GetModelSettings(ctx, &reasoningv1.GetModelSettingsRequest{})
	require.NoError(t, err)
	return resp.GetSettings()
}

func (b *settingsBundle) classify(t *testing.T, ctx context.Context) *reasoningv1.Classification {
	t.Helper()
	resp, err := b.h.ClassifyIncident(ctx, &reasoningv1.ClassifyIncidentRequest{Signal: modelSignal()})
	require.NoError(t, err, "a model or settings fault is never the caller's failure")
	return resp.GetClassification()
}

// lastRequest is the last request the model server received.
func (b *settingsBundle) lastRequest(t *testing.T) llmtest.Request {
	t.Helper()
	reqs := b.srv.Requests()
	require.NotEmpty(t, reqs)
	return reqs[len(reqs)-1]
}

// A tenant's own model and key are what its calls send, in every stage;
// another tenant's calls use the deployment's.
func TestTenantModelSettingsApplyToItsCalls(t *testing.T) {
	t.Parallel()
	b := setupSettings(t, false)
	got := b.set(t, b.acme, &reasoningv1.SetModelSettingsRequest{Model: "acme-model", ApiKey: acmeModelKey, TimeoutMs: 20000})
	require.Equal(t, "acme-model", got.GetModel())
	require.True(t, got.GetApiKeySet())
	require.EqualValues(t, 20000, got.GetTimeoutMs())
	require.Equal(t, "acme-model", got.GetEffectiveModel())
	require.True(t, got.GetModelConfigured())
	require.NotContains(t, got.String(), acmeModelKey, "the key is never returned")

	c := b.classify(t, b.acme)
	require.Equal(t, reasoningv1.Path_PATH_MODEL, c.GetPath(), c.GetFallbackReason())
	require.Equal(t, "acme-model", c.GetModelCall().GetModel())
	r := b.lastRequest(t)
	require.Equal(t, "acme-model", r.Model)
	require.Equal(t, "Bearer "+acmeModelKey, r.Authorization)

	d, err := b.h.Diagnose(b.acme, &reasoningv1.DiagnoseRequest{Signal: modelSignal(), Classification: c})
	require.NoError(t, err)
	require.Equal(t, reasoningv1.Path_PATH_MODEL, d.GetDiagnosis().GetPath(), d.GetDiagnosis().GetFallbackReason())
	r = b.lastRequest(t)
	require.Equal(t, "acme-model", r.Model)
	require.Equal(t, "Bearer "+acmeModelKey, r.Authorization)

	require.Equal(t, reasoningv1.Path_PATH_MODEL, b.classify(t, b.globex).GetPath())
	r = b.lastRequest(t)
	require.Equal(t, deploymentModel, r.Model, "globex set nothing: the deployment's model")
	require.Equal(t, "Bearer "+deploymentKey, r.Authorization)
	g := b.get(t, b.globex)
	require.Empty(t, g.GetModel())
	require.False(t, g.GetApiKeySet())
	require.Equal(t, deploymentModel, g.GetEffectiveModel())

	// Clearing the key and the model puts acme back on the deployment's.
	got = b.set(t, b.acme, &reasoningv1.SetModelSettingsRequest{ClearApiKey: true})
	require.False(t, got.GetApiKeySet())
	require.Equal(t, deploymentModel, got.GetEffectiveModel())
	b.classify(t, b.acme)
	r = b.lastRequest(t)
	require.Equal(t, deploymentModel, r.Model)
	require.Equal(t, "Bearer "+deploymentKey, r.Authorization)
}

// A tenant past its monthly budget falls back before anything is sent,
// saying why; its token use is what GetModelSettings reports, and another
// tenant is unaffected.
func TestTenantOverBudgetFallsBack(t *testing.T) {
	t.Parallel()
	b := setupSettings(t, false)
	b.set(t, b.acme, &reasoningv1.SetModelSettingsRequest{MonthlyTokenBudget: 100})

	c := b.classify(t, b.acme)
	require.Equal(t, reasoningv1.Path_PATH_MODEL, c.GetPath(), "0 of 100 tokens used")
	used := int64(c.GetModelCall().GetPromptTokens() + c.GetModelCall().GetCompletionTokens())
	require.EqualValues(t, 120, used, "llmtest reports 100 prompt and 20 completion tokens")
	s := b.get(t, b.acme)
	require.Equal(t, used, s.GetTokensUsedThisMonth())
	require.EqualValues(t, 100, s.GetMonthlyTokenBudget())
	require.Len(t, b.srv.Requests(), 1)

	c = b.classify(t, b.acme)
	require.Equal(t, reasoningv1.Path_PATH_HEURISTIC, c.GetPath())
	require.Contains(t, c.GetFallbackReason(), "budget")
	require.Nil(t, c.GetModelCall())
	require.Len(t, b.srv.Requests(), 1, "nothing was sent for a tenant over its budget")
	require.Equal(t, used, b.get(t, b.acme).GetTokensUsedThisMonth(), "a refused call costs nothing")

	require.Equal(t, reasoningv1.Path_PATH_MODEL, b.classify(t, b.globex).GetPath(), "globex has no budget")
	require.Equal(t, used, b.get(t, b.acme).GetTokensUsedThisMonth(), "acme is not billed for globex's call")
	require.EqualValues(t, 120, b.get(t, b.globex).GetTokensUsedThisMonth())
}

// A tenant's own timeout bounds its model requests.
func TestTenantTimeoutBoundsItsCalls(t *testing.T) {
	t.Parallel()
	b := setupSettings(t, true)
	b.set(t, b.acme, &reasoningv1.SetModelSettingsRequest{TimeoutMs: 100})
	start := time.Now()
	c := b.classify(t, b.acme)
	require.Equal(t, reasoningv1.Path_PATH_HEURISTIC, c.GetPath())
	require.Contains(t, c.GetFallbackReason(), "timed out")
	require.Less(t, time.Since(start), 3*time.Second, "two 100ms attempts, not the deployment's 5s")
	require.Len(t, b.srv.Requests(), 2)
}

// A tenant's settings that cannot be read (here a sealed key on a replica
// without the key ring) send its stages to the heuristic with the reason,
// never to the caller as a failure, and nothing is sent.
func TestUnreadableSettingsFallBack(t *testing.T) {
	t.Parallel()
	b := setupSettings(t, false)
	b.set(t, b.acme, &reasoningv1.SetModelSettingsRequest{Model: "acme-model", ApiKey: acmeModelKey})
	h := b.handler(t, modelsettings.New(b.db, nil, nil))

	resp, err := h.ClassifyIncident(b.acme, &reasoningv1.ClassifyIncidentRequest{Signal: modelSignal()})
	require.NoError(t, err)
	c := resp.GetClassification()
	require.Equal(t, reasoningv1.Path_PATH_HEURISTIC, c.GetPath())
	require.Contains(t, c.GetFallbackReason(), "model settings could not be read")
	require.Contains(t, c.GetFallbackReason(), "ALEXUS_SECRET_KEYS")
	require.NotContains(t, c.GetFallbackReason(), acmeModelKey)

	d, err := h.Diagnose(b.acme, &reasoningv1.DiagnoseRequest{Signal: modelSignal(), Classification: incidentClass})
	require.NoError(t, err)
	require.Equal(t, reasoningv1.Path_PATH_HEURISTIC, d.GetDiagnosis().GetPath())
	require.Contains(t, d.GetDiagnosis().GetFallbackReason(), "model settings could not be read")
	require.Empty(t, b.srv.Requests())

	// The API says what is missing.
	_, err = h.GetModelSettings(b.acme, &reasoningv1.GetModelSettingsRequest{})
	require.Equal(t, codes.FailedPrecondition, status.Code(err), err)
}

func TestModelSettingsErrors(t *testing.T) {
	t.Parallel()
	b := setupSettings(t, false)
	for _, req := range []*reasoningv1.SetModelSettingsRequest{
		{Model: "gpt 4o"},
		{ApiKey: acmeModelKey, ClearApiKey: true},
		{TimeoutMs: 120001},
		{MonthlyTokenBudget: -1},
	} {
		_, err := b.h.SetModelSettings(b.acme, req)
		require.Equal(t, codes.InvalidArgument, status.Code(err), "%v: %v", req, err)
		require.NotContains(t, err.Error(), acmeModelKey)
	}

	// Without a key ring a key cannot be stored; other settings can.
	h := b.handler(t, modelsettings.New(b.db, nil, nil))
	_, err := h.SetModelSettings(b.acme, &reasoningv1.SetModelSettingsRequest{ApiKey: acmeModelKey})
	require.Equal(t, codes.FailedPrecondition, status.Code(err), err)
	require.Contains(t, err.Error(), "ALEXUS_SECRET_KEYS")
	require.NotContains(t, err.Error(), acmeModelKey)
	_, err = h.SetModelSettings(b.acme, &reasoningv1.SetModelSettingsRequest{Model: "acme-model"})
	require.NoError(t, err)

	// A handler without tenant settings says so, and needs a tenant first.
	plain, err := reasoning.NewHandler(reasoning.Options{Rules: reasoning.FixedThresholds(defaultThresholds)})
	require.NoError(t, err)
	_, err = plain.GetModelSettings(b.acme, &reasoningv1.GetModelSettingsRequest{})
	require.Equal(t, codes.FailedPrecondition, status.Code(err), err)
	_, err = b.h.GetModelSettings(context.Background(), &reasoningv1.GetModelSettingsRequest{})
	require.Error(t, err)
}
