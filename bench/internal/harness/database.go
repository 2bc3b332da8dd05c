package harness

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/alexus-platform/alexus/internal/store"
)

// Database is a throw-away, migrated database for a benchmark that drives
// the store in its own process (bench/audit, bench/retrieval) rather than
// through planes.
type Database struct {
	// AdminURL is the admin URL of the Postgres server it was created on.
	AdminURL string
	// Name is the database's name, URL its admin URL.
	Name, URL string
}

// CreateDatabase creates <prefix><rand> on the server at adminURL and
// migrates it with store.Migrate. It drops the database again when the
// migration fails.
func CreateDatabase(ctx context.Context, adminURL, prefix string) (*Database, error) {
	u, err := url.Parse(adminURL)
	if err != nil {
		return nil, fmt.Errorf("-postgres-url: %w", err)
	}
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return nil, fmt.Errorf("postgres at %s: %w", u.Redacted(), err)
	}
	defer conn.Close(ctx)
	d := &Database{AdminURL: adminURL, Name: prefix + randHex(6)}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+d.Name); err != nil {
		return nil, fmt.Errorf("create database: %w", err)
	}
	u.Path = "/" + d.Name
	d.URL = u.String()
	if err := store.Migrate(ctx, d.URL); err != nil {
		_ = d.Drop()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return d, nil
}

// Drop drops the database, closing whatever is still connected to it. It
// runs on a context of its own, so that it works when the run's context is
// cancelled.
func (d *Database) Drop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, d.AdminURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+d.Name+" WITH (FORCE)")
	return err
}
