package modelsettings

import (
	"context"
	"errors"
	"fmt"
	"github.com/alexus-platform/alexus/internal/audit"
	"regexp"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"

	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
	"github.com/alexus-platform/alexus/internal/llm"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/secretbox"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/internal/tenantcache"
)

// EventSet audits a change of a tenant's model settings.
const EventSet = "model_settings.set"

// KeyPurpose binds sealed model API keys to their use.
const KeyPurpose = provision.LLMKeyPurpose

// keyRecord names the row a sealed key lives in: the tenant's only row of
// tenant_llm_settings.
const keyRecord = provision.LLMKeyRecord

// CacheTTL is how long a replica keeps a tenant's settings before reading
// them again.
const CacheTTL = 5 * time.Second

// Limits of a SetModelSettingsRequest, as the API and the migration state
// them.
const (
	maxModelLen  = 256
	maxKeyLen    = 4096
	maxTimeoutMS = 120_000
)

// recordTimeout bounds the write of one call's token use. It runs apart
// from the caller's deadline: the tokens are spent even if the stage that
// spent them has run out of time.
const recordTimeout = 5 * time.Second

// modelPattern is the model names a tenant may give, as in the API.
var modelPattern = regexp.MustCompile(`^[A-Za-z0-9._:/@-]*$`)

var (
	// ErrInvalid reports settings that cannot be stored; the wrapping
	// error names the field.
	ErrInvalid = errors.New("invalid model settings")
	// ErrNoKeyring reports a key that cannot be sealed or opened because
	// no key ring is configured.
	ErrNoKeyring = errors.New("no key ring is configured to seal or open the tenant's model API key (set ALEXUS_SECRET_KEYS)")
	// ErrBudgetSpent is Allow's refusal of a tenant whose month's tokens
	// have reached its budget.
	ErrBudgetSpent = errors.New("monthly token budget spent")
)

// Settings are a tenant's own settings of the model path. Zero fields
// take the deployment's values; a zero MonthlyBudget is no budget.
type Settings struct {
	// Model is the chat model asked for.
	Model string
	// APIKey is the tenant's key, opened. It must stay out of logs; String
	// leaves it out.
	APIKey string
	// Timeout bounds one model request.
	Timeout time.Duration
	// MonthlyBudget is the tokens (prompt and completion) the tenant's
	// calls may use per calendar month, UTC.
	MonthlyBudget int64
}

// String describes s without its key.
func (s Settings) String() string {
	return fmt.Sprintf("model %q, api key set %t, timeout %s, monthly budget %d", s.Model, s.APIKey != "", s.Timeout, s.MonthlyBudget)
}

// Store reads and writes tenants' model settings and token use. Every
// query runs in a transaction scoped to the context's verified tenant. It
// is safe for concurrent use.
type Store struct {
	db   *store.DB
	keys *secretbox.Keyring
	log  *zap.Logger
	now  func() time.Time

	// cache holds each tenant's settings for CacheTTL; Set forgets them.
	cache *tenantcache.Cache[Settings]
}

var (
	_ llm.Meter    = (*Store)(nil)
	_ llm.Budgeter = (*Store)(nil)
)

// New returns a Store over db. keys seals and opens API keys; nil refuses
// to store one. log receives failures to record token use; nil discards
// them.
func New(db *store.DB, keys *secretbox.Keyring, log *zap.Logger) *Store {
	if log == nil {
		log = zap.NewNop()
	}
	s := &Store{db: db, keys: keys, log: log, now: time.Now}
	s.cache = tenantcache.New(CacheTTL, func(ctx context.Context) (Settings, error) {
		t, err := tenant.Require(ctx)
		if err != nil {
			return Settings{}, err
		}
		return s.read(ctx, t)
	})
	return s
}

func owner(t tenant.ID) secretbox.Owner {
	return secretbox.Owner{Tenant: string(t), Record: keyRecord, Purpose: KeyPurpose}
}

// Get returns the context's tenant's settings, with the key opened: from
// this replica's cache when read within CacheTTL, else from Postgres. A
// tenant that set nothing has zero Settings. A stored key that cannot be
// opened (no key ring, or not one that sealed it) is an error.
func (s *Store) Get(ctx context.Context) (Settings, error) { return s.cache.Get(ctx) }

