// Package riverstop stops a River client the way every plane wants at
// shutdown: first gracefully, then by cancelling what is still running so
// that River runs it again later.
package riverstop

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"go.uber.org/zap"
)

// Stop stops client fetching jobs and waits up to timeout for the running
// ones; after that it cancels them (River retries a cancelled run later)
// and waits up to timeout again. what names the jobs in errors and the
// log, e.g. "quality gates".
func Stop(client *river.Client[pgx.Tx], timeout time.Duration, log *zap.Logger, what string) error {
	soft, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := client.Stop(soft)
	if err == nil {
		return nil
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("stop the river client of %s: %w", what, err)
	}
	log.Warn(what+" still running after the shutdown timeout; cancelling them for a later retry", zap.Duration("shutdown_timeout", timeout))
	hard, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := client.StopAndCancel(hard); err != nil {
		return fmt.Errorf("cancel running %s: %w", what, err)
	}
	return nil
}
