package actions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"go.uber.org/zap"
	"go.uber.org/zap/exp/zapslog"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	actionsv1 "github.com/alexus-platform/alexus/gen/alexus/actions/v1"
	orchestratorv1 "github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1"
	"github.com/alexus-platform/alexus/internal/egress"
	"github.com/alexus-platform/alexus/internal/riverstop"
	"github.com/alexus-platform/alexus/internal/rpc"
	"github.com/alexus-platform/alexus/internal/secretbox"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/internal/ticket/ticketapi"
	"github.com/alexus-platform/alexus/services/actions/action"
	"github.com/alexus-platform/alexus/services/actions/audit"
	"github.com/alexus-platform/alexus/services/actions/chain"
	"github.com/alexus-platform/alexus/services/actions/job"
	"github.com/alexus-platform/alexus/services/actions/notify"
	"github.com/alexus-platform/alexus/services/actions/runbook"
	"github.com/alexus-platform/alexus/services/actions/sweep"
	"github.com/alexus-platform/alexus/services/actions/ticketjob"
	"github.com/alexus-platform/alexus/services/actions/ticketremote"
	"github.com/alexus-platform/alexus/services/actions/ticketstore"
	"github.com/alexus-platform/alexus/services/actions/ticketsync"
	"github.com/alexus-platform/alexus/services/actions/webhook"
)

// Deps are what the action plane runs on.
type Deps struct {
	// Log receives the plane's logs, River's included.
	Log *zap.Logger
	// DB is the application-role pool; River works its job tables through
	// the same pool.
	DB *store.DB
	// Verifier checks the internal identity token on every RPC.
	Verifier *tenant.Verifier
	// RetryPolicy overrides River's default exponential backoff between
	// attempts; nil keeps River's. Tests use it to retry quickly.
	RetryPolicy river.ClientRetryPolicy
	// Keys open the sealed URLs of notify targets and the sealed
	// credentials of runbooks and ticket integrations; without them every
	// notify, runbook and ticket action fails.
	Keys *secretbox.Keyring
	// Orchestrator moves an incident when its Jira issue or ServiceNow
	// record wins a sync (ReceiveTicketEvent and the reconcile job call
	// its SetIncidentStatus). Nil is allowed: such a change then fails
	// with UNAVAILABLE, and the sender retries it.
	Orchestrator orchestratorv1.OrchestratorServiceClient
	// TicketOptions override the Jira and ServiceNow clients' retry
	// policy (Timeout comes from Config.TicketTimeout when zero; the HTTP
	// client is always the plane's, through the egress policy). Tests use
	// it to retry quickly.
	TicketOptions ticketapi.Options
}

// Service is the action plane.
type Service struct {
	cfg      Config
	log      *zap.Logger
	db       *store.DB
	river    *river.Client[pgx.Tx]
	actions  *action.Store
	audit    *audit.Log
	tickets  *ticketstore.Store
	sync     *ticketsync.Syncer
	verifier *tenant.Verifier
	ran      atomic.Bool
	// rescueAfter is when River runs a job of a dead process again.
	rescueAfter time.Duration
}

