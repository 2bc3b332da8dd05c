package modelsettings_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
	"github.com/alexus-platform/alexus/internal/llm"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/secretbox"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/orchestrator/reasoning/modelsettings"
)

// acmeKey is acme's API key; it must never be stored in the clear or
// appear in an error.
const acmeKey = "sk-acme-3c1f9e2a7b6d4e5f8a9b0c1dsecret"

// bundle is one test's store on its own database, with two tenants.
type bundle struct {
	db           *store.DB
	admin        *pgxpool.Pool
	keys         *secretbox.Keyring
	s            *modelsettings.Store
	acme, globex context.Context
}

func setup(t *testing.T) *bundle {
	t.Helper()
	tb := storetest.New(t)
	admin, err := pgxpool.New(context.Background(), tb.AdminURL)
	require.NoError(t, err)
	t.Cleanup(admin.Close)
	key, err := secretbox.GenerateKey()
	require.NoError(t, err)
	keys, err := secretbox.ParseKeyring("k1:" + key)
	require.NoError(t, err)
	as := func(id tenant.ID) context.Context {
		return tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: id, Subject: "test"})
	}
	b := &bundle{db: tb.DB, admin: admin, keys: keys, s: modelsettings.New(tb.DB, keys, nil), acme: as("acme"), globex: as("globex")}
	for _, ctx := range []context.Context{b.acme, b.globex} {
		_, err := provision.EnsureTenant(ctx, tb.DB, provision.TenantOptions{})
		require.NoError(t, err)
	}
	return b
}

func (b *bundle) get(t *testing.T, ctx context.Context) modelsettings.Settings {
	t.Helper()
	s, err := b.s.Get(ctx)
	require.NoError(t, err)
	return s
}

func (b *bundle) usage(t *testing.T, ctx context.Context) int64 {
	t.Helper()
	n, err := b.s.Usage(ctx)
	require.NoError(t, err)
	return n
}

// sealedKey reads tenant id's stored key as the admin, past RLS.
func (b *bundle) sealedKey(t *testing.T, id string) []byte {
	t.Helper()
	var sealed []byte
	require.NoError(t, b.admin.QueryRow(context.Background(), `SELECT api_key FROM tenant_llm_settings WHERE tenant_id = $1`, id).Scan(&sealed))
	return sealed
}

func TestSettingsRoundTrip(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.Equal(t, modelsettings.Settings{}, b.get(t, b.acme), "a tenant that set nothing has zero settings")

	require.NoError(t, b.s.Set(b.acme, &reasoningv1.SetModelSettingsRequest{
		Model: "gpt-4o", ApiKey: acmeKey, TimeoutMs: 15000, MonthlyTokenBudget: 2_000_000,
	}))
	want := modelsettings.Settings{Model: "gpt-4o", APIKey: acmeKey, Timeout: 15 * time.Second, MonthlyBudget: 2_000_000}
	require.Equal(t, want, b.get(t, b.acme))
	require.NotContains(t, want.String(), acmeKey, "printing settings leaves the key out")

	// A fresh store (another replica) reads the same from Postgres.
	other := modelsettings.New(b.db, b.keys, nil)
	got, err := other.Get(b.acme)
	require.NoError(t, err)
	require.Equal(t, want, got)

	// An empty key keeps the stored one; the other fields are replaced.
	require.NoError(t, b.s.Set(b.acme, &reasoningv1.SetModelSettingsRequest{Model: "llama3.1:70b"}))
	require.Equal(t, modelsettings.Settings{Model: "llama3.1:70b", APIKey: acmeKey}, b.get(t, b.acme))
}

