package action

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/alexus-platform/alexus/internal/ticket"
)

// Kind selects an action's executor.
type Kind string

// The action kinds with an executor.
const (
	// KindWebhook posts an HMAC-signed JSON body to a tenant-registered
	// target.
	KindWebhook Kind = "webhook"
	// KindNotify posts a message to a tenant-registered Slack or Microsoft
	// Teams incoming webhook.
	KindNotify Kind = "notify"
	// KindRunbook triggers a tenant-registered runbook (a Rundeck job, an
	// AWX job template or a generic automation endpoint) with parameters
	// checked against the runbook's schema.
	KindRunbook Kind = "runbook"
	// KindJira opens, comments on or moves the incident's issue in the
	// tenant's Jira.
	KindJira Kind = "jira"
	// KindServiceNow opens, comments on or moves the incident's record in
	// the tenant's ServiceNow.
	KindServiceNow Kind = "servicenow"
)

// Queue is the River queue the kind's jobs run on: one queue per kind, so a
// slow or failing kind of receiver cannot hold up the others, and each has
// its own worker count.
func (k Kind) Queue() string { return string(k) }

// IsTicket reports whether the kind acts on a ticketing system.
func (k Kind) IsTicket() bool { return k == KindJira || k == KindServiceNow }

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

// Severity of a notification, as the notify executor shows it.
type Severity string

// The severities a notification may carry; empty is allowed.
const (
	SeverityInfo     Severity = "info"
	SeverityWarning  Severity = "warning"
	SeverityError    Severity = "error"
	SeverityCritical Severity = "critical"
)

// Limits of a notification, from Slack's Block Kit: a header holds 150
// characters, a section's text 3,000, and a section at most 10 fields.
const (
	MaxNotifyTitle      = 150
	MaxNotifyText       = 3000
	MaxNotifyFields     = 10
	MaxNotifyFieldKey   = 100
	MaxNotifyFieldValue = 1000
	MaxNotifyURL        = 2000
)

// NotifyParams are the parameters of a notify action.
type NotifyParams struct {
	// Target names one of the tenant's registered notify targets.
	Target string `json:"target"`
	// Title is the headline; empty shows none.
	Title string `json:"title,omitempty"`
	// Text is the message; required.
	Text string `json:"text"`
	// Severity is shown with the message; empty shows none.
	Severity Severity `json:"severity,omitempty"`
	// IncidentURL links to the incident; empty shows no link.
	IncidentURL string `json:"incident_url,omitempty"`
	// Fields are extra labelled values.
	Fields map[string]string `json:"fields,omitempty"`
}

// MaxRunbookParams bounds a runbook action's encoded parameters.
const MaxRunbookParams = 64 << 10

// RunbookParams are the parameters of a runbook action.
type RunbookParams struct {
	// Target names one of the tenant's registered runbooks.
	Target string `json:"target"`
	// Params is a JSON object, checked against the runbook's schema; it is
	// kept as JSON text so that its numbers are not rounded on the way.
	Params json.RawMessage `json:"params"`
}

// TicketOperation is what a ticket action does.
type TicketOperation string

// The operations of a ticket action.
const (
	// TicketOpen opens the incident's ticket, or finds the one an earlier
	// attempt opened.
	TicketOpen TicketOperation = "open"
	// TicketComment adds a comment (Jira) or work note (ServiceNow), once
	// per note id.
	TicketComment TicketOperation = "comment"
	// TicketSetState moves the incident's ticket to a state.
	TicketSetState TicketOperation = "set_state"
)

// Limits of a ticket action, as the API declares them.
const (
	MaxTicketTitle       = 255
	MaxTicketDescription = 30000
	MaxTicketText        = 30000
	MaxTicketNoteID      = 64
)

// TicketParams are the parameters of a jira or servicenow action.
type TicketParams struct {
	// Operation is what to do.
	Operation TicketOperation `json:"operation"`
	// Title is an opened ticket's summary (Jira) or short description
	// (ServiceNow); required to open.
	Title string `json:"title,omitempty"`
	// Description is an opened ticket's description, plain text.
	Description string `json:"description,omitempty"`
	// NoteID makes a comment idempotent at the remote end; required to
	// comment.
	NoteID string `json:"note_id,omitempty"`
	// Text is a comment's text (required to comment) or a resolution's
	// note (ServiceNow close_notes).
	Text string `json:"text,omitempty"`
	// State is where SET_STATE moves the ticket; required for it.
	State ticket.State `json:"state,omitempty"`
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
	// Notify carries the parameters of a KindNotify action.
	Notify *NotifyParams
	// Runbook carries the parameters of a KindRunbook action.
	Runbook *RunbookParams
	// Ticket carries the parameters of a KindJira or KindServiceNow
	// action.
	Ticket *TicketParams
}

