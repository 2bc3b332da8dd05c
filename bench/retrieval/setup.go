package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// database is the run's throw-away database.
type database struct {
	adminURL string
	name     string
	db       *store.DB
}

// createDatabase creates alexus_bench_retrieval_<rand> on the admin URL,
// migrates it and opens the application-role pool on it.
func createDatabase(ctx context.Context, adminURL string) (*database, error) {
	u, err := url.Parse(adminURL)
	if err != nil {
		return nil, fmt.Errorf("-postgres-url: %w", err)
	}
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return nil, fmt.Errorf("postgres at %s: %w", u.Redacted(), err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	d := &database{adminURL: adminURL, name: "alexus_bench_retrieval_" + hex.EncodeToString(b)}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+d.name); err != nil {
		return nil, fmt.Errorf("create database: %w", err)
	}
	u.Path = "/" + d.name
	if err := store.Migrate(ctx, u.String()); err != nil {
		d.drop()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	d.db, err = store.Open(ctx, store.Config{AdminURL: u.String(), MaxConns: 8})
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
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, d.adminURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+d.name+" WITH (FORCE)")
	return err
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
