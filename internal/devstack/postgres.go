package devstack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"
)

// DatabaseName is the database Start creates and PostgresURL points at.
const DatabaseName = "alexus"

// portAttempts bounds retries when another process takes the probed port.
const portAttempts = 3

// startPostgres initialises the cluster if needed, starts the server on a
// free loopback port and creates the alexus database.
func (s *Stack) startPostgres(ctx context.Context, bins binaries, owner *osUser, timeout time.Duration) (*child, error) {
	pgData := filepath.Join(s.DataDir, "postgres")
	if owner != nil {
		if err := ensureTraversable(s.DataDir, owner, s.log); err != nil {
			return nil, fmt.Errorf("prepare data folder for OS user %s: %w", owner.name, err)
		}
	}
	if err := s.initCluster(ctx, bins, owner, pgData); err != nil {
		return nil, err
	}
	if owner != nil {
		// A cluster made by an earlier run as a normal user belongs to that
		// user; postgres refuses a data directory it does not own.
		mine, err := ownedBy(pgData, owner)
		if err != nil {
			return nil, fmt.Errorf("inspect cluster ownership: %w", err)
		}
		if !mine {
			s.log.Warn("giving the cluster to the postgres OS user", zap.String("dir", pgData))
			if err := chownTree(pgData, owner); err != nil {
				return nil, fmt.Errorf("give cluster %s to OS user %s: %w", pgData, owner.name, err)
			}
		}
	}
	if err := s.clearStalePID(pgData); err != nil {
		return nil, err
	}

	// The socket lives in a short private folder of its own: a socket path
	// is limited to about 100 bytes, which a deep data folder can exceed,
	// and the distribution's default folder may belong to a system server.
	// Its name derives from the data folder, so a run killed before it could
	// clean up leaves one folder that the next run reuses, not one per run.
	sum := sha256.Sum256([]byte(s.DataDir))
	sockDir := filepath.Join(os.TempDir(), "alexus-pg-"+hex.EncodeToString(sum[:6]))
	if err := os.RemoveAll(sockDir); err != nil {
		return nil, fmt.Errorf("remove old postgres socket folder: %w", err)
	}
	// Mkdir, not MkdirAll: it fails rather than adopt a folder someone else
	// recreated in the shared temporary folder meanwhile.
	if err := os.Mkdir(sockDir, 0o700); err != nil {
		return nil, fmt.Errorf("create postgres socket folder: %w", err)
	}
	s.sockDir = sockDir
	if owner != nil {
		if err := os.Chown(sockDir, int(owner.uid), int(owner.gid)); err != nil {
			return nil, fmt.Errorf("give socket folder to OS user %s: %w", owner.name, err)
		}
	}

	logPath := filepath.Join(s.DataDir, "logs", "postgres.log")
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		cmd := exec.Command(bins.postgres,
			"-D", pgData,
			"-k", sockDir,
			"-c", "listen_addresses=127.0.0.1",
			"-p", strconv.Itoa(port))
		cmd.Dir = s.DataDir
		cmd.Env = serverEnv()
		// SIGINT is Postgres's fast shutdown. SIGTERM would be its smart
		// shutdown, which waits for every client to disconnect and so would
		// hang while the planes still hold pooled connections.
		c, err := startChild("postgres", cmd, logPath, syscall.SIGINT, owner)
		if err != nil {
			return nil, err
		}
		base := fmt.Sprintf("postgres://postgres@127.0.0.1:%d", port)
		s.log.Info("starting private postgres", zap.Int("port", port), zap.String("data", pgData), zap.Int("version", bins.pgMajor))
		err = waitReady(ctx, c, timeout, func(ctx context.Context) error {
			conn, err := pgx.Connect(ctx, base+"/postgres?sslmode=disable")
			if err != nil {
				return err
			}
			return conn.Close(ctx)
		})
		if err == nil {
			err = createDatabase(ctx, base+"/postgres?sslmode=disable")
		}
		if err == nil {
			s.PostgresURL = base + "/" + DatabaseName + "?sslmode=disable"
			return c, nil
		}
		_ = c.stop(s.stopTimeout)
		var ex *errExited
		if errors.As(err, &ex) && ex.portTaken() && attempt < portAttempts {
			s.log.Info("postgres port was taken; retrying on another", zap.Int("port", port))
			continue
		}
		return nil, fmt.Errorf("start postgres: %w", err)
	}
}