// Action is the record of one action.
type Action struct {
	ID             string
	IdempotencyKey string
	IncidentID     string
	Kind           Kind
	Reason         string
	// Webhook holds the parameters of a KindWebhook action.
	Webhook WebhookParams
	// Notify holds the parameters of a KindNotify action.
	Notify NotifyParams
	// Runbook holds the parameters of a KindRunbook action.
	Runbook RunbookParams
	// Ticket holds the parameters of a KindJira or KindServiceNow action.
	Ticket    TicketParams
	Status    Status
	Result    string
	Attempts  int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Target is the name of the registered target the action acts on; for a
// ticket action, the tenant's integration with the kind's system ("jira",
// "servicenow").
func (a Action) Target() string {
	switch a.Kind {
	case KindNotify:
		return a.Notify.Target
	case KindRunbook:
		return a.Runbook.Target
	case KindJira, KindServiceNow:
		return string(a.Kind)
	}
	return a.Webhook.Target
}

// Target is the name of what the request acts on, as Action.Target.
func (r Request) Target() string {
	a := Action{Kind: r.Kind}
	if r.Webhook != nil {
		a.Webhook = *r.Webhook
	}
	if r.Notify != nil {
		a.Notify = *r.Notify
	}
	if r.Runbook != nil {
		a.Runbook = *r.Runbook
	}
	return a.Target()
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
		req.Notify, req.Runbook, req.Ticket = nil, nil, nil
	case KindNotify:
		if req.Notify == nil {
			return req, fmt.Errorf("%w: a notify action needs notify parameters", ErrInvalid)
		}
		p, err := normalizeNotify(*req.Notify)
		if err != nil {
			return req, err
		}
		req.Notify, req.Webhook, req.Runbook, req.Ticket = &p, nil, nil, nil
	case KindRunbook:
		if req.Runbook == nil {
			return req, fmt.Errorf("%w: a runbook action needs runbook parameters", ErrInvalid)
		}
		p, err := normalizeRunbook(*req.Runbook)
		if err != nil {
			return req, err
		}
		req.Runbook, req.Webhook, req.Notify, req.Ticket = &p, nil, nil, nil
	case KindJira, KindServiceNow:
		if req.Ticket == nil {
			return req, fmt.Errorf("%w: a %s action needs ticket parameters", ErrInvalid, req.Kind)
		}
		if req.IncidentID == "" {
			return req, fmt.Errorf("%w: a %s action must name its incident", ErrInvalid, req.Kind)
		}
		p, err := normalizeTicket(*req.Ticket)
		if err != nil {
			return req, err
		}
		req.Ticket, req.Webhook, req.Notify, req.Runbook = &p, nil, nil, nil
	default:
		return req, fmt.Errorf("%w: unknown action kind %q", ErrInvalid, req.Kind)
	}
	return req, nil
}