// The key is stored sealed: the raw bytes hold no trace of it, and they
// open only for the tenant that sealed them.
func TestKeySealedAtRest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.NoError(t, b.s.Set(b.acme, &reasoningv1.SetModelSettingsRequest{ApiKey: acmeKey}))
	sealed := b.sealedKey(t, "acme")
	require.NotEmpty(t, sealed)
	require.False(t, bytes.Contains(sealed, []byte(acmeKey)), "the key is not stored in the clear")
	require.False(t, bytes.Contains(sealed, []byte("3c1f9e2a7b6d")), "nor any recognisable part of it")

	// Acme's blob copied into globex's row does not open as globex's key.
	_, err := b.admin.Exec(context.Background(), `
		INSERT INTO tenant_llm_settings (tenant_id, api_key) VALUES ('globex', $1)`, sealed)
	require.NoError(t, err)
	_, err = modelsettings.New(b.db, b.keys, nil).Get(b.globex)
	require.ErrorIs(t, err, secretbox.ErrDecrypt)
	require.NotContains(t, err.Error(), acmeKey)

	// A replica without the key ring cannot open it either, and says why.
	_, err = modelsettings.New(b.db, nil, nil).Get(b.acme)
	require.ErrorIs(t, err, modelsettings.ErrNoKeyring)
	require.Contains(t, err.Error(), "ALEXUS_SECRET_KEYS")
}

func TestClearKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.NoError(t, b.s.Set(b.acme, &reasoningv1.SetModelSettingsRequest{Model: "gpt-4o", ApiKey: acmeKey}))
	require.NoError(t, b.s.Set(b.acme, &reasoningv1.SetModelSettingsRequest{Model: "gpt-4o", ClearApiKey: true}))
	require.Equal(t, modelsettings.Settings{Model: "gpt-4o"}, b.get(t, b.acme))
	require.Nil(t, b.sealedKey(t, "acme"), "the sealed key is gone from the row")

	// Clearing works without a key ring: nothing needs sealing.
	require.NoError(t, modelsettings.New(b.db, nil, nil).Set(b.acme, &reasoningv1.SetModelSettingsRequest{ClearApiKey: true}))
}

func TestSetWithoutKeyring(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := modelsettings.New(b.db, nil, nil)
	err := s.Set(b.acme, &reasoningv1.SetModelSettingsRequest{Model: "gpt-4o", ApiKey: acmeKey})
	require.ErrorIs(t, err, modelsettings.ErrNoKeyring)
	require.Contains(t, err.Error(), "ALEXUS_SECRET_KEYS")
	require.NotContains(t, err.Error(), acmeKey)
	got, err := s.Get(b.acme)
	require.NoError(t, err)
	require.Equal(t, modelsettings.Settings{}, got, "nothing was stored")

	// Settings without a key need no key ring.
	require.NoError(t, s.Set(b.acme, &reasoningv1.SetModelSettingsRequest{Model: "gpt-4o", TimeoutMs: 1000}))
}

func TestSetValidation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tc := range []struct {
		name  string
		req   *reasoningv1.SetModelSettingsRequest
		field string
	}{
		{"no request", nil, "no settings"},
		{"model with a space", &reasoningv1.SetModelSettingsRequest{Model: "gpt 4o"}, "model"},
		{"model too long", &reasoningv1.SetModelSettingsRequest{Model: strings.Repeat("m", 257)}, "model"},
		{"key with a newline", &reasoningv1.SetModelSettingsRequest{ApiKey: acmeKey + "\nX-Evil: 1"}, "api_key"},
		{"key too long", &reasoningv1.SetModelSettingsRequest{ApiKey: strings.Repeat("k", 4097)}, "api_key"},
		{"key and clear", &reasoningv1.SetModelSettingsRequest{ApiKey: acmeKey, ClearApiKey: true}, "clear_api_key"},
		{"negative timeout", &reasoningv1.SetModelSettingsRequest{TimeoutMs: -1}, "timeout_ms"},
		{"timeout too long", &reasoningv1.SetModelSettingsRequest{TimeoutMs: 120001}, "timeout_ms"},
		{"negative budget", &reasoningv1.SetModelSettingsRequest{MonthlyTokenBudget: -5}, "monthly_token_budget"},
	} {
		err := b.s.Set(b.acme, tc.req)
		require.ErrorIs(t, err, modelsettings.ErrInvalid, tc.name)
		require.Contains(t, err.Error(), tc.field, tc.name)
		require.NotContains(t, err.Error(), acmeKey, tc.name)
	}
	require.Equal(t, modelsettings.Settings{}, b.get(t, b.acme), "nothing was stored")

	// The bounds themselves are valid.
	require.NoError(t, b.s.Set(b.acme, &reasoningv1.SetModelSettingsRequest{
		Model: "org/model-1.5:latest@v2", ApiKey: strings.Repeat("k", 4096), TimeoutMs: 120000,
	}))
}

