package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/alexus-platform/alexus/internal/rediskey"
)

// benchTenant is the tenant every signal is written for.
const benchTenant = "bench"

// stackConfig says where the stores are and how to run the planes.
type stackConfig struct {
	repoRoot    string
	postgresURL string // admin URL of the server; a fresh database is made on it
	redisURL    string
	logLevel    string
	// planeEnv are extra KEY=VALUE settings for both planes; they win over
	// the benchmark's own.
	planeEnv []string
	// bin is a prebuilt alexus binary; empty builds ./cmd/alexus.
	bin          string
	readyTimeout time.Duration
	// pprof serves net/http/pprof on each plane, on a free loopback port.
	pprof bool
	// keep leaves the database, the Redis namespace and the temporary
	// folder (binary, logs) in place.
	keep bool
	log  io.Writer
}

// plane is one running alexus process.
type plane struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	// pprofAddr is where the plane serves net/http/pprof; empty when off.
	pprofAddr string
	started   time.Time
	exited    chan struct{}
	waitErr   error
}

// pid is the plane's process ID.
func (p *plane) pid() int { return p.cmd.Process.Pid }

// gone returns an error with the plane's log tail when it has exited, or
// nil while it runs.
func (p *plane) gone() error {
	select {
	case <-p.exited:
		return fmt.Errorf("alexus %s exited (%v); its log:\n%s", p.name, p.waitErr, tail(p.logPath, 20))
	default:
		return nil
	}
}

// stack is a running Alexus without its orchestrator: a database with the
// bench tenant and its webhook target, a Redis namespace, the webhook
// receiver and the action plane. The orchestrator is started separately,
// once the backlog is written. close undoes all of it.
type stack struct {
	cfg       stackConfig
	tmp       string
	bin       string
	dbName    string
	dbURL     string
	namespace rediskey.Space
	env       []string // the planes' environment

	orchestratorAddr, actionsAddr string
	actions, orchestrator         *plane

	// sink is the tenant's "default" webhook target; it answers 200 and
	// counts deliveries.
	sink       *httptest.Server
	deliveries atomic.Int64

	rdb       *redis.Client
	closeOnce sync.Once
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func randSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return "base64:" + base64.StdEncoding.EncodeToString(b)
}

// freeAddr returns a loopback address with a port nothing listens on now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startStack prepares everything but the orchestrator and returns once the
// action plane serves. On error, whatever was made is undone.
func startStack(ctx context.Context, cfg stackConfig) (_ *stack, err error) {
	s := &stack{cfg: cfg, namespace: rediskey.Space("alexusbench" + randHex(6))}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	if s.tmp, err = os.MkdirTemp("", "alexus-bench-"); err != nil {
		return nil, err
	}
	opt, err := redis.ParseURL(cfg.redisURL)
	if err != nil {
		return nil, fmt.Errorf("-redis-url: %w", err)
	}
	s.rdb = redis.NewClient(opt)
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return nil, fmt.Errorf("redis at %s: %w", opt.Addr, err)
	}

	if s.bin = cfg.bin; s.bin == "" {
		s.bin = filepath.Join(s.tmp, "alexus")
		s.logf("building %s", s.bin)
		build := exec.CommandContext(ctx, "go", "build", "-o", s.bin, "./cmd/alexus")
		build.Dir = cfg.repoRoot
		if out, err := build.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build ./cmd/alexus: %w\n%s", err, out)
		}
	}

	if err := s.createDatabase(ctx); err != nil {
		return nil, err
	}
	// The orchestrator dials the others lazily and never calls the
	// gateway or ingest, but free ports keep every plane away from a
	// developer's own planes on the default ones.
	var gatewayAddr, ingestAddr string
	for _, a := range []*string{&gatewayAddr, &ingestAddr, &s.orchestratorAddr, &s.actionsAddr} {
		if *a, err = freeAddr(); err != nil {
			return nil, err
		}
	}
	s.env = append(cleanEnv(),
		"ALEXUS_POSTGRES_URL="+s.dbURL,
		"ALEXUS_REDIS_URL="+cfg.redisURL,
		"ALEXUS_REDIS_NAMESPACE="+string(s.namespace),
		"ALEXUS_INTERNAL_TOKEN_SECRET="+randSecret(),
		"ALEXUS_ACTIONS_WEBHOOK_SECRET="+randSecret(),
		"ALEXUS_GATEWAY_ADDR="+gatewayAddr,
		"ALEXUS_INGEST_ADDR="+ingestAddr,
		"ALEXUS_ORCHESTRATOR_ADDR="+s.orchestratorAddr,
		"ALEXUS_ACTIONS_ADDR="+s.actionsAddr,
		"ALEXUS_LOG_LEVEL="+cfg.logLevel,
	)
	s.env = append(s.env, cfg.planeEnv...)

	if _, err := s.alexus(ctx, "migrate"); err != nil {
		return nil, err
	}
	s.sink = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		s.deliveries.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	// Executes hand a webhook action to the "default" target; with it
	// registered the action plane accepts them and its deliveries succeed.
	if _, err := s.alexus(ctx, "tenant", "create", benchTenant, "--webhook-url", s.sink.URL+"/remediate"); err != nil {
		return nil, err
	}
	if s.actions, err = s.startPlane("actions"); err != nil {
		return nil, err
	}
	if err := s.waitHealthy(ctx, s.actions, s.actionsAddr); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *stack) logf(format string, args ...any) {
	fmt.Fprintf(s.cfg.log, format+"\n", args...)
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

func (s *stack) createDatabase(ctx context.Context) error {
	u, err := url.Parse(s.cfg.postgresURL)
	if err != nil {
		return fmt.Errorf("-postgres-url: %w", err)
	}
	conn, err := pgx.Connect(ctx, s.cfg.postgresURL)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	defer conn.Close(ctx)
	name := "alexus_bench_" + randHex(6)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return fmt.Errorf("create database: %w", err)
	}
	s.dbName = name
	u.Path = "/" + name
	s.dbURL = u.String()
	s.logf("database %s, redis namespace %s", name, s.namespace)
	return nil
}

