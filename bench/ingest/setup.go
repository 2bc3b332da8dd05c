package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// benchTenant is the tenant every Alexus delivery is made for.
const benchTenant = "bench"

// stackConfig says where the stores are and how to run the planes.
type stackConfig struct {
	repoRoot    string
	postgresURL string // admin URL of the server; a fresh database is made on it
	redisURL    string
	sources     []string
	logLevel    string
	// planeEnv are extra KEY=VALUE settings for both planes; they win over
	// the benchmark's own.
	planeEnv     []string
	readyTimeout time.Duration
	// concurrency is the benchmark's -c, the bench tenant's connections.
	concurrency int
	log         io.Writer
}

// plane is one running alexus process.
type plane struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
	waitErr error
}

// stack is a running Alexus: its database, Redis namespace, tokens and two
// processes. close undoes all of it.
type stack struct {
	cfg       stackConfig
	tmp       string
	bin       string
	dbName    string
	dbURL     string
	namespace string
	tokens    map[string]string // source → integration token
	env       []string          // the planes' environment
	// limitNotes says which limit settings the binary has and what was done
	// with each.
	limitNotes []string

	gatewayAddr, ingestAddr string
	gateway, ingest         *plane

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

// startStack prepares everything and returns once both planes serve. On
// error, whatever was made is undone.
func startStack(ctx context.Context, cfg stackConfig) (_ *stack, err error) {
	s := &stack{cfg: cfg, namespace: "alexusbench" + randHex(6), tokens: map[string]string{}}
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

	s.bin = filepath.Join(s.tmp, "alexus")
	s.logf("building %s", s.bin)
	build := exec.CommandContext(ctx, "go", "build", "-o", s.bin, "./cmd/alexus")
	build.Dir = cfg.repoRoot
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build ./cmd/alexus: %w\n%s", err, out)
	}

	if err := s.createDatabase(ctx); err != nil {
		return nil, err
	}
	if s.gatewayAddr, err = freeAddr(); err != nil {
		return nil, err
	}
	if s.ingestAddr, err = freeAddr(); err != nil {
		return nil, err
	}
	// The gateway dials these lazily and the benchmark never calls them,
	// but free ports keep it away from a developer's own planes on the
	// default ones.
	orchestratorAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	actionsAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s.env = append(cleanEnv(),
		"ALEXUS_POSTGRES_URL="+s.dbURL,
		"ALEXUS_REDIS_URL="+cfg.redisURL,
		"ALEXUS_REDIS_NAMESPACE="+s.namespace,
		"ALEXUS_INTERNAL_TOKEN_SECRET="+randSecret(),
		"ALEXUS_INGEST_ADDR="+s.ingestAddr,
		"ALEXUS_GATEWAY_ADDR="+s.gatewayAddr,
		"ALEXUS_ORCHESTRATOR_ADDR="+orchestratorAddr,
		"ALEXUS_ACTIONS_ADDR="+actionsAddr,
		"ALEXUS_JWT_ISSUER=alexus-bench",
		"ALEXUS_JWT_AUDIENCE=alexus",
		"ALEXUS_DEV_JWT_SECRET="+randSecret(),
		"ALEXUS_LOG_LEVEL="+cfg.logLevel,
	)
	limits, err := s.limitSettings(ctx)
	if err != nil {
		return nil, err
	}
	s.env = append(s.env, limits...)
	s.env = append(s.env, cfg.planeEnv...)

	if _, err := s.alexus(ctx, "migrate"); err != nil {
		return nil, err
	}
	if _, err := s.alexus(ctx, "tenant", "create", benchTenant); err != nil {
		return nil, err
	}
	for _, src := range cfg.sources {
		out, err := s.alexus(ctx, "integration", "create", "--tenant", benchTenant, "--source", src, "--name", "bench-"+src)
		if err != nil {
			return nil, err
		}
		tok := lastLineWithPrefix(out, "alx_")
		if tok == "" {
			return nil, fmt.Errorf("integration create --source %s printed no alx_ token:\n%s", src, out)
		}
		s.tokens[src] = tok
	}

	if s.ingest, err = s.startPlane("ingest"); err != nil {
		return nil, err
	}
	if err := s.waitHealthy(ctx, s.ingest, s.ingestAddr); err != nil {
		return nil, err
	}
	if s.gateway, err = s.startPlane("gateway"); err != nil {
		return nil, err
	}
	if err := s.waitHealthy(ctx, s.gateway, s.gatewayAddr); err != nil {
		return nil, err
	}
	if err := s.checkTokens(ctx); err != nil {
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

func lastLineWithPrefix(out, prefix string) string {
	var last string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); strings.HasPrefix(line, prefix) {
			last = line
		}
	}
	return last
}

