package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/alexus-platform/alexus/migrations"
)

// Migrate applies River's job-queue schema and Alexus's migrations with the
// admin URL, then grants the application role what River needs. It is safe
// to run concurrently from several replicas: goose holds an advisory lock.
func Migrate(ctx context.Context, adminURL string) error {
	pool, err := pgxpool.New(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("open admin pool: %w", err)
	}
	defer pool.Close()

	rm, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return fmt.Errorf("build river migrator: %w", err)
	}
	if _, err := rm.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrate river schema: %w", err)
	}

	sqlDB := stdlib.OpenDBFromPool(pool)
	defer sqlDB.Close()
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return fmt.Errorf("build migration lock: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS, goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}

	// River's tables are shared infrastructure, not tenant data; the app role
	// needs to read and write them to insert and work jobs.
	_, err = pool.Exec(ctx, `
		DO $$
		DECLARE r record;
		BEGIN
		  FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'river%' LOOP
		    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO `+AppRole+`', r.tablename);
		  END LOOP;
		  EXECUTE 'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ' || quote_ident(current_schema()) || ' TO `+AppRole+`';
		END $$`)
	if err != nil {
		return fmt.Errorf("grant river tables to %s: %w", AppRole, err)
	}
	return nil
}