func TestUsageAndBudget(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.Zero(t, b.usage(t, b.acme))
	require.NoError(t, b.s.Allow(b.acme, "acme"), "no budget: always allowed")

	b.s.Record(b.acme, "acme", llm.Usage{PromptTokens: 300, CompletionTokens: 50, TotalTokens: 350})
	b.s.Record(b.acme, "acme", llm.Usage{PromptTokens: 100, CompletionTokens: 20})
	require.EqualValues(t, 470, b.usage(t, b.acme))
	var calls int64
	require.NoError(t, b.admin.QueryRow(context.Background(), `SELECT calls FROM tenant_llm_usage WHERE tenant_id = 'acme'`).Scan(&calls))
	require.EqualValues(t, 2, calls)

	require.NoError(t, b.s.Set(b.acme, &reasoningv1.SetModelSettingsRequest{MonthlyTokenBudget: 500}))
	require.NoError(t, b.s.Allow(b.acme, "acme"), "470 of 500 tokens used")
	b.s.Record(b.acme, "acme", llm.Usage{PromptTokens: 25, CompletionTokens: 5})
	err := b.s.Allow(b.acme, "acme")
	require.ErrorIs(t, err, modelsettings.ErrBudgetSpent, "500 of 500 tokens used")
	require.Contains(t, err.Error(), "500 of 500")

	// Raising the budget lets calls through again at once on this replica.
	require.NoError(t, b.s.Set(b.acme, &reasoningv1.SetModelSettingsRequest{MonthlyTokenBudget: 10_000}))
	require.NoError(t, b.s.Allow(b.acme, "acme"))
}

// Canceling the caller does not lose the tokens it spent.
func TestRecordOutlivesTheCaller(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, cancel := context.WithCancel(b.acme)
	cancel()
	b.s.Record(ctx, "acme", llm.Usage{PromptTokens: 10, CompletionTokens: 2})
	require.EqualValues(t, 12, b.usage(t, b.acme))
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.NoError(t, b.s.Set(b.acme, &reasoningv1.SetModelSettingsRequest{Model: "gpt-4o", ApiKey: acmeKey, MonthlyTokenBudget: 100}))
	b.s.Record(b.acme, "acme", llm.Usage{PromptTokens: 100, CompletionTokens: 20})

	require.Equal(t, modelsettings.Settings{}, b.get(t, b.globex), "globex sees none of acme's settings")
	require.Zero(t, b.usage(t, b.globex), "nor its token use")
	require.NoError(t, b.s.Allow(b.globex, "globex"), "nor is it held to acme's budget")
	require.ErrorIs(t, b.s.Allow(b.acme, "acme"), modelsettings.ErrBudgetSpent)

	// The client's tenant must be the context's: no tenant is billed or
	// checked on another's behalf.
	b.s.Record(b.globex, "acme", llm.Usage{PromptTokens: 1000})
	require.EqualValues(t, 120, b.usage(t, b.acme))
	require.Zero(t, b.usage(t, b.globex))
	require.Error(t, b.s.Allow(b.globex, "acme"))

	// Without a verified tenant nothing is read.
	_, err := b.s.Get(context.Background())
	require.Error(t, err)
	_, err = b.s.Usage(context.Background())
	require.Error(t, err)
}
