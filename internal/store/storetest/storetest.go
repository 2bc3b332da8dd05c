// Package storetest gives each test its own freshly migrated Postgres
// database on the real server, cloned from a template migrated once per
// schema version, and drops it when the test ends.
package storetest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/migrations"
)

// DefaultAdminURL is used when neither ALEXUS_TEST_POSTGRES_URL nor
// ALEXUS_POSTGRES_URL is set.
const DefaultAdminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// AdminURL returns the server's admin URL for tests.
func AdminURL() string {
	for _, k := range []string{"ALEXUS_TEST_POSTGRES_URL", "ALEXUS_POSTGRES_URL"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return DefaultAdminURL
}

// Bundle is one test's database.
type Bundle struct {
	// AdminURL reaches the test database as the admin (superuser) role.
	AdminURL string
	// DB is the application-role pool on it.
	DB *store.DB
	// Config opens more pools on it.
	Config store.Config
}

// New creates a migrated database for t. When the server cannot be reached
// the test is skipped with a message saying so, except under CI (CI=true),
// where that is a failure.
func New(t testing.TB) *Bundle {
	t.Helper()
	ctx := context.Background()
	admin := AdminURL()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("postgres at %s unreachable under CI: %v", redact(admin), err)
		}
		t.Skipf("SKIPPED: postgres at %s unreachable (%v); run scripts/test.sh to start it", redact(admin), err)
	}
	defer conn.Close(ctx)

	tmpl, err := template(ctx, conn, admin)
	if err != nil {
		t.Fatalf("prepare template database: %v", err)
	}
	name := "alexus_test_" + randHex(6)
	if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, tmpl)); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), admin)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name))
	})
	cfg := store.Config{AdminURL: withDatabase(t, admin, name), MaxConns: 16}
	db, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open app pool: %v", err)
	}
	t.Cleanup(db.Close)
	return &Bundle{AdminURL: cfg.AdminURL, DB: db, Config: cfg}
}

// template returns the name of a database migrated to the current schema,
// creating it under an advisory lock when it does not exist yet. Its name
// carries a hash of the migrations, so a changed schema gets a new one.
func template(ctx context.Context, conn *pgx.Conn, admin string) (string, error) {
	h := sha256.New()
	err := fs.WalkDir(migrations.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, p)
		h.Write([]byte(p))
		h.Write(b)
		return err
	})
	if err != nil {
		return "", err
	}
	name := "alexus_tmpl_" + hex.EncodeToString(h.Sum(nil))[:12]

	// Serialise template creation across test processes.
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(7262134)"); err != nil {
		return "", err
	}
	defer conn.Exec(ctx, "SELECT pg_advisory_unlock(7262134)") //nolint:errcheck

	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	build := name + "_build"
	_, _ = conn.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", build))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+build); err != nil {
		return "", err
	}
	u, err := url.Parse(admin)
	if err != nil {
		return "", err
	}
	u.Path = "/" + build
	if err := store.Migrate(ctx, u.String()); err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf("ALTER DATABASE %s RENAME TO %s", build, name)); err != nil {
		return "", err
	}
	return name, nil
}

func withDatabase(t testing.TB, admin, db string) string {
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("parse admin url: %v", err)
	}
	u.Path = "/" + db
	return u.String()
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable url)"
	}
	return u.Redacted()
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