func (s *Store) read(ctx context.Context, t tenant.ID) (Settings, error) {
	var (
		set       Settings
		sealed    []byte
		timeoutMS int32
	)
	err := s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			SELECT model, api_key, timeout_ms, monthly_token_budget FROM tenant_llm_settings WHERE tenant_id = $1`,
			string(t)).Scan(&set.Model, &sealed, &timeoutMS, &set.MonthlyBudget)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return err
	})
	if err != nil {
		return Settings{}, fmt.Errorf("read model settings: %w", err)
	}
	set.Timeout = time.Duration(timeoutMS) * time.Millisecond
	if len(sealed) > 0 {
		if s.keys == nil {
			return Settings{}, fmt.Errorf("read model settings: the tenant's API key is sealed but %w", ErrNoKeyring)
		}
		key, err := s.keys.Open(owner(t), sealed)
		if err != nil {
			return Settings{}, fmt.Errorf("read model settings: open the tenant's API key: %w", err)
		}
		set.APIKey = string(key)
	}
	return set, nil
}

// Set replaces the context's tenant's settings with req's. An empty
// api_key keeps the stored key and clear_api_key removes it; giving both a
// key and clear_api_key is invalid. Settings that fail validation store
// nothing and return an error wrapping ErrInvalid that names the field
// (and never repeats the key); a key without a key ring is an error
// wrapping ErrNoKeyring.
func (s *Store) Set(ctx context.Context, req *reasoningv1.SetModelSettingsRequest) error {
	if err := validate(req); err != nil {
		return err
	}
	t, err := tenant.Require(ctx)
	if err != nil {
		return err
	}
	var sealed []byte
	if key := req.GetApiKey(); key != "" {
		if s.keys == nil {
			return fmt.Errorf("set model settings: %w", ErrNoKeyring)
		}
		if sealed, err = s.keys.Seal(owner(t), []byte(key)); err != nil {
			return fmt.Errorf("set model settings: seal the API key: %w", err)
		}
	}
	keep := req.GetApiKey() == "" && !req.GetClearApiKey()
	err = s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `
			INSERT INTO tenant_llm_settings (tenant_id, model, api_key, timeout_ms, monthly_token_budget)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (tenant_id) DO UPDATE SET
			  model = EXCLUDED.model,
			  api_key = CASE WHEN $6::boolean THEN tenant_llm_settings.api_key ELSE EXCLUDED.api_key END,
			  timeout_ms = EXCLUDED.timeout_ms,
			  monthly_token_budget = EXCLUDED.monthly_token_budget,
			  updated_at = now()`,
			string(t), req.GetModel(), sealed, req.GetTimeoutMs(), req.GetMonthlyTokenBudget(), keep)
		if err != nil {
			return err
		}
		// The key itself is never audited, only whether it changed.
		return audit.Append(ctx, tx, EventSet, "model_settings", map[string]string{
			"model": req.GetModel(), "timeout_ms": strconv.Itoa(int(req.GetTimeoutMs())),
			"monthly_token_budget": strconv.FormatInt(req.GetMonthlyTokenBudget(), 10),
			"api_key":              map[bool]string{true: "kept", false: map[bool]string{true: "cleared", false: "replaced"}[req.GetClearApiKey()]}[keep],
		})
	})
	s.cache.Forget(t)
	if err != nil {
		return fmt.Errorf("set model settings: %w", err)
	}
	return nil
}

// validate checks req as the API documents it. Errors name the field and
// never the key.
func validate(req *reasoningv1.SetModelSettingsRequest) error {
	if req == nil {
		return fmt.Errorf("%w: no settings given", ErrInvalid)
	}
	model, key := req.GetModel(), req.GetApiKey()
	switch {
	case len(model) > maxModelLen:
		return fmt.Errorf("%w: model is %d bytes, over the %d-byte limit", ErrInvalid, len(model), maxModelLen)
	case !modelPattern.MatchString(model):
		return fmt.Errorf("%w: model %q may hold only letters, digits and . _ : / @ -", ErrInvalid, model)
	case len(key) > maxKeyLen:
		return fmt.Errorf("%w: api_key is %d bytes, over the %d-byte limit", ErrInvalid, len(key), maxKeyLen)
	case !printable(key):
		return fmt.Errorf("%w: api_key must be printable ASCII without spaces", ErrInvalid)
	case key != "" && req.GetClearApiKey():
		return fmt.Errorf("%w: clear_api_key and a new api_key are contradictory; send one", ErrInvalid)
	case req.GetTimeoutMs() < 0 || req.GetTimeoutMs() > maxTimeoutMS:
		return fmt.Errorf("%w: timeout_ms %d must be between 0 and %d", ErrInvalid, req.GetTimeoutMs(), maxTimeoutMS)
	case req.GetMonthlyTokenBudget() < 0:
		return fmt.Errorf("%w: monthly_token_budget %d must not be negative", ErrInvalid, req.GetMonthlyTokenBudget())
	}
	return nil
}

// printable is what an HTTP bearer token may hold, as internal/llm checks
// a configured key.
func printable(key string) bool {
	for _, r := range key {
		if r <= ' ' || r >= 0x7f {
			return false
		}
	}
	return true
}

// month is the first day (UTC) of the month t falls in, the key of
// tenant_llm_usage.
func month(t time.Time) time.Time {
	y, m, _ := t.UTC().Date()
	return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
}

// Usage returns the tokens (prompt and completion) the context's tenant
// used this calendar month, UTC.
func (s *Store) Usage(ctx context.Context) (int64, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return 0, err
	}
	var used int64
	err = s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			SELECT prompt_tokens + completion_tokens FROM tenant_llm_usage WHERE tenant_id = $1 AND month = $2`,
			string(t), month(s.now())).Scan(&used)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("read model token use: %w", err)
	}
	return used, nil
}

