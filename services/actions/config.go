package actions

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Config configures the action plane. The lead maps each field to the
// environment variable named in its comment.
type Config struct {
	// WebhookSecret is the HMAC-SHA256 key every webhook body is signed
	// with; receivers share it. Required, at least MinWebhookSecretLen
	// bytes. ALEXUS_ACTIONS_WEBHOOK_SECRET.
	WebhookSecret []byte
	// WebhookTimeout bounds one webhook delivery from connecting to the
	// receiver's response headers. ALEXUS_ACTIONS_WEBHOOK_TIMEOUT.
	WebhookTimeout time.Duration
	// MaxAttempts is how many times a job runs before its action is marked
	// failed. ALEXUS_ACTIONS_MAX_ATTEMPTS.
	MaxAttempts int
	// Workers is how many webhook jobs this replica runs at once (River's
	// MaxWorkers for the "webhook" queue). ALEXUS_ACTIONS_WORKERS.
	Workers int
	// NotifyWorkers is how many notify jobs (Slack, Microsoft Teams) this
	// replica runs at once (MaxWorkers of the "notify" queue): each action
	// kind has its own queue, so a slow chat service cannot hold up
	// webhooks. ALEXUS_ACTIONS_NOTIFY_WORKERS.
	NotifyWorkers int
	// NotifyTimeout bounds one notify delivery, from connecting to the
	// response headers. ALEXUS_ACTIONS_NOTIFY_TIMEOUT.
	NotifyTimeout time.Duration
	// RunbookWorkers is how many runbook jobs (Rundeck, AWX, generic
	// automation endpoints) this replica runs at once (MaxWorkers of the
	// "runbook" queue). ALEXUS_ACTIONS_RUNBOOK_WORKERS.
	RunbookWorkers int
	// RunbookTimeout bounds one runbook trigger, from connecting to the
	// response headers; a timeout is retried, and as Rundeck and AWX do not
	// deduplicate launches, it should be long enough for the server to
	// answer a launch. ALEXUS_ACTIONS_RUNBOOK_TIMEOUT.
	RunbookTimeout time.Duration
	// TicketWorkers is how many jira jobs, and as many servicenow jobs,
	// this replica runs at once (MaxWorkers of the "jira" and the
	// "servicenow" queue each): a slow Jira cannot hold up ServiceNow, nor
	// either of them the other kinds. ALEXUS_ACTIONS_TICKET_WORKERS.
	TicketWorkers int
	// TicketTimeout bounds one request to a tenant's Jira or ServiceNow,
	// from connecting to reading the response; the client retries a
	// timeout, a 429 (after its Retry-After) and a 5xx a few times within
	// a job run, and River retries the run after that.
	// ALEXUS_ACTIONS_TICKET_TIMEOUT.
	TicketTimeout time.Duration
	// TicketReconcileInterval is how often the elected leader compares the
	// tickets not resolved on both sides with their Jira issues and
	// ServiceNow records, to repair webhooks that never arrived: a batch
	// per tenant, least recently compared first.
	// ALEXUS_ACTIONS_TICKET_RECONCILE_INTERVAL.
	TicketReconcileInterval time.Duration
	// RescueAfter is how long a job may be running before River takes its
	// process for dead and runs it again (its action's idempotency key
	// goes with it). Zero, the default, is the longest a job of any queue
	// may run (its timeout) plus a minute, about 17 minutes with the
	// default timeouts, set by the Jira and ServiceNow calls; a value must
	// exceed that longest run. ALEXUS_ACTIONS_RESCUE_AFTER.
	RescueAfter time.Duration
	// SweepInterval is how often the elected leader looks for dead actions:
	// pending actions whose job River discarded or cancelled without an
	// outcome being recorded (e.g. the process was killed during the last
	// attempt); they are recorded failed. ALEXUS_ACTIONS_SWEEP_INTERVAL.
	SweepInterval time.Duration
	// AuditChainInterval is how often the elected leader links the audit
	// entries written since into their tenants' hash chains (audit.Append
	// writes them unchained). ALEXUS_ACTIONS_AUDIT_CHAIN_INTERVAL.
	AuditChainInterval time.Duration
	// PollInterval is how often River looks for due jobs when no insert
	// notification arrived, e.g. for retries. ALEXUS_ACTIONS_POLL_INTERVAL.
	PollInterval time.Duration
	// ShutdownTimeout is how long Run waits, once its context ends, for jobs
	// in flight to finish before cancelling them; a cancelled job is retried
	// later, never lost. ALEXUS_ACTIONS_SHUTDOWN_TIMEOUT.
	ShutdownTimeout time.Duration
	// EgressAllow are the non-public networks (loopback, private,
	// link-local, ...) every tenant's actions may reach; public addresses
	// need no entry, and a tenant's own list (alexus tenant allow-egress)
	// adds to these. Empty by default: no action reaches an internal
	// address. ALEXUS_ACTIONS_EGRESS_ALLOW, comma-separated CIDRs.
	EgressAllow []netip.Prefix
}