// New builds the plane and its River client; nothing runs until Run.
func New(cfg Config, deps Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	switch {
	case deps.Log == nil:
		return nil, errors.New("actions: Deps.Log is required")
	case deps.DB == nil:
		return nil, errors.New("actions: Deps.DB is required")
	case deps.Verifier == nil:
		return nil, errors.New("actions: Deps.Verifier is required")
	}
	s := &Service{
		cfg:      cfg,
		log:      deps.Log.Named("actions"),
		db:       deps.DB,
		audit:    audit.NewLog(deps.DB),
		tickets:  ticketstore.NewStore(deps.DB),
		verifier: deps.Verifier,
	}
	// The enqueuer reads s.river when a request arrives, by which time New
	// has set it; the worker needs the store and the client needs the
	// worker, so one of them has to be late-bound.
	s.actions = action.NewStore(deps.DB, func(ctx context.Context, tx pgx.Tx, a action.Action) error {
		switch a.Kind {
		case action.KindWebhook:
			return job.Enqueue[webhook.Args](ctx, s.river, tx, a, cfg.MaxAttempts)
		case action.KindNotify:
			return job.Enqueue[notify.Args](ctx, s.river, tx, a, cfg.MaxAttempts)
		case action.KindRunbook:
			return job.Enqueue[runbook.Args](ctx, s.river, tx, a, cfg.MaxAttempts)
		case action.KindJira:
			return job.Enqueue[ticketjob.JiraArgs](ctx, s.river, tx, a, cfg.MaxAttempts)
		case action.KindServiceNow:
			return job.Enqueue[ticketjob.ServiceNowArgs](ctx, s.river, tx, a, cfg.MaxAttempts)
		default:
			return fmt.Errorf("no executor for action kind %q", a.Kind)
		}
	}, runbook.Check, ticketjob.Check)

	// All executors dial through one egress policy, so they share its
	// cache of the tenants' allow-lists.
	policy := &egress.Policy{Allow: cfg.EgressAllow, TenantAllow: webhook.TenantNetworks(deps.DB)}
	workers := river.NewWorkers()
	// longest is the longest a job of any queue may run; the rescue of
	// stuck jobs must wait longer than that (rescueAfter).
	var longest time.Duration
	webhookWorker := webhook.NewWorker(webhook.WorkerConfig{
		Secret:  cfg.WebhookSecret,
		Timeout: cfg.WebhookTimeout,
		Egress:  policy,
	}, s.log.Named("webhook"), deps.DB, s.actions)
	longest = max(longest, webhookWorker.Timeout(nil))
	if err := river.AddWorkerSafely(workers, webhookWorker); err != nil {
		return nil, fmt.Errorf("register webhook worker: %w", err)
	}
	notifyWorker := notify.NewWorker(notify.WorkerConfig{
		Timeout: cfg.NotifyTimeout,
		Egress:  policy,
		Keys:    deps.Keys,
	}, s.log.Named("notify"), deps.DB, s.actions)
	longest = max(longest, notifyWorker.Timeout(nil))
	if err := river.AddWorkerSafely(workers, notifyWorker); err != nil {
		return nil, fmt.Errorf("register notify worker: %w", err)
	}
	runbookWorker := runbook.NewWorker(runbook.WorkerConfig{
		Timeout: cfg.RunbookTimeout,
		Egress:  policy,
		Keys:    deps.Keys,
	}, s.log.Named("runbook"), deps.DB, s.actions)
	longest = max(longest, runbookWorker.Timeout(nil))
	if err := river.AddWorkerSafely(workers, runbookWorker); err != nil {
		return nil, fmt.Errorf("register runbook worker: %w", err)
	}
	ticketOpts := deps.TicketOptions
	if ticketOpts.Timeout == 0 {
		ticketOpts.Timeout = cfg.TicketTimeout
	}
	remotes := ticketremote.NewOpener(deps.DB, deps.Keys, policy, ticketOpts)
	tw := ticketjob.WorkerConfig{Remotes: remotes, Tickets: s.tickets}
	jiraWorker := ticketjob.NewJiraWorker(tw, s.log.Named("jira"), s.actions)
	snWorker := ticketjob.NewServiceNowWorker(tw, s.log.Named("servicenow"), s.actions)
	longest = max(longest, jiraWorker.Timeout(nil), snWorker.Timeout(nil))
	if err := river.AddWorkerSafely(workers, jiraWorker); err != nil {
		return nil, fmt.Errorf("register jira worker: %w", err)
	}
	if err := river.AddWorkerSafely(workers, snWorker); err != nil {
		return nil, fmt.Errorf("register servicenow worker: %w", err)
	}
	s.sync = ticketsync.New(s.log.Named("ticket-sync"), remotes, s.tickets, s.actions, deps.Orchestrator)
	// A run may take up to its interval; what it leaves is the next run's.
	reconciler := ticketsync.NewReconciler(s.sync, s.log.Named("ticket-reconcile"), max(cfg.TicketReconcileInterval, time.Minute))
	longest = max(longest, reconciler.Timeout(nil))
	if err := river.AddWorkerSafely(workers, reconciler); err != nil {
		return nil, fmt.Errorf("register ticket reconcile worker: %w", err)
	}
	sweeper := sweep.NewSweeper(s.log.Named("sweep"), deps.DB, s.actions,
		webhook.Args{}.Kind(), notify.Args{}.Kind(), runbook.Args{}.Kind(),
		ticketjob.JiraArgs{}.Kind(), ticketjob.ServiceNowArgs{}.Kind())
	if err := river.AddWorkerSafely(workers, sweeper); err != nil {
		return nil, fmt.Errorf("register sweep worker: %w", err)
	}
	if err := river.AddWorkerSafely(workers, chain.NewChainer(s.log.Named("audit-chain"), deps.DB)); err != nil {
		return nil, fmt.Errorf("register audit chain worker: %w", err)
	}
	// The sweep and the chaining run under River's default job timeout.
	longest = max(longest, river.JobTimeoutDefault)
	rescue, err := rescueAfter(cfg.RescueAfter, longest)
	if err != nil {
		return nil, err
	}
	s.rescueAfter = rescue
	client, err := river.NewClient(riverpgxv5.New(deps.DB.Pool()), &river.Config{
		Logger: slog.New(zapslog.NewHandler(s.log.Named("river").Core(), zapslog.WithName("river"))),
		// A job whose process died is run again after this, rather than
		// River's default of an hour.
		RescueStuckJobsAfter: rescue,
		MaxAttempts:          cfg.MaxAttempts,
		FetchPollInterval:    cfg.PollInterval,
		FetchCooldown:        min(cfg.PollInterval, river.FetchCooldownDefault),
		// One queue per action kind, each with its own worker count, one
		// for the sweep of dead actions, one for chaining the audit log and
		// one for reconciling tickets.
		Queues: map[string]river.QueueConfig{
			action.KindWebhook.Queue():    {MaxWorkers: cfg.Workers},
			action.KindNotify.Queue():     {MaxWorkers: cfg.NotifyWorkers},
			action.KindRunbook.Queue():    {MaxWorkers: cfg.RunbookWorkers},
			action.KindJira.Queue():       {MaxWorkers: cfg.TicketWorkers},
			action.KindServiceNow.Queue(): {MaxWorkers: cfg.TicketWorkers},
			sweep.Queue:                   {MaxWorkers: 1},
			chain.Queue:                   {MaxWorkers: 1},
			ticketsync.Queue:              {MaxWorkers: 1},
		},
		// The sweep, the audit chaining and the ticket reconcile run on
		// the elected leader only, so replicas do not run them side by
		// side.
		PeriodicJobs: []*river.PeriodicJob{
			sweep.PeriodicJob(cfg.SweepInterval),
			chain.PeriodicJob(cfg.AuditChainInterval),
			ticketsync.PeriodicJob(cfg.TicketReconcileInterval),
		},
		RetryPolicy: deps.RetryPolicy,
		Workers:     workers,
	})
	if err != nil {
		return nil, fmt.Errorf("build river client: %w", err)
	}
	s.river = client
	return s, nil
}

