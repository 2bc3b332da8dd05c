package devstack

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
)

// startRedis starts redis-server on a free loopback port with persistence
// off: everything Alexus keeps in Redis is either rebuilt (caches, dedup
// windows) or already durable in Postgres once acknowledged.
func (s *Stack) startRedis(ctx context.Context, bin string, timeout time.Duration) (*child, error) {
	logPath := filepath.Join(s.DataDir, "logs", "redis.log")
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		cmd := exec.Command(bin,
			"--port", strconv.Itoa(port),
			"--bind", "127.0.0.1",
			"--save", "",
			"--appendonly", "no",
			"--dir", filepath.Join(s.DataDir, "redis"))
		cmd.Dir = s.DataDir
		c, err := startChild("redis", cmd, logPath, syscall.SIGTERM, nil)
		if err != nil {
			return nil, err
		}
		s.log.Info("starting private redis", zap.Int("port", port))
		addr := "127.0.0.1:" + strconv.Itoa(port)
		rdb := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: time.Second, MaxRetries: -1})
		err = waitReady(ctx, c, timeout, func(ctx context.Context) error { return rdb.Ping(ctx).Err() })
		_ = rdb.Close()
		if err == nil {
			s.RedisURL = "redis://" + addr + "/0"
			return c, nil
		}
		_ = c.stop(s.stopTimeout)
		var ex *errExited
		if errors.As(err, &ex) && ex.portTaken() && attempt < portAttempts {
			s.log.Info("redis port was taken; retrying on another", zap.Int("port", port))
			continue
		}
		return nil, fmt.Errorf("start redis: %w", err)
	}
}
