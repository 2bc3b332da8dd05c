package provision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/alexus-platform/alexus/internal/audit"
	"github.com/alexus-platform/alexus/internal/secretbox"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/internal/ticket"
	"github.com/alexus-platform/alexus/internal/ticket/jira"
	"github.com/alexus-platform/alexus/internal/ticket/servicenow"
)

// Audit events about ticket integrations.
const (
	EventTicketIntegrationSet     = "ticket_integration.set"
	EventTicketIntegrationRemoved = "ticket_integration.removed"
)

// TicketCredentialPurpose binds a sealed ticket credential to its column.
const TicketCredentialPurpose = "ticket_integration.credential"

// TicketSystem names a ticketing system; its values are the systems'
// names in ticket.Update.System and in the tickets tables.
type TicketSystem string

// The ticketing systems Alexus keeps in step with.
const (
	TicketJira       TicketSystem = jira.System
	TicketServiceNow TicketSystem = servicenow.System
)

// ErrUnknownTicketSystem: the tenant has no integration with the system.
var ErrUnknownTicketSystem = errors.New("no such ticket integration")

// ParseTicketSystem checks a system's name.
func ParseTicketSystem(s string) (TicketSystem, error) {
	switch TicketSystem(s) {
	case TicketJira, TicketServiceNow:
		return TicketSystem(s), nil
	}
	return "", fmt.Errorf("ticket system %q must be jira or servicenow", s)
}

// TicketIntegration is a tenant's Jira or ServiceNow, credentials
// included: exactly one of Jira and ServiceNow is set, and System says
// which. The configs' retry and transport options (ticketapi.Options) are
// not stored; the action plane sets them.
type TicketIntegration struct {
	System     TicketSystem
	Jira       *jira.Config
	ServiceNow *servicenow.Config
	// UpdatedAt is when the integration was last set; filled when read.
	UpdatedAt time.Time
}

// BaseURL is the remote's base URL.
func (in TicketIntegration) BaseURL() string {
	if in.Jira != nil {
		return in.Jira.BaseURL
	}
	if in.ServiceNow != nil {
		return in.ServiceNow.BaseURL
	}
	return ""
}

// ticketSecrets is the sealed part of an integration.
type ticketSecrets struct {
	Secret      string `json:"secret,omitempty"`
	BearerToken string `json:"bearer_token,omitempty"`
}

// jiraSettings and serviceNowSettings are the stored, non-secret parts.
type jiraSettings struct {
	Email     string                  `json:"email,omitempty"`
	Project   string                  `json:"project"`
	IssueType string                  `json:"issue_type,omitempty"`
	Labels    []string                `json:"labels,omitempty"`
	AccountID string                  `json:"account_id,omitempty"`
	States    map[string]ticket.State `json:"states,omitempty"`
	Statuses  map[ticket.State]string `json:"statuses,omitempty"`
}

type serviceNowSettings struct {
	Username        string   `json:"username,omitempty"`
	CloseCode       string   `json:"close_code,omitempty"`
	AssignmentGroup string   `json:"assignment_group,omitempty"`
	EchoUsers       []string `json:"echo_users,omitempty"`
}

// split validates in and returns its stored settings and its secrets.
func (in TicketIntegration) split() (settings any, secrets ticketSecrets, err error) {
	switch {
	case in.System == TicketJira && in.Jira != nil && in.ServiceNow == nil:
		c := *in.Jira
		if err := c.Validate(); err != nil {
			return nil, ticketSecrets{}, err
		}
		return jiraSettings{Email: c.Email, Project: c.Project, IssueType: c.IssueType, Labels: c.Labels,
				AccountID: c.AccountID, States: c.States, Statuses: c.Statuses},
			ticketSecrets{Secret: c.APIToken, BearerToken: c.BearerToken}, nil
	case in.System == TicketServiceNow && in.ServiceNow != nil && in.Jira == nil:
		c := *in.ServiceNow
		if err := c.Validate(); err != nil {
			return nil, ticketSecrets{}, err
		}
		return serviceNowSettings{Username: c.Username, CloseCode: c.CloseCode, AssignmentGroup: c.AssignmentGroup, EchoUsers: c.EchoUsers},
			ticketSecrets{Secret: c.Password, BearerToken: c.BearerToken}, nil
	}
	return nil, ticketSecrets{}, fmt.Errorf("a ticket integration must be jira or servicenow with that system's configuration, not %q", in.System)
}

