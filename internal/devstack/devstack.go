package devstack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.uber.org/zap"
)

// DefaultDataDir is the data folder used when neither Options.DataDir nor
// ALEXUS_DATA_DIR is set. It is relative to the working directory, so each
// checkout gets its own servers.
const DefaultDataDir = ".alexus"

// Options configures Start. The zero value is usable.
type Options struct {
	// DataDir holds the Postgres cluster (<DataDir>/postgres), Redis's working
	// folder (<DataDir>/redis) and the servers' logs (<DataDir>/logs). Empty
	// means ALEXUS_DATA_DIR, then DefaultDataDir.
	DataDir string
	// Log receives progress and unexpected exits; nil discards them.
	Log *zap.Logger
	// StartTimeout bounds how long each server may take to accept
	// connections (initdb not included). Zero means one minute.
	StartTimeout time.Duration
	// StopTimeout is how long Stop waits after the polite signal before it
	// kills a server. Zero means ten seconds.
	StopTimeout time.Duration
}

// Stack is a running pair of private servers.
type Stack struct {
	// PostgresURL is the superuser (admin) URL of database "alexus": it can
	// run migrations, and the planes derive their restricted role from it.
	PostgresURL string
	// RedisURL reaches the private Redis, database 0.
	RedisURL string
	// DataDir is the absolute data folder in use.
	DataDir string

	log         *zap.Logger
	stopTimeout time.Duration
	postgres    *child
	redis       *child
	sockDir     string

	stopOnce sync.Once
	stopErr  error
	done     chan struct{}
}

// Start starts (initialising on first use) the private Postgres and Redis
// in the data folder and returns once both accept connections. Cancelling
// ctx later stops them, as Stop does; Done reports when that has finished.
func Start(ctx context.Context, opts Options) (*Stack, error) {
	log := opts.Log
	if log == nil {
		log = zap.NewNop()
	}
	log = log.Named("devstack")
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = time.Minute
	}
	if opts.StopTimeout <= 0 {
		opts.StopTimeout = 10 * time.Second
	}
	dir := opts.DataDir
	if dir == "" {
		dir = os.Getenv("ALEXUS_DATA_DIR")
	}
	if dir == "" {
		dir = DefaultDataDir
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("resolve data folder: %w", err)
	}

	// Look for every binary before starting anything, so a developer missing
	// both servers learns it from one message.
	bins, err := findBinaries(dir)
	if err != nil {
		return nil, err
	}
	owner, err := postgresOwner()
	if err != nil {
		return nil, err
	}
	for _, d := range []string{dir, filepath.Join(dir, "logs"), filepath.Join(dir, "redis")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("create data folder %s: %w", d, err)
		}
	}

	s := &Stack{DataDir: dir, log: log, stopTimeout: opts.StopTimeout, done: make(chan struct{})}
	pg, err := s.startPostgres(ctx, bins, owner, opts.StartTimeout)
	if err != nil {
		s.stopChildren()
		return nil, err
	}
	s.postgres = pg
	rd, err := s.startRedis(ctx, bins.redisServer, opts.StartTimeout)
	if err != nil {
		s.stopChildren()
		return nil, err
	}
	s.redis = rd

	s.watch(s.postgres)
	s.watch(s.redis)
	go func() {
		select {
		case <-ctx.Done():
			log.Info("context cancelled; stopping private servers")
			_ = s.Stop()
		case <-s.done:
		}
	}()
	log.Info("private servers ready",
		zap.String("data_dir", dir),
		zap.String("postgres", s.PostgresURL),
		zap.String("redis", s.RedisURL))
	return s, nil
}

// Stop shuts both servers down: the polite signal first (a fast shutdown
// for Postgres), SIGKILL to the whole process group after StopTimeout. It is
// safe to call more than once and from several goroutines; every call
// returns the first call's result once both servers are gone.
func (s *Stack) Stop() error {
	s.stopOnce.Do(func() {
		s.stopErr = s.stopChildren()
		close(s.done)
	})
	<-s.done
	return s.stopErr
}

// Done is closed once Stop has finished, whether it was called directly or
// because Start's context was cancelled.
func (s *Stack) Done() <-chan struct{} { return s.done }

// stopChildren stops whichever servers are running, in parallel, since
// neither depends on the other.
func (s *Stack) stopChildren() error {
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, c := range []*child{s.postgres, s.redis} {
		if c == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.stop(s.stopTimeout); err != nil {
				errs[i] = fmt.Errorf("stop %s: %w", c.name, err)
			}
		}()
	}
	wg.Wait()
	if s.sockDir != "" {
		_ = os.RemoveAll(s.sockDir)
	}
	return errors.Join(errs...)
}

// watch logs a server that exits on its own, which otherwise would surface
// only as connection errors far from the cause.
func (s *Stack) watch(c *child) {
	go func() {
		select {
		case <-c.exited:
			if !c.stopping.Load() {
				s.log.Error("private server exited unexpectedly",
					zap.String("server", c.name),
					zap.Error(c.waitErr),
					zap.String("log", c.logPath),
					zap.String("log_tail", tail(c.logPath, 10)))
			}
		case <-s.done:
		}
	}()
}