// alexus runs one administrative subcommand and returns its output.
func (s *stack) alexus(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, s.bin, args...)
	cmd.Env = s.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("alexus %s: %w\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String(), nil
}

// startPlane starts one plane with its output in a log file. The plane gets
// its own process group, so a Ctrl-C at the terminal reaches only the
// benchmark, which then stops the planes in order.
func (s *stack) startPlane(name string) (*plane, error) {
	p := &plane{name: name, logPath: filepath.Join(s.tmp, name+".log"), exited: make(chan struct{})}
	env := s.env
	if s.cfg.pprof {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		p.pprofAddr = addr
		env = append(append([]string{}, env...), "ALEXUS_PPROF_ADDR="+addr)
	}
	logFile, err := os.Create(p.logPath)
	if err != nil {
		return nil, err
	}
	p.cmd = exec.Command(s.bin, name)
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start alexus %s: %w", name, err)
	}
	p.started = time.Now()
	go func() {
		p.waitErr = p.cmd.Wait()
		logFile.Close()
		close(p.exited)
	}()
	s.logf("started alexus %s (pid %d), log %s", name, p.pid(), p.logPath)
	return p, nil
}

// startOrchestrator starts the orchestrator plane. It does not wait for its
// health check: the consumer starts reading as the plane starts, and the
// benchmark's clock runs from the first stored transition.
func (s *stack) startOrchestrator() error {
	p, err := s.startPlane("orchestrator")
	if err != nil {
		return err
	}
	s.orchestrator = p
	return nil
}

// stopOrchestrator stops the orchestrator plane, gracefully.
func (s *stack) stopOrchestrator() error {
	p := s.orchestrator
	stopPlane(p)
	s.orchestrator = nil
	if p.waitErr != nil {
		return fmt.Errorf("alexus orchestrator stopped with %v; its log:\n%s", p.waitErr, tail(p.logPath, 20))
	}
	return nil
}

// waitHealthy polls `alexus health` until the plane serves, it exits, or
// the deadline passes.
func (s *stack) waitHealthy(ctx context.Context, p *plane, addr string) error {
	deadline := time.Now().Add(s.cfg.readyTimeout)
	for {
		if err := p.gone(); err != nil {
			return fmt.Errorf("while starting: %w", err)
		}
		if _, err := s.alexus(ctx, "health", "--addr", addr, "--timeout", "1s"); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("alexus %s not healthy at %s after %s; its log:\n%s", p.name, addr, s.cfg.readyTimeout, tail(p.logPath, 20))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// adminConn connects to the bench database as the admin user, who is not
// subject to the tenant tables' row-level security.
func (s *stack) adminConn(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.Connect(ctx, s.dbURL)
	if err != nil {
		return nil, fmt.Errorf("postgres %s: %w", s.dbName, err)
	}
	return conn, nil
}

// postgresBackends lists the server processes serving the bench database,
// except the one with pid except (the benchmark's own polling connection).
func (s *stack) postgresBackends(except int) func() ([]int, error) {
	return func() ([]int, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, s.cfg.postgresURL)
		if err != nil {
			return nil, err
		}
		defer conn.Close(ctx)
		rows, err := conn.Query(ctx, "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> $2", s.dbName, except)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, pgx.RowTo[int])
	}
}

// close stops the planes (orchestrator first, so no action is asked for
// when the action plane goes), drops the database, deletes the namespace's
// Redis keys, stops the webhook receiver and removes the temporary folder.
// It is safe to call more than once.
func (s *stack) close() {
	s.closeOnce.Do(func() {
		for _, p := range []*plane{s.orchestrator, s.actions} {
			stopPlane(p)
		}
		if s.sink != nil {
			s.sink.Close()
		}
		if s.cfg.keep {
			s.logf("kept database %s (%s), redis namespace %s and the planes' logs in %s", s.dbName, s.dbURL, s.namespace, s.tmp)
		}
		if s.dbName != "" && !s.cfg.keep {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if conn, err := pgx.Connect(ctx, s.cfg.postgresURL); err == nil {
				if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+s.dbName+" WITH (FORCE)"); err != nil {
					s.logf("drop database %s: %v", s.dbName, err)
				}
				conn.Close(ctx)
			} else {
				s.logf("drop database %s: %v", s.dbName, err)
			}
			cancel()
		}
		if s.rdb != nil && !s.cfg.keep {
			if n, err := deleteNamespace(context.Background(), s.rdb, string(s.namespace)); err != nil {
				s.logf("delete redis keys of %s: %v (%d deleted)", s.namespace, err, n)
			}
		}
		if s.rdb != nil {
			s.rdb.Close()
		}
		if s.tmp != "" && !s.cfg.keep {
			os.RemoveAll(s.tmp)
		}
	})
}

// stopPlane asks a plane to stop and kills it after ten seconds.
func stopPlane(p *plane) {
	if p == nil {
		return
	}
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
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

// tail returns the last n lines of a file, for error messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// repoRoot is the folder of the main module's go.mod, where
// `go build ./cmd/alexus` runs and testdata/ lives.
func repoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run from inside the alexus repository (go env GOMOD is empty)")
	}
	return filepath.Dir(mod), nil
}