// SetTicketIntegration registers (or replaces) the context's tenant's
// integration with in.System: the configuration is validated first, and the
// credential sealed with keys before it is stored. The change is audited
// without the credential.
func SetTicketIntegration(ctx context.Context, db *store.DB, keys *secretbox.Keyring, in TicketIntegration) error {
	t, err := tenant.Require(ctx)
	if err != nil {
		return err
	}
	settings, secrets, err := in.split()
	if err != nil {
		return err
	}
	if keys == nil {
		return errors.New("no key ring to seal the ticket credential with: set ALEXUS_SECRET_KEYS")
	}
	plain, err := json.Marshal(secrets)
	if err != nil {
		return fmt.Errorf("encode the %s credential: %w", in.System, err)
	}
	stored, err := json.Marshal(settings)
	if err != nil {
		return fmt.Errorf("encode the %s settings: %w", in.System, err)
	}
	record := uuid.New()
	sealed, err := keys.Seal(TicketOwner(t, record.String()), plain)
	if err != nil {
		return fmt.Errorf("seal the %s credential: %w", in.System, err)
	}
	base := in.BaseURL()
	u, _ := url.Parse(base)
	return db.WithTenant(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			INSERT INTO ticket_integrations (tenant_id, system, base_url, settings, record_id, credential_sealed)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (tenant_id, system) DO UPDATE SET base_url = EXCLUDED.base_url, settings = EXCLUDED.settings,
				record_id = EXCLUDED.record_id, credential_sealed = EXCLUDED.credential_sealed, updated_at = now()`,
			string(t), string(in.System), base, stored, record, sealed); err != nil {
			return fmt.Errorf("set the %s integration for %s: %w", in.System, t, err)
		}
		return audit.Append(ctx, tx, EventTicketIntegrationSet, "ticket_integration/"+string(in.System),
			map[string]string{"system": string(in.System), "host": u.Hostname()})
	})
}

// TicketOwner is the secretbox owner of a ticket integration's sealed
// credential.
func TicketOwner(t tenant.ID, record string) secretbox.Owner {
	return secretbox.Owner{Tenant: string(t), Record: record, Purpose: TicketCredentialPurpose}
}

// GetTicketIntegration returns the context's tenant's integration with
// system, its credential opened with keys; false when there is none.
func GetTicketIntegration(ctx context.Context, db *store.DB, keys *secretbox.Keyring, system TicketSystem) (TicketIntegration, bool, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return TicketIntegration{}, false, err
	}
	var (
		base     string
		settings []byte
		record   uuid.UUID
		sealed   []byte
		updated  time.Time
	)
	err = db.WithTenant(ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT base_url, settings, record_id, credential_sealed, updated_at FROM ticket_integrations WHERE tenant_id = $1 AND system = $2`,
			string(t), string(system)).Scan(&base, &settings, &record, &sealed, &updated)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return TicketIntegration{}, false, nil
	}
	if err != nil {
		return TicketIntegration{}, false, fmt.Errorf("read the %s integration: %w", system, err)
	}
	if keys == nil {
		return TicketIntegration{}, false, fmt.Errorf("%s integration: no key ring to open its credential with (ALEXUS_SECRET_KEYS)", system)
	}
	plain, err := keys.Open(TicketOwner(t, record.String()), sealed)
	if err != nil {
		return TicketIntegration{}, false, fmt.Errorf("open the %s credential: %w", system, err)
	}
	var secrets ticketSecrets
	if err := json.Unmarshal(plain, &secrets); err != nil {
		return TicketIntegration{}, false, fmt.Errorf("decode the %s credential: %w", system, err)
	}
	in := TicketIntegration{System: system, UpdatedAt: updated}
	switch system {
	case TicketJira:
		var s jiraSettings
		if err := json.Unmarshal(settings, &s); err != nil {
			return TicketIntegration{}, false, fmt.Errorf("decode the jira settings: %w", err)
		}
		in.Jira = &jira.Config{BaseURL: base, Email: s.Email, APIToken: secrets.Secret, BearerToken: secrets.BearerToken,
			Project: s.Project, IssueType: s.IssueType, Labels: s.Labels, AccountID: s.AccountID, States: s.States, Statuses: s.Statuses}
	case TicketServiceNow:
		var s serviceNowSettings
		if err := json.Unmarshal(settings, &s); err != nil {
			return TicketIntegration{}, false, fmt.Errorf("decode the servicenow settings: %w", err)
		}
		in.ServiceNow = &servicenow.Config{BaseURL: base, Username: s.Username, Password: secrets.Secret, BearerToken: secrets.BearerToken,
			CloseCode: s.CloseCode, AssignmentGroup: s.AssignmentGroup, EchoUsers: s.EchoUsers}
	default:
		return TicketIntegration{}, false, fmt.Errorf("unknown ticket system %q", system)
	}
	return in, true, nil
}

// TicketIntegrationInfo is what a listing shows of an integration: no
// credential.
type TicketIntegrationInfo struct {
	System    TicketSystem
	BaseURL   string
	Settings  json.RawMessage
	UpdatedAt time.Time
}

// ListTicketIntegrations returns the context's tenant's integrations by
// system, without their credentials.
func ListTicketIntegrations(ctx context.Context, db *store.DB) ([]TicketIntegrationInfo, error) {
	var out []TicketIntegrationInfo
	err := db.WithTenant(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT system, base_url, settings, updated_at FROM ticket_integrations WHERE tenant_id = $1 ORDER BY system`, string(tenantOf(ctx)))
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (TicketIntegrationInfo, error) {
			var (
				in       TicketIntegrationInfo
				settings []byte
			)
			err := r.Scan(&in.System, &in.BaseURL, &settings, &in.UpdatedAt)
			in.Settings = settings
			return in, err
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list ticket integrations: %w", err)
	}
	return out, nil
}

// RemoveTicketIntegration deletes the context's tenant's integration with
// system and audits it; ticket actions for it fail from then on. The
// tickets already opened stay listed.
func RemoveTicketIntegration(ctx context.Context, db *store.DB, system TicketSystem) error {
	return db.WithTenant(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM ticket_integrations WHERE tenant_id = $1 AND system = $2`, string(tenantOf(ctx)), string(system))
		if err != nil {
			return fmt.Errorf("remove the %s integration: %w", system, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: %s", ErrUnknownTicketSystem, system)
		}
		return audit.Append(ctx, tx, EventTicketIntegrationRemoved, "ticket_integration/"+string(system), nil)
	})
}