// startPlane starts one plane with its output in a log file. The plane gets
// its own process group, so a Ctrl-C at the terminal reaches only the
// benchmark, which then stops the planes in order.
func (s *stack) startPlane(name string) (*plane, error) {
	p := &plane{name: name, logPath: filepath.Join(s.tmp, name+".log"), exited: make(chan struct{})}
	logFile, err := os.Create(p.logPath)
	if err != nil {
		return nil, err
	}
	p.cmd = exec.Command(s.bin, name)
	p.cmd.Env = s.env
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start alexus %s: %w", name, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		logFile.Close()
		close(p.exited)
	}()
	s.logf("started alexus %s (pid %d), log %s", name, p.cmd.Process.Pid, p.logPath)
	return p, nil
}

// waitHealthy polls `alexus health` until the plane serves, it exits, or
// the deadline passes.
func (s *stack) waitHealthy(ctx context.Context, p *plane, addr string) error {
	deadline := time.Now().Add(s.cfg.readyTimeout)
	for {
		select {
		case <-p.exited:
			return fmt.Errorf("alexus %s exited while starting (%v); its log:\n%s", p.name, p.waitErr, tail(p.logPath, 20))
		default:
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

// checkTokens posts an empty body with each source's token. The gateway
// authenticates before it reads the body, so 400 ("body is empty") proves
// the token is good for its source without storing anything.
func (s *stack) checkTokens(ctx context.Context) error {
	for src, tok := range s.tokens {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+s.gatewayAddr+"/v1/webhooks/"+src, http.NoBody)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return fmt.Errorf("gateway at %s: %w", s.gatewayAddr, err)
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		resp.Body.Close()
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			return fmt.Errorf("gateway refuses the integration token for %s: %d %s", src, resp.StatusCode, body)
		}
	}
	return nil
}

// pids returns the planes' names and process IDs, gateway first.
func (s *stack) pids() ([]string, []int) {
	return []string{"gateway", "ingest"}, []int{s.gateway.cmd.Process.Pid, s.ingest.cmd.Process.Pid}
}

// alive reports a plane that has exited, or nil.
func (s *stack) alive() error {
	for _, p := range []*plane{s.gateway, s.ingest} {
		select {
		case <-p.exited:
			return fmt.Errorf("alexus %s exited during the run (%v); its log:\n%s", p.name, p.waitErr, tail(p.logPath, 20))
		default:
		}
	}
	return nil
}

// close stops the planes (gateway first, so no request is in flight when
// ingest goes), drops the database, deletes the namespace's Redis keys and
// removes the temporary folder. It is safe to call more than once.
func (s *stack) close() {
	s.closeOnce.Do(func() {
		for _, p := range []*plane{s.gateway, s.ingest} {
			stopPlane(p)
		}
		if s.dbName != "" {
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
		if s.rdb != nil {
			if n, err := deleteNamespace(context.Background(), s.rdb, s.namespace); err != nil {
				s.logf("delete redis keys of %s: %v (%d deleted)", s.namespace, err, n)
			}
			s.rdb.Close()
		}
		if s.tmp != "" {
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

// postgresBackends lists the server processes serving the benchmark's
// database (the gateway's pool, which resolves integration tokens).
func (s *stack) postgresBackends() ([]int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.cfg.postgresURL)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT pid FROM pg_stat_activity WHERE datname = $1", s.dbName)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int])
}
