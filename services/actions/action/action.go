package action

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Kind selects an action's executor.
type Kind string

// KindWebhook posts an HMAC-signed JSON body to a tenant-registered target.
const KindWebhook Kind = "webhook"

// Status is where an action's job stands.
type Status string

// The statuses an action moves through: pending until its executor reports
// success or gives up.
const (
	StatusPending   Status = "pending"
	StatusSucceeded Status = "succeeded"
	StatusFailed    Status = "failed"
)

// DefaultTarget is the webhook target used when a request names none.
const DefaultTarget = "default"

// MaxIdempotencyKeyLen bounds the caller's key.
const MaxIdempotencyKeyLen = 200

// WebhookParams are the parameters of a webhook action.
type WebhookParams struct {
	// Target names one of the tenant's registered webhook targets.
	Target string `json:"target"`
	// Details are sent under "details" in the JSON body.
	Details map[string]string `json:"details,omitempty"`
}

// Request asks for one action.
type Request struct {
	// IdempotencyKey makes the request idempotent within the tenant.
	IdempotencyKey string
	// IncidentID is the incident the action is for, or empty.
	IncidentID string
	// Kind selects the executor.
	Kind Kind
	// Reason is why the action is taken.
	Reason string
	// Webhook carries the parameters of a KindWebhook action.
	Webhook *WebhookParams
}

// Action is the record of one action.
type Action struct {
	ID             string
	IdempotencyKey string
	IncidentID     string
	Kind           Kind
	Reason         string
	Webhook        WebhookParams
	Status         Status
	Result         string
	Attempts       int
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Subject is the action's name in the audit log.
func (a Action) Subject() string { return "action/" + a.ID }

// Errors a caller can act on; everything else is the store's failure.
var (
	// ErrInvalid reports a malformed request.
	ErrInvalid = errors.New("invalid action request")
	// ErrKeyReused reports an idempotency key already used for a different
	// action of the same tenant.
	ErrKeyReused = errors.New("idempotency key reused for a different action")
	// ErrNotFound reports an action the tenant does not have.
	ErrNotFound = errors.New("action not found")
	// ErrNotPending reports an outcome for an action that has already
	// finished, e.g. a redelivered job after the first run succeeded.
	ErrNotPending = errors.New("action is no longer pending")
	// ErrUnknownTenant reports a tenant that has not been provisioned.
	ErrUnknownTenant = errors.New("tenant is not provisioned")
)

var targetPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// normalize checks req and fills its defaults. The gRPC layer validates the
// same rules from proto annotations; they are repeated here because this
// package is also called without it.
func normalize(req Request) (Request, error) {
	if req.IdempotencyKey == "" {
		return req, fmt.Errorf("%w: idempotency_key is required", ErrInvalid)
	}
	if len(req.IdempotencyKey) > MaxIdempotencyKeyLen {
		return req, fmt.Errorf("%w: idempotency_key is longer than %d bytes", ErrInvalid, MaxIdempotencyKeyLen)
	}
	if req.IncidentID != "" {
		id, err := uuid.Parse(req.IncidentID)
		if err != nil {
			return req, fmt.Errorf("%w: incident_id is not a UUID", ErrInvalid)
		}
		req.IncidentID = id.String()
	}
	switch req.Kind {
	case KindWebhook:
		if req.Webhook == nil {
			return req, fmt.Errorf("%w: a webhook action needs webhook parameters", ErrInvalid)
		}
		p := *req.Webhook
		if p.Target == "" {
			p.Target = DefaultTarget
		}
		if !targetPattern.MatchString(p.Target) {
			return req, fmt.Errorf("%w: webhook target %q is not a valid target name", ErrInvalid, p.Target)
		}
		req.Webhook = &p
	default:
		return req, fmt.Errorf("%w: unknown action kind %q", ErrInvalid, req.Kind)
	}
	return req, nil
}

// Enqueuer schedules an action's execution inside tx, the transaction that
// records the action, so the job exists if and only if the action does.
type Enqueuer func(ctx context.Context, tx pgx.Tx, a Action) error
