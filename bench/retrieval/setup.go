package main

import (
	"context"
	"fmt"

	"github.com/alexus-platform/alexus/bench/internal/harness"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// database is the run's throw-away database.
type database struct {
	*harness.Database
	db *store.DB
}

// createDatabase creates alexus_bench_retrieval_<rand> on the admin URL,
// migrates it and opens the application-role pool on it.
func createDatabase(ctx context.Context, adminURL string) (*database, error) {
	hd, err := harness.CreateDatabase(ctx, adminURL, "alexus_bench_retrieval_")
	if err != nil {
		return nil, err
	}
	d := &database{Database: hd}
	d.db, err = store.Open(ctx, store.Config{AdminURL: hd.URL, MaxConns: 8})
	if err != nil {
		d.drop()
		return nil, err
	}
	return d, nil
}

// drop closes the pool and drops the database; it runs even when the
// run's context is cancelled.
func (d *database) drop() error {
	if d.db != nil {
		d.db.Close()
	}
	return d.Drop()
}

// ensureTenant creates tenant t and returns a context acting as it,
// cancelled with parent.
func ensureTenant(parent context.Context, db *store.DB, t tenant.ID) (context.Context, error) {
	ctx := tenant.WithIdentity(parent, tenant.Identity{Tenant: t, Subject: "bench-retrieval"})
	if _, err := provision.EnsureTenant(ctx, db, provision.TenantOptions{}); err != nil {
		return nil, fmt.Errorf("tenant %s: %w", t, err)
	}
	return ctx, nil
}
