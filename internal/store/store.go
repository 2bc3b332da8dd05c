package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/alexus-platform/alexus/internal/tenant"
)

// AppRole is the restricted role the planes run as.
const AppRole = "alexus_app"

// Config says how to reach Postgres.
type Config struct {
	// AdminURL may be a superuser's: migrations run with it, and when AppURL
	// is empty the planes connect with it and SET ROLE alexus_app.
	AdminURL string
	// AppURL, when set, is the application role's own URL (production).
	AppURL string
	// MaxConns bounds the pool; 0 means pgx's default.
	MaxConns int32
	// ApplicationName is what Postgres shows for the pool's connections
	// (pg_stat_activity.application_name), so an operator can tell which
	// plane holds them; an application_name in the URL wins.
	ApplicationName string
}

// Validate names the first bad field.
func (c Config) Validate() error {
	if c.AdminURL == "" && c.AppURL == "" {
		return errors.New("postgres: set ALEXUS_POSTGRES_URL (admin) or ALEXUS_POSTGRES_APP_URL")
	}
	if c.MaxConns < 0 {
		return fmt.Errorf("postgres: max conns %d must not be negative", c.MaxConns)
	}
	return nil
}

// DB is the application-role pool.
type DB struct {
	pool *pgxpool.Pool
}

// Open connects as the application role and checks that the role cannot
// bypass row-level security.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	url := cfg.AppURL
	setRole := false
	if url == "" {
		url, setRole = cfg.AdminURL, true
	}
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse postgres url: %w", err)
	}
	if cfg.MaxConns > 0 {
		pc.MaxConns = cfg.MaxConns
	}
	if _, set := pc.ConnConfig.RuntimeParams["application_name"]; !set && cfg.ApplicationName != "" {
		pc.ConnConfig.RuntimeParams["application_name"] = cfg.ApplicationName
	}
	if setRole {
		pc.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
			if _, err := c.Exec(ctx, "SET ROLE "+AppRole); err != nil {
				return fmt.Errorf("set role %s (run `alexus migrate` first): %w", AppRole, err)
			}
			return nil
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("open postgres pool: %w", err)
	}
	db := &DB{pool: pool}
	if err := db.CheckRole(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// Close closes the pool.
func (db *DB) Close() { db.pool.Close() }

// ErrRoleBypassesRLS reports a pool whose role would skip row-level security.
var ErrRoleBypassesRLS = errors.New("postgres role can bypass row-level security")

// CheckRole fails when the pool's current role is a superuser, has
// BYPASSRLS, or owns any table in the schema; each of those skips RLS.
func (db *DB) CheckRole(ctx context.Context) error {
	var (
		role          string
		super, bypass bool
		ownedTables   int
	)
	err := db.pool.QueryRow(ctx, `
		SELECT current_user, r.rolsuper, r.rolbypassrls,
		       (SELECT count(*) FROM pg_tables t WHERE t.tableowner = current_user)
		FROM pg_roles r WHERE r.rolname = current_user`).Scan(&role, &super, &bypass, &ownedTables)
	if err != nil {
		return fmt.Errorf("check postgres role: %w", err)
	}
	switch {
	case super:
		return fmt.Errorf("%w: %s is a superuser", ErrRoleBypassesRLS, role)
	case bypass:
		return fmt.Errorf("%w: %s has BYPASSRLS", ErrRoleBypassesRLS, role)
	case ownedTables > 0:
		return fmt.Errorf("%w: %s owns %d tables", ErrRoleBypassesRLS, role, ownedTables)
	}
	return nil
}

// WithTenant runs fn in a transaction scoped to the context's tenant: it
// sets app.tenant_id for this transaction only (SET LOCAL semantics), so
// every row fn reads or writes is filtered by the tenant policies. It
// commits when fn returns nil and rolls back otherwise. A context without a
// verified tenant fails before touching the database.
func (db *DB) WithTenant(ctx context.Context, fn func(pgx.Tx) error) error {
	return db.WithTenantTx(ctx, pgx.TxOptions{}, fn)
}

// WithTenantTx is WithTenant with explicit transaction options, for a reader
// that must see several tables at one instant (a read-only repeatable-read
// snapshot) or a writer that needs a stricter isolation level.
func (db *DB) WithTenantTx(ctx context.Context, opts pgx.TxOptions, fn func(pgx.Tx) error) error {
	t, err := tenant.Require(ctx)
	if err != nil {
		return err
	}
	opts.BeginQuery, err = beginTenant(opts, t)
	if err != nil {
		return err
	}
	return pgx.BeginTxFunc(ctx, db.pool, opts, fn)
}

// Batch sends b's statements to Postgres in one round trip, after one
// that sets the context's tenant, and read reads their results in order.
// Postgres runs a batch as one implicit transaction: the tenant applies to
// every statement, and the statements commit together when the last one
// succeeds or roll back together when one fails. It suits a few
// statements that need no logic between them, e.g. a read of one row, or
// a write and its audit entry in one statement; use WithTenant when later
// statements depend on earlier results.
func (db *DB) Batch(ctx context.Context, b *pgx.Batch, read func(pgx.BatchResults) error) error {
	t, err := tenant.Require(ctx)
	if err != nil {
		return err
	}
	full := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, 1+len(b.QueuedQueries))}
	full.Queue("SELECT set_config('app.tenant_id', $1, true)", string(t))
	full.QueuedQueries = append(full.QueuedQueries, b.QueuedQueries...)
	br := db.pool.SendBatch(ctx, full)
	if _, err := br.Exec(); err != nil {
		br.Close()
		return fmt.Errorf("set tenant for batch: %w", err)
	}
	if err := read(br); err != nil {
		br.Close()
		return err
	}
	return br.Close()
}

// beginTenant is the statement that opens a transaction with opts and sets
// its tenant: "begin ...; SELECT set_config('app.tenant_id', 't', true)",
// sent as one simple-protocol query, so the tenant costs no round trip of
// its own. set_config(..., true) is SET LOCAL: the setting ends with the
// transaction. The tenant is written as a literal, which is safe only
// because a tenant ID is a slug (tenant.Parse); anything else is refused.
func beginTenant(opts pgx.TxOptions, t tenant.ID) (string, error) {
	if _, err := tenant.Parse(string(t)); err != nil {
		return "", fmt.Errorf("set tenant for transaction: %w", err)
	}
	var b strings.Builder
	b.Grow(96)
	b.WriteString("begin")
	if opts.IsoLevel != "" {
		b.WriteString(" isolation level ")
		b.WriteString(string(opts.IsoLevel))
	}
	if opts.AccessMode != "" {
		b.WriteByte(' ')
		b.WriteString(string(opts.AccessMode))
	}
	if opts.DeferrableMode != "" {
		b.WriteByte(' ')
		b.WriteString(string(opts.DeferrableMode))
	}
	b.WriteString("; SELECT set_config('app.tenant_id', '")
	b.WriteString(string(t))
	b.WriteString("', true)")
	return b.String(), nil
}

// Pool returns the application-role pool for work that is not tenant data,
// such as River's job tables. Tenant tables must go through WithTenant.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }
