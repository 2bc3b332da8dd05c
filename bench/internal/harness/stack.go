package harness

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/alexus-platform/alexus/internal/rediskey"
)

// roles are the planes of the alexus binary, each served by a subcommand.
// Every one gets a free port, started or not.
var roles = []string{"gateway", "ingest", "orchestrator", "actions"}

// Config says where the stores are and how to run the planes.
type Config struct {
	Flags
	// RepoRoot is where `go build ./cmd/alexus` runs.
	RepoRoot string
	// Bin is a prebuilt alexus binary; empty builds ./cmd/alexus.
	Bin string
	// Pprof serves net/http/pprof on each plane, on a free loopback port.
	Pprof bool
	// Keep leaves the database, the Redis namespace and the temporary
	// folder (binary, logs) in place.
	Keep bool
	// Settings, when set, returns the benchmark's own KEY=VALUE settings
	// for the planes. It runs once the binary and the base settings are
	// ready, so it may ask the binary (`alexus <role> --help`);
	// Flags.PlaneEnv wins over what it returns.
	Settings func(ctx context.Context, s *Stack) ([]string, error)
	// Log receives the progress lines.
	Log io.Writer
}

// Stack is a throw-away Alexus: a migrated database, a Redis namespace, the
// binary and the planes' environment, and the planes the benchmark starts.
// Close undoes all of it.
type Stack struct {
	cfg Config
	// Dir is the temporary folder: the binary, when built, and the logs.
	Dir string
	// Bin is the alexus binary the planes run.
	Bin    string
	DBName string
	// DBURL is the admin URL of the stack's database.
	DBURL     string
	Namespace rediskey.Space
	Redis     *redis.Client

	addrs     map[string]string // role → address
	env       []string          // the planes' environment
	planes    []*Plane          // in the order they were started
	closeOnce sync.Once
}

// Start prepares everything but the planes. On error, whatever was made is
// undone.
func Start(ctx context.Context, cfg Config) (_ *Stack, err error) {
	s := &Stack{cfg: cfg, Namespace: rediskey.Space("alexusbench" + randHex(6)), addrs: map[string]string{}}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if s.Dir, err = os.MkdirTemp("", "alexus-bench-"); err != nil {
		return nil, err
	}
	opt, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("-redis-url: %w", err)
	}
	s.Redis = redis.NewClient(opt)
	if err := s.Redis.Ping(ctx).Err(); err != nil {
		return nil, fmt.Errorf("redis at %s: %w", opt.Addr, err)
	}

	if s.Bin = cfg.Bin; s.Bin == "" {
		s.Bin = filepath.Join(s.Dir, "alexus")
		s.logf("building %s", s.Bin)
		build := exec.CommandContext(ctx, "go", "build", "-o", s.Bin, "./cmd/alexus")
		build.Dir = cfg.RepoRoot
		if out, err := build.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build ./cmd/alexus: %w\n%s", err, out)
		}
	}

	if err := s.createDatabase(ctx); err != nil {
		return nil, err
	}
	// The planes dial each other lazily and a benchmark calls only some of
	// them, but free ports for all keep every plane away from a developer's
	// own planes on the default ones.
	for _, role := range roles {
		if s.addrs[role], err = FreeAddr(); err != nil {
			return nil, err
		}
	}
	s.env = append(cleanEnv(),
		"ALEXUS_POSTGRES_URL="+s.DBURL,
		"ALEXUS_REDIS_URL="+cfg.RedisURL,
		"ALEXUS_REDIS_NAMESPACE="+string(s.Namespace),
		"ALEXUS_INTERNAL_TOKEN_SECRET="+RandSecret(),
		"ALEXUS_LOG_LEVEL="+cfg.LogLevel,
	)
	for _, role := range roles {
		s.env = append(s.env, "ALEXUS_"+strings.ToUpper(role)+"_ADDR="+s.addrs[role])
	}
	if cfg.Settings != nil {
		more, err := cfg.Settings(ctx, s)
		if err != nil {
			return nil, err
		}
		s.env = append(s.env, more...)
	}
	s.env = append(s.env, cfg.PlaneEnv...)

	if _, err := s.Alexus(ctx, "migrate"); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Stack) logf(format string, args ...any) {
	fmt.Fprintf(s.cfg.Log, format+"\n", args...)
}

// cleanEnv is this process's environment without ALEXUS_* settings, so a
// developer's shell cannot point the planes at other stores or secrets.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ALEXUS_") {
			out = append(out, kv)
		}
	}
	return out
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// RandSecret is a fresh 32-byte secret in the form the planes' secret
// settings take.
func RandSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return "base64:" + base64.StdEncoding.EncodeToString(b)
}

func (s *Stack) createDatabase(ctx context.Context) error {
	u, err := url.Parse(s.cfg.PostgresURL)
	if err != nil {
		return fmt.Errorf("-postgres-url: %w", err)
	}
	conn, err := pgx.Connect(ctx, s.cfg.PostgresURL)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	defer conn.Close(ctx)
	name := "alexus_bench_" + randHex(6)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return fmt.Errorf("create database: %w", err)
	}
	s.DBName = name
	u.Path = "/" + name
	s.DBURL = u.String()
	s.logf("database %s, redis namespace %s", name, s.Namespace)
	return nil
}