// initCluster runs initdb once. It initialises into a scratch folder and
// renames it into place only on success, so an interrupted initdb never
// leaves a half-made cluster that later runs would mistake for a real one.
func (s *Stack) initCluster(ctx context.Context, bins binaries, owner *osUser, pgData string) error {
	if _, err := os.Stat(filepath.Join(pgData, "PG_VERSION")); err == nil {
		s.log.Info("reusing postgres cluster", zap.String("dir", pgData))
		return nil
	}
	if entries, err := os.ReadDir(pgData); err == nil && len(entries) > 0 {
		return fmt.Errorf("initialise postgres cluster: %s is not empty but holds no cluster (no PG_VERSION); move or delete it", pgData)
	}
	_ = os.Remove(pgData)

	scratch := pgData + ".initdb"
	if err := os.RemoveAll(scratch); err != nil {
		return fmt.Errorf("remove leftovers of an interrupted initdb: %w", err)
	}
	if err := os.Mkdir(scratch, 0o700); err != nil {
		return fmt.Errorf("create cluster folder: %w", err)
	}
	if owner != nil {
		if err := os.Chown(scratch, int(owner.uid), int(owner.gid)); err != nil {
			return fmt.Errorf("give cluster folder to OS user %s: %w", owner.name, err)
		}
	}
	logPath := filepath.Join(s.DataDir, "logs", "initdb.log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("open initdb log: %w", err)
	}
	defer f.Close()

	s.log.Info("initialising postgres cluster (first run only)", zap.String("dir", pgData), zap.String("initdb", bins.initdb))
	// Trust authentication is safe here only because the server listens on
	// loopback alone; the C locale exists on every machine, unlike
	// en_US.UTF-8, and the encoding stays UTF8.
	cmd := exec.CommandContext(ctx, bins.initdb,
		"-D", scratch,
		"-U", "postgres",
		"-A", "trust",
		"-E", "UTF8",
		"--locale=C")
	cmd.Dir = s.DataDir
	cmd.Env = serverEnv()
	cmd.Stdout = f
	cmd.Stderr = f
	cmd.SysProcAttr = sysProcAttr(owner, syscall.SIGKILL)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("initialise postgres cluster with %s: %w; last lines of %s:\n%s", bins.initdb, err, logPath, tail(logPath, 15))
	}
	if err := os.Rename(scratch, pgData); err != nil {
		return fmt.Errorf("move new cluster into place: %w", err)
	}
	return nil
}

// clearStalePID removes a postmaster.pid left by a server that was killed
// outright (or by a machine restart). Postgres would itself ignore a file
// naming a dead process, but after a restart the recorded PID often belongs
// to some unrelated process, and then it refuses to start. A live postgres
// in the file means another stack is using this data folder.
func (s *Stack) clearStalePID(pgData string) error {
	pidFile := filepath.Join(pgData, "postmaster.pid")
	b, err := os.ReadFile(pidFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", pidFile, err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(first))
	if pid > 0 && isRunningPostgres(pid) {
		return fmt.Errorf("start postgres: a postgres server (pid %d) is already using %s, probably another alexus dev; "+
			"stop it or give this one another data folder (ALEXUS_DATA_DIR)", pid, pgData)
	}
	if err := os.Remove(pidFile); err != nil {
		return fmt.Errorf("remove stale %s: %w", pidFile, err)
	}
	s.log.Warn("removed a stale postmaster.pid left by a server that did not shut down", zap.Int("pid", pid))
	return nil
}

// isRunningPostgres reports whether pid is a live (not zombie) process named
// postgres. Without /proc (macOS) any live process counts, which errs on the
// side of refusing to start.
func isRunningPostgres(pid int) bool {
	if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		s := string(stat)
		open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || closing < open || closing+2 >= len(s) {
			return false
		}
		comm, state := s[open+1:closing], s[closing+2]
		return state != 'Z' && state != 'X' && strings.HasPrefix(comm, "postgres")
	}
	if _, err := os.Stat("/proc/self/stat"); err == nil {
		// /proc works but has no entry for pid: it is gone.
		return false
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}

// createDatabase creates the alexus database unless it exists.
func createDatabase(ctx context.Context, url string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("connect to create database %s: %w", DatabaseName, err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)", DatabaseName).Scan(&exists); err != nil {
		return fmt.Errorf("look for database %s: %w", DatabaseName, err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+DatabaseName); err != nil {
		return fmt.Errorf("create database %s: %w", DatabaseName, err)
	}
	return nil
}

// serverEnv is the caller's environment without libpq's PG* variables,
// which could otherwise point the servers and tools at another cluster.
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			env = append(env, kv)
		}
	}
	return env
}
