package harness

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/redistest"
	"github.com/alexus-platform/alexus/internal/store/storetest"
)

// fakeAlexus stands in for the alexus binary: administrative subcommands
// succeed at once (env prints the environment), and a plane's subcommand
// serves until it is stopped.
const fakeAlexus = `#!/bin/sh
case "$1" in
migrate|tenant|health) exit 0 ;;
env) env ;;
*) echo "serving $1"; exec sleep 60 ;;
esac
`

// setup starts a stack on the real Postgres and Redis servers, with
// fakeAlexus as its binary. It skips the test when a server is
// unreachable, except under CI.
func setup(t *testing.T, cfg Config) *Stack {
	t.Helper()
	redistest.New(t) // skips without Redis
	conn, err := pgx.Connect(context.Background(), storetest.AdminURL())
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("postgres unreachable under CI: %v", err)
		}
		t.Skipf("SKIPPED: postgres unreachable (%v); run scripts/test.sh to start it", err)
	}
	require.NoError(t, conn.Close(context.Background()))
	bin := filepath.Join(t.TempDir(), "alexus")
	require.NoError(t, os.WriteFile(bin, []byte(fakeAlexus), 0o755))

	cfg.PostgresURL = storetest.AdminURL()
	cfg.RedisURL = redistest.URL()
	cfg.Bin = bin
	cfg.LogLevel = "debug"
	cfg.ReadyTimeout = 5 * time.Second
	if cfg.Log == nil {
		cfg.Log = &bytes.Buffer{}
	}
	s, err := Start(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

// TestStack is not parallel: it sets an ALEXUS_* variable in this
// process's environment, to see that the planes do not inherit it.
func TestStack(t *testing.T) {
	ctx := context.Background()
	t.Setenv("ALEXUS_POSTGRES_URL_FROM_SHELL", "leaks")
	var log bytes.Buffer
	s := setup(t, Config{
		Flags: Flags{PlaneEnv: EnvList{"ALEXUS_LOG_LEVEL=warn", "ALEXUS_MINE=plane-env"}},
		Settings: func(ctx context.Context, s *Stack) ([]string, error) {
			return []string{"ALEXUS_MINE=settings", "ALEXUS_OWN=settings"}, nil
		},
		Pprof: true,
		Log:   &log,
	})

	// The environment: the stack's settings, the benchmark's, then
	// -plane-env, which wins; none of the shell's ALEXUS_* settings.
	out, err := s.Alexus(ctx, "env")
	require.NoError(t, err)
	env := lastValues(out)
	require.Equal(t, s.DBURL, env["ALEXUS_POSTGRES_URL"])
	require.Equal(t, string(s.Namespace), env["ALEXUS_REDIS_NAMESPACE"])
	require.Equal(t, "warn", env["ALEXUS_LOG_LEVEL"])
	require.Equal(t, "plane-env", env["ALEXUS_MINE"])
	require.Equal(t, "settings", env["ALEXUS_OWN"])
	require.NotContains(t, env, "ALEXUS_POSTGRES_URL_FROM_SHELL")
	for _, role := range roles {
		require.Equal(t, s.addrs[role], env["ALEXUS_"+strings.ToUpper(role)+"_ADDR"])
	}
	require.True(t, strings.HasPrefix(s.DBURL, "postgres://"))

	first, err := s.StartPlane("actions")
	require.NoError(t, err)
	require.NoError(t, s.WaitHealthy(ctx, first))
	require.Equal(t, "alexus actions", first.Name)
	require.Equal(t, s.addrs["actions"], first.Addr)
	require.NotEmpty(t, first.PprofAddr)
	second, err := s.StartPlane("orchestrator")
	require.NoError(t, err)
	require.NoError(t, second.Gone())

	key := s.Namespace.Tenant("bench", "stream")
	require.NoError(t, s.Redis.Set(ctx, key, "x", 0).Err())
	dir := s.Dir
	s.Close()
	s.Close()

	<-first.Exited()
	<-second.Exited()
	require.NoDirExists(t, dir)
	require.Contains(t, log.String(), "started alexus actions (pid ")
	conn, err := pgx.Connect(ctx, storetest.AdminURL())
	require.NoError(t, err)
	defer conn.Close(ctx)
	var exists bool
	require.NoError(t, conn.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)", s.DBName).Scan(&exists))
	require.False(t, exists, "the database is dropped")
	rdb, _ := redistest.New(t)
	n, err := rdb.Exists(ctx, key).Result()
	require.NoError(t, err)
	require.Zero(t, n, "the namespace's keys are deleted")
}

func TestWaitHealthyPlaneExits(t *testing.T) {
	t.Parallel()
	s := setup(t, Config{})
	// The fake binary answers "migrate" at once, so as a plane it exits
	// before it is healthy.
	p, err := s.StartPlane("migrate")
	require.NoError(t, err)
	<-p.Exited()
	require.ErrorContains(t, s.WaitHealthy(context.Background(), p), "while starting: alexus migrate exited (<nil>)")
}

// lastValues maps each KEY of `env` output to its last value, as exec
// uses it.
func lastValues(out string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			m[k] = v
		}
	}
	return m
}