// Alexus runs one administrative subcommand with the planes' environment
// and returns its output.
func (s *Stack) Alexus(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, s.Bin, args...)
	cmd.Env = s.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("alexus %s: %w\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String(), nil
}

// Plane is one running alexus process, serving one role.
type Plane struct {
	*Process
	// Role is the subcommand it runs: gateway, ingest, orchestrator or
	// actions.
	Role string
	// Addr is where it serves its API.
	Addr string
	// PprofAddr is where it serves net/http/pprof; empty unless
	// Config.Pprof.
	PprofAddr string
}

// StartPlane starts the plane of a role, its output in <role>.log in the
// temporary folder. It does not wait for the plane to serve: see
// WaitHealthy.
func (s *Stack) StartPlane(role string) (*Plane, error) {
	p := &Plane{Role: role, Addr: s.addrs[role]}
	env := s.env
	if s.cfg.Pprof {
		addr, err := FreeAddr()
		if err != nil {
			return nil, err
		}
		p.PprofAddr = addr
		env = append(slices.Clip(env), "ALEXUS_PPROF_ADDR="+addr)
	}
	cmd := exec.Command(s.Bin, role)
	cmd.Env = env
	proc, err := StartProcess("alexus "+role, cmd, filepath.Join(s.Dir, role+".log"))
	if err != nil {
		return nil, err
	}
	p.Process = proc
	s.planes = append(s.planes, p)
	s.logf("started alexus %s (pid %d), log %s", role, p.PID(), p.LogPath)
	return p, nil
}

// WaitHealthy polls `alexus health` until the plane serves, it exits, or
// Flags.ReadyTimeout passes.
func (s *Stack) WaitHealthy(ctx context.Context, p *Plane) error {
	deadline := time.Now().Add(s.cfg.ReadyTimeout)
	for {
		if err := p.Gone(); err != nil {
			return fmt.Errorf("while starting: %w", err)
		}
		if _, err := s.Alexus(ctx, "health", "--addr", p.Addr, "--timeout", "1s"); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not healthy at %s after %s; its log:\n%s", p.Name, p.Addr, s.cfg.ReadyTimeout, Tail(p.LogPath, 20))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// PostgresBackends returns a lister of the server processes serving the
// stack's database, except the one with pid except (0 for none): for
// procstat.WatchGroup.
func (s *Stack) PostgresBackends(except int) func() ([]int, error) {
	return s.postgresBackends("SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> $2", except)
}

// PostgresBackendsOf is like PostgresBackends, for the backends of one
// plane: those whose application_name is "alexus <plane>", as the planes
// name their connections.
func (s *Stack) PostgresBackendsOf(plane string) func() ([]int, error) {
	return s.postgresBackends("SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = $2", "alexus "+plane)
}

func (s *Stack) postgresBackends(query string, arg any) func() ([]int, error) {
	return func() ([]int, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, s.cfg.PostgresURL)
		if err != nil {
			return nil, err
		}
		defer conn.Close(ctx)
		rows, err := conn.Query(ctx, query, s.DBName, arg)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, pgx.RowTo[int])
	}
}

// Close stops the planes still running, in the reverse of the order they
// were started: a benchmark starts a plane before those that call it, so
// none is called once it has stopped. Unless Config.Keep, it then drops
// the database, deletes the namespace's Redis keys and removes the
// temporary folder. It is safe to call more than once.
func (s *Stack) Close() {
	s.closeOnce.Do(func() {
		for _, p := range slices.Backward(s.planes) {
			_ = p.Stop()
		}
		if s.cfg.Keep {
			s.logf("kept database %s (%s), redis namespace %s and the planes' logs in %s", s.DBName, s.DBURL, s.Namespace, s.Dir)
		}
		if s.DBName != "" && !s.cfg.Keep {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if conn, err := pgx.Connect(ctx, s.cfg.PostgresURL); err == nil {
				if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+s.DBName+" WITH (FORCE)"); err != nil {
					s.logf("drop database %s: %v", s.DBName, err)
				}
				conn.Close(ctx)
			} else {
				s.logf("drop database %s: %v", s.DBName, err)
			}
			cancel()
		}
		if s.Redis != nil && !s.cfg.Keep {
			if n, err := deleteNamespace(context.Background(), s.Redis, string(s.Namespace)); err != nil {
				s.logf("delete redis keys of %s: %v (%d deleted)", s.Namespace, err, n)
			}
		}
		if s.Redis != nil {
			s.Redis.Close()
		}
		if s.Dir != "" && !s.cfg.Keep {
			os.RemoveAll(s.Dir)
		}
	})
}

// deleteNamespace unlinks every key of the namespace, the global registry
// included, and returns how many it removed.
func deleteNamespace(ctx context.Context, rdb *redis.Client, ns string) (int, error) {
	var n int
	iter := rdb.Scan(ctx, 0, ns+":*", 1000).Iterator()
	var batch []string
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := rdb.Unlink(ctx, batch...).Err()
		n += len(batch)
		batch = batch[:0]
		return err
	}
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 500 {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := iter.Err(); err != nil {
		return n, err
	}
	return n, flush()
}
