package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// NotProvisionedError reports a verified tenant that has not been created.
// A valid token alone does not admit a caller: the tenant must exist.
type NotProvisionedError struct {
	Tenant tenant.ID
}

func (e *NotProvisionedError) Error() string {
	return fmt.Sprintf("tenant %s is not provisioned", e.Tenant)
}

// TenantsConfig says how tenants are admitted.
type TenantsConfig struct {
	// CacheTTL is how long a "tenant exists" answer is remembered. Only
	// positive answers are cached, so a tenant created a moment ago is
	// admitted at once.
	CacheTTL time.Duration
	// AutoCreate provisions an unknown tenant on first use (`alexus dev`).
	AutoCreate bool
	// DefaultWebhookURL is given to tenants created by AutoCreate.
	DefaultWebhookURL string
}

// Tenants admits verified tenants that exist in Postgres. It is safe for
// concurrent use.
type Tenants struct {
	db  *store.DB
	cfg TenantsConfig
	log *zap.Logger
	now func() time.Time

	mu    sync.Mutex
	known map[tenant.ID]time.Time // tenant → when the cached answer expires
}

// NewTenants returns a Tenants reading db.
func NewTenants(db *store.DB, cfg TenantsConfig, log *zap.Logger) (*Tenants, error) {
	if db == nil {
		return nil, errors.New("tenants: db is required")
	}
	if cfg.CacheTTL < 0 {
		return nil, fmt.Errorf("tenants: cache ttl %s must not be negative", cfg.CacheTTL)
	}
	if log == nil {
		log = zap.NewNop()
	}
	return &Tenants{db: db, cfg: cfg, log: log, now: time.Now, known: make(map[tenant.ID]time.Time)}, nil
}

// Admit returns nil when the tenant of id exists (or was just created under
// AutoCreate), a *NotProvisionedError when it does not, and any other error
// when Postgres could not answer; that error wraps the caller's ctx.Err()
// when the caller's context ended first.
func (ts *Tenants) Admit(ctx context.Context, id tenant.Identity) error {
	if ts.cached(id.Tenant) {
		return nil
	}
	ctx = tenant.WithIdentity(ctx, id)
	if ts.cfg.AutoCreate {
		created, err := provision.EnsureTenant(ctx, ts.db, provision.TenantOptions{DefaultWebhookURL: ts.cfg.DefaultWebhookURL})
		if err != nil {
			return lookupFailed(ctx, fmt.Errorf("create tenant %s on first use: %w", id.Tenant, err))
		}
		if created {
			ts.log.Info("created tenant on first use", zap.String("tenant_id", string(id.Tenant)), zap.String("subject", id.Subject))
		}
	} else {
		ok, err := provision.TenantExists(ctx, ts.db)
		if err != nil {
			return lookupFailed(ctx, fmt.Errorf("check tenant %s: %w", id.Tenant, err))
		}
		if !ok {
			return &NotProvisionedError{Tenant: id.Tenant}
		}
	}
	ts.remember(id.Tenant)
	return nil
}

// callerGoneError is a tenant lookup that failed after the caller's own
// context had ended. It is told apart from a failing store by the caller's
// ctx.Err(), not by what the store's error wraps: pgx may wrap a
// DeadlineExceeded of its own (a connect_timeout) when Postgres is down.
type callerGoneError struct {
	cause error // the caller's ctx.Err(): context.Canceled or DeadlineExceeded
	err   error // what the store returned
}

func (e *callerGoneError) Error() string   { return e.err.Error() }
func (e *callerGoneError) Unwrap() []error { return []error{e.err, e.cause} }

// lookupFailed returns err as a callerGoneError when ctx has ended, and
// unchanged otherwise.
func lookupFailed(ctx context.Context, err error) error {
	if cause := ctx.Err(); cause != nil {
		return &callerGoneError{cause: cause, err: err}
	}
	return err
}

func (ts *Tenants) cached(t tenant.ID) bool {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	exp, ok := ts.known[t]
	if !ok {
		return false
	}
	if !ts.now().Before(exp) {
		delete(ts.known, t)
		return false
	}
	return true
}

func (ts *Tenants) remember(t tenant.ID) {
	if ts.cfg.CacheTTL == 0 {
		return
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.known[t] = ts.now().Add(ts.cfg.CacheTTL)
}
