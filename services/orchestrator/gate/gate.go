package gate

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"go.uber.org/zap"
	"go.uber.org/zap/exp/zapslog"

	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
	"github.com/alexus-platform/alexus/internal/riverstop"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/orchestrator/incident"
)

// Queue is the River queue quality gate jobs run on.
const Queue = "quality_gate"

// maxAttempts bounds the retries of a gate that keeps failing (the
// database or the embedder being down): River's backoff spreads ten
// attempts over about seven hours.
const maxAttempts = 10

// stopTimeout is how long Stop waits for gates in flight before
// cancelling them; a cancelled gate runs again later.
const stopTimeout = 10 * time.Second

// Args are a gate job's arguments. The tenant, incident and resolution
// time make it unique, so however often a resolution is stored, one gate
// is scheduled for it, while a reopened incident resolved again gets a
// gate for its new resolution.
type Args struct {
	// Tenant is the incident's tenant; the worker acts for it.
	Tenant string `json:"tenant_id" river:"unique"`
	// IncidentID is the resolved incident.
	IncidentID string `json:"incident_id" river:"unique"`
	// Window is how long after the resolution a recurrence fails the gate:
	// the delay configured when the gate was scheduled.
	Window time.Duration `json:"window"`
	// ResolvedAt is the resolution the gate checks (the incident's
	// resolved_at). A job whose incident was reopened since, and maybe
	// resolved again, is cancelled. Zero in jobs scheduled before it
	// existed, which check the incident's latest resolution.
	ResolvedAt time.Time `json:"resolved_at" river:"unique"`
}

// Kind is the River job kind.
func (Args) Kind() string { return "alexus.orchestrator.quality_gate" }

// Config configures the quality gate.
type Config struct {
	// Delay is how long after a resolution the gate checks it, and so the
	// window in which a recurrence fails it (ALEXUS_QUALITY_GATE_DELAY,
	// default 48h).
	Delay time.Duration
	// Workers is how many gates this replica checks at once
	// (ALEXUS_QUALITY_GATE_WORKERS, default 4).
	Workers int
}

// DefaultConfig returns the defaults documented on Config.
func DefaultConfig() Config { return Config{Delay: 48 * time.Hour, Workers: 4} }

// maxWorkers is River's limit for one queue.
const maxWorkers = 10000

// Validate names the first bad field.
func (c Config) Validate() error {
	switch {
	case c.Delay <= 0:
		return fmt.Errorf("quality gate delay %v must be positive", c.Delay)
	case c.Workers < 1 || c.Workers > maxWorkers:
		return fmt.Errorf("quality gate workers %d must be between 1 and %d", c.Workers, maxWorkers)
	}
	return nil
}

// Gate schedules quality gates and works them with its own River client on
// the plane's pool, on its own queue.
type Gate struct {
	cfg    Config
	client *river.Client[pgx.Tx]
	log    *zap.Logger
}

// New builds the gate's River client around w; nothing runs until Start.
func New(cfg Config, db *store.DB, w *Worker, log *zap.Logger) (*Gate, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, w); err != nil {
		return nil, fmt.Errorf("register quality gate worker: %w", err)
	}
	client, err := river.NewClient(riverpgxv5.New(db.Pool()), &river.Config{
		Logger:      slog.New(zapslog.NewHandler(log.Named("river").Core(), zapslog.WithName("river"))),
		MaxAttempts: maxAttempts,
		Queues:      map[string]river.QueueConfig{Queue: {MaxWorkers: cfg.Workers}},
		Workers:     workers,
	})
	if err != nil {
		return nil, fmt.Errorf("build quality gate river client: %w", err)
	}
	return &Gate{cfg: cfg, client: client, log: log}, nil
}

// Applies reports whether inc gets a quality gate: incidents classified
// as incidents, or not classified yet. A CMDB question, a change notice or
// noise has no fix to validate.
func Applies(inc incident.Incident) bool {
	return inc.Intent == reasoningv1.Intent_INTENT_INCIDENT || inc.Intent == reasoningv1.Intent_INTENT_UNSPECIFIED
}

// Schedule is an incident.ResolveHook: it inserts, in tx, the gate of the
// resolved incident inc, due Delay after its resolution, and reports
// whether inc gets one.
func (g *Gate) Schedule(ctx context.Context, tx pgx.Tx, inc incident.Incident) (bool, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return false, err
	}
	if !Applies(inc) || inc.ResolvedAt == nil {
		return false, nil
	}
	_, err = g.client.InsertTx(ctx, tx, Args{Tenant: string(t), IncidentID: inc.ID, Window: g.cfg.Delay, ResolvedAt: *inc.ResolvedAt}, &river.InsertOpts{
		Queue:       Queue,
		MaxAttempts: maxAttempts,
		ScheduledAt: inc.ResolvedAt.Add(g.cfg.Delay),
		UniqueOpts:  river.UniqueOpts{ByArgs: true},
	})
	if err != nil {
		return false, fmt.Errorf("schedule the quality gate of incident %s: %w", inc.ID, err)
	}
	return true, nil
}

// Start starts working gates. River gets a context that outlives ctx:
// cancelling the one given to Start is River's hard stop; Stop stops it
// gracefully instead.
func (g *Gate) Start(ctx context.Context) error {
	if err := g.client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start quality gate river client: %w", err)
	}
	return nil
}

// Stop stops fetching gates and waits for those in flight; after a while
// it cancels them, and River runs them again later.
func (g *Gate) Stop() error {
	return riverstop.Stop(g.client, stopTimeout, g.log, "quality gates")
}