func normalizeNotify(p NotifyParams) (NotifyParams, error) {
	if p.Target == "" {
		p.Target = DefaultTarget
	}
	if !targetPattern.MatchString(p.Target) {
		return p, fmt.Errorf("%w: notify target %q is not a valid target name", ErrInvalid, p.Target)
	}
	switch {
	case p.Text == "":
		return p, fmt.Errorf("%w: a notification needs text", ErrInvalid)
	case utf8.RuneCountInString(p.Text) > MaxNotifyText:
		return p, fmt.Errorf("%w: notification text is longer than %d characters", ErrInvalid, MaxNotifyText)
	case utf8.RuneCountInString(p.Title) > MaxNotifyTitle:
		return p, fmt.Errorf("%w: notification title is longer than %d characters", ErrInvalid, MaxNotifyTitle)
	case len(p.Fields) > MaxNotifyFields:
		return p, fmt.Errorf("%w: a notification has at most %d fields", ErrInvalid, MaxNotifyFields)
	}
	switch p.Severity {
	case "", SeverityInfo, SeverityWarning, SeverityError, SeverityCritical:
	default:
		return p, fmt.Errorf("%w: unknown notification severity %q", ErrInvalid, p.Severity)
	}
	for k, v := range p.Fields {
		if k == "" || utf8.RuneCountInString(k) > MaxNotifyFieldKey || utf8.RuneCountInString(v) > MaxNotifyFieldValue {
			return p, fmt.Errorf("%w: notification fields need a name of 1-%d characters and a value of at most %d", ErrInvalid, MaxNotifyFieldKey, MaxNotifyFieldValue)
		}
	}
	if p.IncidentURL != "" {
		u, err := url.Parse(p.IncidentURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(p.IncidentURL) > MaxNotifyURL {
			return p, fmt.Errorf("%w: incident_url must be an http or https URL of at most %d bytes", ErrInvalid, MaxNotifyURL)
		}
	}
	return p, nil
}

func normalizeRunbook(p RunbookParams) (RunbookParams, error) {
	if !targetPattern.MatchString(p.Target) {
		return p, fmt.Errorf("%w: runbook %q is not a valid runbook name", ErrInvalid, p.Target)
	}
	if len(p.Params) == 0 {
		p.Params = json.RawMessage(`{}`)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(p.Params, &obj); err != nil || obj == nil {
		return p, fmt.Errorf("%w: runbook params must be a JSON object", ErrInvalid)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, p.Params); err != nil {
		return p, fmt.Errorf("%w: runbook params must be a JSON object", ErrInvalid)
	}
	if compact.Len() > MaxRunbookParams {
		return p, fmt.Errorf("%w: runbook params are longer than %d bytes", ErrInvalid, MaxRunbookParams)
	}
	p.Params = compact.Bytes()
	return p, nil
}

var noteIDPattern = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,64}$`)

func normalizeTicket(p TicketParams) (TicketParams, error) {
	switch {
	case utf8.RuneCountInString(p.Title) > MaxTicketTitle:
		return p, fmt.Errorf("%w: ticket title is longer than %d characters", ErrInvalid, MaxTicketTitle)
	case utf8.RuneCountInString(p.Description) > MaxTicketDescription:
		return p, fmt.Errorf("%w: ticket description is longer than %d characters", ErrInvalid, MaxTicketDescription)
	case utf8.RuneCountInString(p.Text) > MaxTicketText:
		return p, fmt.Errorf("%w: ticket text is longer than %d characters", ErrInvalid, MaxTicketText)
	case p.NoteID != "" && !noteIDPattern.MatchString(p.NoteID):
		return p, fmt.Errorf("%w: note_id must be 1 to %d letters, digits, '_', '.', ':' or '-'", ErrInvalid, MaxTicketNoteID)
	case p.State != "" && !p.State.Valid():
		return p, fmt.Errorf("%w: unknown ticket state %q", ErrInvalid, p.State)
	}
	switch p.Operation {
	case TicketOpen:
		// A blank title would be refused by both remotes on every attempt.
		if strings.TrimSpace(p.Title) == "" {
			return p, fmt.Errorf("%w: an OPEN ticket action needs a title", ErrInvalid)
		}
	case TicketComment:
		if p.NoteID == "" || strings.TrimSpace(p.Text) == "" {
			return p, fmt.Errorf("%w: a COMMENT ticket action needs a note_id and text", ErrInvalid)
		}
	case TicketSetState:
		if p.State == "" {
			return p, fmt.Errorf("%w: a SET_STATE ticket action needs a state", ErrInvalid)
		}
	default:
		return p, fmt.Errorf("%w: unknown ticket operation %q", ErrInvalid, p.Operation)
	}
	return p, nil
}

// Check vets a request inside the transaction that would record it, after
// the request's own shape was checked and before anything is written: an
// error (one wrapping ErrInvalid for the caller's mistakes) rolls the
// transaction back, so nothing is stored. Executors plug in what only they
// know, such as a runbook's parameter schema.
type Check func(ctx context.Context, tx pgx.Tx, req Request) error

// Enqueuer schedules an action's execution inside tx, the transaction that
// records the action, so the job exists if and only if the action does.
type Enqueuer func(ctx context.Context, tx pgx.Tx, a Action) error
