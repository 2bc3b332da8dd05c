//go:build unix

package devstack

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/alexus-platform/alexus/internal/store"
)

// start starts a stack or skips the test when the server binaries are not
// installed, except under CI, where the test script installs them and
// their absence is a failure.
func start(t *testing.T, ctx context.Context, dir string) *Stack {
	t.Helper()
	s, err := Start(ctx, Options{DataDir: dir, Log: zaptest.NewLogger(t)})
	if errors.Is(err, ErrMissingBinary) {
		if os.Getenv("CI") != "" {
			t.Fatalf("server binaries missing under CI: %v", err)
		}
		t.Skipf("SKIPPED: %v", err)
	}
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Stop() })
	return s
}

type pids struct{ postgres, redis int }

func pidsOf(s *Stack) pids {
	return pids{postgres: s.postgres.cmd.Process.Pid, redis: s.redis.cmd.Process.Pid}
}

// requireGone asserts that the servers, Postgres's backends and the
// listening ports are all gone.
func requireGone(t *testing.T, s *Stack, p pids) {
	t.Helper()
	for name, pid := range map[string]int{"postgres": p.postgres, "redis": p.redis} {
		require.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH, "%s (pid %d) still exists", name, pid)
		require.Empty(t, liveInGroup(pid), "processes of %s's group still running", name)
	}
	for _, raw := range []string{s.PostgresURL, s.RedisURL} {
		addr := hostPort(t, raw)
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		require.Error(t, err, "%s still accepts connections", addr)
	}
}

func hostPort(t *testing.T, raw string) string {
	t.Helper()
	_, rest, ok := strings.Cut(raw, "@")
	if !ok {
		_, rest, _ = strings.Cut(raw, "://")
	}
	hp, _, _ := strings.Cut(rest, "/")
	return hp
}

func systemID(t *testing.T, ctx context.Context, url string) int64 {
	t.Helper()
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var id int64
	require.NoError(t, conn.QueryRow(ctx, "SELECT system_identifier FROM pg_control_system()").Scan(&id))
	return id
}

func TestStartMigrateStopAndReuse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	s := start(t, ctx, dir)

	require.Equal(t, dir, s.DataDir)
	require.Contains(t, s.PostgresURL, "/"+DatabaseName+"?")

	conn, err := pgx.Connect(ctx, s.PostgresURL)
	require.NoError(t, err)
	var db string
	var super bool
	require.NoError(t, conn.QueryRow(ctx, "SELECT current_database(), rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&db, &super))
	require.NoError(t, conn.Close(ctx))
	require.Equal(t, DatabaseName, db)
	require.True(t, super, "PostgresURL must be an admin URL that can run migrations")

	opt, err := redis.ParseURL(s.RedisURL)
	require.NoError(t, err)
	rdb := redis.NewClient(opt)
	require.NoError(t, rdb.Set(ctx, "devstack-test", "ok", 0).Err())
	got, err := rdb.Get(ctx, "devstack-test").Result()
	require.NoError(t, err)
	require.Equal(t, "ok", got)
	require.NoError(t, rdb.Close())

	require.NoError(t, store.Migrate(ctx, s.PostgresURL))
	firstID := systemID(t, ctx, s.PostgresURL)

	p := pidsOf(s)
	require.NoError(t, s.Stop())
	requireGone(t, s, p)
	require.NoError(t, s.Stop(), "a second Stop returns the first one's result")

	// A postmaster.pid naming a live process that is not postgres is what a
	// machine restart leaves behind; PID 1 always exists and is no postgres.
	pidFile := filepath.Join(dir, "postgres", "postmaster.pid")
	require.NoError(t, os.WriteFile(pidFile, []byte("1\n"+filepath.Join(dir, "postgres")+"\n"), 0o600))

	s2 := start(t, ctx, dir)
	require.Equal(t, firstID, systemID(t, ctx, s2.PostgresURL), "the second start must reuse the cluster, not initialise a new one")
	conn, err = pgx.Connect(ctx, s2.PostgresURL)
	require.NoError(t, err)
	var tenants *string
	require.NoError(t, conn.QueryRow(ctx, "SELECT to_regclass('tenants')::text").Scan(&tenants))
	require.NoError(t, conn.Close(ctx))
	require.NotNil(t, tenants, "migrated tables must survive a restart")

	// While s2 runs, another stack on the same folder must refuse rather
	// than fight over the cluster.
	_, err = Start(ctx, Options{DataDir: dir})
	require.ErrorContains(t, err, "already using")

	p2 := pidsOf(s2)
	require.NoError(t, s2.Stop())
	requireGone(t, s2, p2)
}

func TestStopOnContextCancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := start(t, ctx, t.TempDir())
	p := pidsOf(s)

	cancel()
	select {
	case <-s.Done():
	case <-time.After(time.Minute):
		t.Fatal("servers still running a minute after the context was cancelled")
	}
	requireGone(t, s, p)
}

func TestMissingBinariesSayHowToInstall(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	saved := postgresGlobs
	postgresGlobs = nil
	t.Cleanup(func() { postgresGlobs = saved })

	_, err := Start(context.Background(), Options{DataDir: t.TempDir()})
	require.ErrorIs(t, err, ErrMissingBinary)
	for _, want := range []string{
		"postgres and initdb",
		"redis-server",
		"sudo apt-get install -y postgresql-15 redis-server",
		"brew install postgresql@15 redis",
		"ALEXUS_POSTGRES_URL",
		"ALEXUS_REDIS_URL",
	} {
		require.Contains(t, err.Error(), want)
	}
}