// sameTenant checks that t, which the model client names, is the
// context's tenant, whose transaction the query runs in.
func sameTenant(ctx context.Context, t tenant.ID) (tenant.ID, error) {
	id, err := tenant.Require(ctx)
	if err != nil {
		return "", err
	}
	if id != t {
		return "", fmt.Errorf("the call is for tenant %q but its context is tenant %q", t, id)
	}
	return id, nil
}

// Record implements llm.Meter: it adds u to the tenant's use this month
// and counts the call. The write is synchronous (a few milliseconds next
// to a model call of seconds), so the next budget check sees it, and runs
// past the caller's cancellation, since the tokens were spent regardless.
// A failure is logged, not returned: the answer is already in hand.
func (s *Store) Record(ctx context.Context, t tenant.ID, u llm.Usage) {
	id, err := sameTenant(ctx, t)
	if err != nil {
		s.log.Error("model token use not recorded", zap.String("tenant_id", string(t)), zap.Error(err))
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	err = s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `
			INSERT INTO tenant_llm_usage (tenant_id, month, prompt_tokens, completion_tokens, calls) VALUES ($1, $2, $3, $4, 1)
			ON CONFLICT (tenant_id, month) DO UPDATE SET
			  prompt_tokens = tenant_llm_usage.prompt_tokens + EXCLUDED.prompt_tokens,
			  completion_tokens = tenant_llm_usage.completion_tokens + EXCLUDED.completion_tokens,
			  calls = tenant_llm_usage.calls + 1`,
			string(id), month(s.now()), max(u.PromptTokens, 0), max(u.CompletionTokens, 0))
		return err
	})
	if err != nil {
		s.log.Error("model token use not recorded", zap.String("tenant_id", string(id)),
			zap.Int("prompt_tokens", u.PromptTokens), zap.Int("completion_tokens", u.CompletionTokens), zap.Error(err))
	}
}

// Allow implements llm.Budgeter: it refuses, with an error wrapping
// ErrBudgetSpent, a tenant whose tokens this month have reached its budget.
// A tenant without a budget costs no query beyond the cached settings. A
// budget that cannot be checked refuses too, and the reason is logged: a
// budget is a promise about cost, which a database fault should not break.
func (s *Store) Allow(ctx context.Context, t tenant.ID) error {
	if _, err := sameTenant(ctx, t); err != nil {
		return err
	}
	set, err := s.Get(ctx)
	if err == nil && set.MonthlyBudget == 0 {
		return nil
	}
	var used int64
	if err == nil {
		used, err = s.Usage(ctx)
	}
	if err != nil {
		s.log.Warn("model token budget not checked; the call is refused", zap.String("tenant_id", string(t)), zap.Error(err))
		return fmt.Errorf("check the token budget: %w", err)
	}
	if used >= set.MonthlyBudget {
		return fmt.Errorf("%w: %d of %d tokens used this month (UTC)", ErrBudgetSpent, used, set.MonthlyBudget)
	}
	return nil
}