// MinWebhookSecretLen is the shortest accepted webhook secret (256 bits).
const MinWebhookSecretLen = 32

// maxWorkers is River's limit for one queue.
const maxWorkers = 10000

// DefaultConfig returns the defaults; WebhookSecret has none and must be set.
func DefaultConfig() Config {
	return Config{
		WebhookTimeout:          10 * time.Second,
		MaxAttempts:             5,
		Workers:                 256,
		NotifyWorkers:           16,
		NotifyTimeout:           10 * time.Second,
		RunbookWorkers:          8,
		RunbookTimeout:          30 * time.Second,
		TicketWorkers:           16,
		TicketTimeout:           15 * time.Second,
		TicketReconcileInterval: 5 * time.Minute,
		SweepInterval:           time.Minute,
		AuditChainInterval:      time.Second,
		PollInterval:            time.Second,
		ShutdownTimeout:         30 * time.Second,
	}
}

// Validate names the first bad field.
func (c Config) Validate() error {
	switch {
	case len(c.WebhookSecret) == 0:
		return errors.New("actions: WebhookSecret (ALEXUS_ACTIONS_WEBHOOK_SECRET) is required")
	case len(c.WebhookSecret) < MinWebhookSecretLen:
		return fmt.Errorf("actions: WebhookSecret is %d bytes, need at least %d", len(c.WebhookSecret), MinWebhookSecretLen)
	case c.WebhookTimeout <= 0:
		return fmt.Errorf("actions: WebhookTimeout %s must be positive", c.WebhookTimeout)
	case c.MaxAttempts < 1:
		return fmt.Errorf("actions: MaxAttempts %d must be at least 1", c.MaxAttempts)
	case c.Workers < 1 || c.Workers > maxWorkers:
		return fmt.Errorf("actions: Workers %d must be between 1 and %d", c.Workers, maxWorkers)
	case c.NotifyWorkers < 1 || c.NotifyWorkers > maxWorkers:
		return fmt.Errorf("actions: NotifyWorkers %d must be between 1 and %d", c.NotifyWorkers, maxWorkers)
	case c.NotifyTimeout <= 0:
		return fmt.Errorf("actions: NotifyTimeout %s must be positive", c.NotifyTimeout)
	case c.RunbookWorkers < 1 || c.RunbookWorkers > maxWorkers:
		return fmt.Errorf("actions: RunbookWorkers %d must be between 1 and %d", c.RunbookWorkers, maxWorkers)
	case c.RunbookTimeout <= 0:
		return fmt.Errorf("actions: RunbookTimeout %s must be positive", c.RunbookTimeout)
	case c.TicketWorkers < 1 || c.TicketWorkers > maxWorkers:
		return fmt.Errorf("actions: TicketWorkers %d must be between 1 and %d", c.TicketWorkers, maxWorkers)
	case c.TicketTimeout <= 0:
		return fmt.Errorf("actions: TicketTimeout %s must be positive", c.TicketTimeout)
	case c.TicketReconcileInterval < time.Second:
		return fmt.Errorf("actions: TicketReconcileInterval %s must be at least 1s", c.TicketReconcileInterval)
	case c.SweepInterval < time.Second:
		return fmt.Errorf("actions: SweepInterval %s must be at least 1s", c.SweepInterval)
	case c.AuditChainInterval < 100*time.Millisecond:
		return fmt.Errorf("actions: AuditChainInterval %s must be at least 100ms", c.AuditChainInterval)
	case c.PollInterval < time.Millisecond:
		return fmt.Errorf("actions: PollInterval %s must be at least 1ms", c.PollInterval)
	case c.RescueAfter < 0:
		return fmt.Errorf("actions: RescueAfter %s must not be negative", c.RescueAfter)
	case c.ShutdownTimeout <= 0:
		return fmt.Errorf("actions: ShutdownTimeout %s must be positive", c.ShutdownTimeout)
	}
	for _, p := range c.EgressAllow {
		if !p.IsValid() {
			return fmt.Errorf("actions: EgressAllow holds an invalid network %q", p)
		}
	}
	return nil
}
