package chain

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"go.uber.org/zap"

	"github.com/alexus-platform/alexus/internal/audit"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/actions/job"
)

// Queue is the River queue the chaining runs on, apart from the executors'
// queues so that a busy kind cannot delay it.
const Queue = "audit_chain"

// Args are the periodic chaining job's arguments; it has none.
type Args struct{}

// Kind is the River job kind.
func (Args) Kind() string { return "alexus.audit.chain" }

// PeriodicJob returns the River periodic job that chains every interval,
// and once when the client starts.
func PeriodicJob(interval time.Duration) *river.PeriodicJob {
	return job.Periodic(Args{}, Queue, interval, true)
}

// Chainer links every tenant's unchained audit entries.
type Chainer struct {
	river.WorkerDefaults[Args]
	log *zap.Logger
	db  *store.DB
}

// NewChainer returns a Chainer working through db.
func NewChainer(log *zap.Logger, db *store.DB) *Chainer {
	return &Chainer{log: log, db: db}
}

// Work runs one chaining.
func (c *Chainer) Work(ctx context.Context, _ *river.Job[Args]) error {
	n, err := c.Chain(ctx)
	if n > 0 {
		c.log.Debug("chained audit entries", zap.Int64("entries", n))
	}
	return err
}

// Chain links the unchained entries of every tenant that has some and
// returns how many it linked. A tenant that fails does not stop the others.
func (c *Chainer) Chain(ctx context.Context) (int64, error) {
	tenants, err := audit.PendingTenants(ctx, c.db)
	if err != nil {
		return 0, err
	}
	var (
		total int64
		errs  []error
	)
	for _, t := range tenants {
		n, err := audit.Chain(tenant.WithIdentity(ctx, tenant.Identity{Tenant: t, Subject: job.SystemSubject}), c.db)
		total += n
		if err != nil {
			errs = append(errs, fmt.Errorf("chain audit entries of tenant %s: %w", t, err))
		}
	}
	return total, errors.Join(errs...)
}