// rescueMargin is how much longer than the longest job timeout the rescue
// of stuck jobs waits by default.
const rescueMargin = time.Minute

// rescueAfter is how long a job may run before River takes it for stuck
// (its process died) and runs it again: configured, which must exceed the
// longest job timeout, or else that timeout plus rescueMargin. A rescue
// sooner than a job may legitimately run would run it twice at once.
func rescueAfter(configured, longest time.Duration) (time.Duration, error) {
	if configured == 0 {
		return longest + rescueMargin, nil
	}
	if configured <= longest {
		return 0, fmt.Errorf("actions: RescueAfter %s must exceed the longest a job may run, %s (set by the webhook, notify, runbook and ticket timeouts and the reconcile interval)", configured, longest)
	}
	return configured, nil
}

// Run serves ActionService on lis and works jobs until ctx is done, then
// stops taking calls and jobs, waits up to ShutdownTimeout for jobs in
// flight, cancels the rest (River retries them later) and returns. It runs
// once per Service.
func (s *Service) Run(ctx context.Context, lis net.Listener) error {
	if !s.ran.CompareAndSwap(false, true) {
		return errors.New("actions: Run called twice")
	}
	srv, health, err := rpc.NewServer(s.log, s.verifier)
	if err != nil {
		return fmt.Errorf("build actions gRPC server: %w", err)
	}
	actionsv1.RegisterActionServiceServer(srv, &handler{log: s.log, actions: s.actions, audit: s.audit, tickets: s.tickets, sync: s.sync})

	// River gets a context that outlives ctx: cancelling the context given
	// to Start is River's hard stop, which would cancel deliveries midway.
	// stopRiver below stops it gracefully instead.
	if err := s.river.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start river client: %w", err)
	}
	health.SetServingStatus(actionsv1.ActionService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	stopHealth := context.AfterFunc(ctx, health.Shutdown)
	defer stopHealth()
	s.log.Info("action plane serving", zap.String("addr", lis.Addr().String()), zap.Int("webhook_workers", s.cfg.Workers), zap.Int("notify_workers", s.cfg.NotifyWorkers),
		zap.Int("runbook_workers", s.cfg.RunbookWorkers), zap.Int("ticket_workers", s.cfg.TicketWorkers),
		zap.Duration("ticket_reconcile_interval", s.cfg.TicketReconcileInterval), zap.Duration("sweep_interval", s.cfg.SweepInterval),
		zap.Duration("audit_chain_interval", s.cfg.AuditChainInterval), zap.Duration("rescue_after", s.rescueAfter))

	serveErr := rpc.Serve(ctx, srv, lis)
	return errors.Join(serveErr, s.stopRiver())
}

// stopRiver stops fetching jobs and waits for those in flight; after
// ShutdownTimeout it cancels them. A cancelled delivery returns an error, so
// River records the attempt and runs the job again later: nothing is lost.
func (s *Service) stopRiver() error {
	return riverstop.Stop(s.river, s.cfg.ShutdownTimeout, s.log, "action jobs")
}
