package provision

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/alexus-platform/alexus/internal/audit"
	"github.com/alexus-platform/alexus/internal/llm"
	"github.com/alexus-platform/alexus/internal/secretbox"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// Audit events about runbooks.
const (
	EventRunbookSet     = "runbook.set"
	EventRunbookRemoved = "runbook.removed"
)

// RunbookCredentialPurpose binds a sealed runbook credential to its column.
const RunbookCredentialPurpose = "runbook.credential"

// RunbookKind is the automation server a runbook triggers.
type RunbookKind string

// The runbook kinds.
const (
	// RunbookRundeck runs a Rundeck job: POST <url>/api/<v>/job/<id>/run
	// with {"options": {...}} and the X-Rundeck-Auth-Token header.
	RunbookRundeck RunbookKind = "rundeck"
	// RunbookAWX launches an AWX (or Ansible Automation Platform) job
	// template: POST <url>/api/v2/job_templates/<id>/launch/ with
	// {"extra_vars": {...}} and an OAuth2 Bearer token.
	RunbookAWX RunbookKind = "awx"
	// RunbookGeneric posts a JSON body with the parameters to url, signed
	// with HMAC-SHA256 like a webhook, the credential being the key.
	RunbookGeneric RunbookKind = "generic"
)

// DefaultRundeckAPIVersion is the Rundeck API version used when a Rundeck
// runbook names none; Rundeck 4.1 and later serve it.
const DefaultRundeckAPIVersion = 41

// Limits of a runbook's registration.
const (
	MaxRunbookURLLen        = 2000
	MaxRunbookSchemaLen     = 64 << 10
	MaxRunbookCredentialLen = 4096
	// MinGenericRunbookKeyLen is the shortest HMAC key a generic runbook
	// accepts (256 bits), as for webhooks.
	MinGenericRunbookKeyLen = 32
)

// ErrUnknownRunbook reports a runbook the tenant does not have.
var ErrUnknownRunbook = errors.New("no such runbook")

var (
	rundeckJobPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)
	awxJobPattern     = regexp.MustCompile(`^[1-9][0-9]{0,17}$`)
)

// Runbook is a runbook's registration. Credential is set only when saving;
// it is never read back, listed or audited.
type Runbook struct {
	// Name is what actions call it: 1-64 of a-z, 0-9, '_' and '-'.
	Name string
	// Kind says how it is triggered.
	Kind RunbookKind
	// URL is the server's base URL (rundeck, awx) or the endpoint
	// (generic); http or https, without credentials in it.
	URL string
	// Job is the Rundeck job ID or the AWX job template ID; empty for
	// generic.
	Job string
	// APIVersion is Rundeck's API version; 0 means
	// DefaultRundeckAPIVersion. Not used by the other kinds.
	APIVersion int
	// Credential is Rundeck's API token, AWX's OAuth2 token, or the generic
	// endpoint's HMAC key.
	Credential []byte
	// Schema is the JSON schema of the parameters, an object schema in the
	// subset internal/llm's validator supports.
	Schema json.RawMessage
	// UpdatedAt is when it was last set, when listed.
	UpdatedAt time.Time
}

// Endpoint is the URL a trigger is posted to.
func (r Runbook) Endpoint() string {
	base := strings.TrimRight(r.URL, "/")
	switch r.Kind {
	case RunbookRundeck:
		v := r.APIVersion
		if v == 0 {
			v = DefaultRundeckAPIVersion
		}
		return base + "/api/" + strconv.Itoa(v) + "/job/" + url.PathEscape(r.Job) + "/run"
	case RunbookAWX:
		return base + "/api/v2/job_templates/" + r.Job + "/launch/"
	default:
		return r.URL
	}
}

// CompileRunbookSchema compiles a runbook's parameter schema: a JSON
// object schema in the subset of JSON Schema that internal/llm validates
// (type, properties, required, additionalProperties, items, enum, minimum,
// maximum, minItems, maxItems, minLength, maxLength; annotations ignored).
// A keyword outside it is refused rather than ignored, so parameters are
// never checked more loosely than the schema reads.
func CompileRunbookSchema(name string, schema json.RawMessage) (*llm.Schema, error) {
	if len(schema) > MaxRunbookSchemaLen {
		return nil, fmt.Errorf("runbook %s: the schema is longer than %d bytes", name, MaxRunbookSchemaLen)
	}
	s, err := llm.NewSchema(name, schema)
	if err != nil {
		return nil, fmt.Errorf("runbook %s: invalid parameter schema: %s", name, strings.TrimPrefix(err.Error(), "llm: "))
	}
	return s, nil
}

// checkRunbook validates r before it is saved and fills its defaults.
func checkRunbook(r Runbook) (Runbook, error) {
	if !notifyNamePattern.MatchString(r.Name) {
		return r, fmt.Errorf("runbook name %q: want 1-64 characters of a-z, 0-9, '_' or '-', starting with a letter or digit", r.Name)
	}
	u, err := url.Parse(r.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(r.URL) > MaxRunbookURLLen {
		return r, fmt.Errorf("runbook %s: the URL must be an http or https URL of at most %d bytes", r.Name, MaxRunbookURLLen)
	}
	if u.User != nil {
		return r, fmt.Errorf("runbook %s: the URL must not carry credentials; give the credential on stdin", r.Name)
	}
	switch r.Kind {
	case RunbookRundeck:
		if !rundeckJobPattern.MatchString(r.Job) {
			return r, fmt.Errorf("runbook %s: a Rundeck runbook needs the job's ID (--job), e.g. a UUID", r.Name)
		}
		if r.APIVersion == 0 {
			r.APIVersion = DefaultRundeckAPIVersion
		}
		if r.APIVersion < 14 || r.APIVersion > 99 {
			return r, fmt.Errorf("runbook %s: Rundeck API version %d must be between 14 and 99", r.Name, r.APIVersion)
		}
	case RunbookAWX:
		if !awxJobPattern.MatchString(r.Job) {
			return r, fmt.Errorf("runbook %s: an AWX runbook needs the job template's numeric ID (--job)", r.Name)
		}
		r.APIVersion = 0
	case RunbookGeneric:
		if r.Job != "" {
			return r, fmt.Errorf("runbook %s: a generic runbook takes no job ID; put everything in its URL", r.Name)
		}
		if len(r.Credential) < MinGenericRunbookKeyLen {
			return r, fmt.Errorf("runbook %s: a generic runbook's signing key must be at least %d bytes", r.Name, MinGenericRunbookKeyLen)
		}
		r.APIVersion = 0
	default:
		return r, fmt.Errorf("runbook kind %q: want %q, %q or %q", r.Kind, RunbookRundeck, RunbookAWX, RunbookGeneric)
	}
	if len(r.Credential) == 0 || len(r.Credential) > MaxRunbookCredentialLen {
		return r, fmt.Errorf("runbook %s: the credential must be 1-%d bytes", r.Name, MaxRunbookCredentialLen)
	}
	if _, err := CompileRunbookSchema(r.Name, r.Schema); err != nil {
		return r, err
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, r.Schema); err != nil {
		return r, fmt.Errorf("runbook %s: %w", r.Name, err)
	}
	r.Schema = compact.Bytes()
	return r, nil
}

// SetRunbook registers (or replaces) the context's tenant's runbook r.Name:
// the schema is compiled first and a runbook whose schema does not compile
// is refused; the credential is sealed with keys before it is stored. The
// change is audited without the credential.
func SetRunbook(ctx context.Context, db *store.DB, keys *secretbox.Keyring, r Runbook) error {
	t, err := tenant.Require(ctx)
	if err != nil {
		return err
	}
	r, err = checkRunbook(r)
	if err != nil {
		return err
	}
	if keys == nil {
		return errors.New("no key ring to seal the runbook's credential with: set ALEXUS_SECRET_KEYS")
	}
	record := uuid.New()
	sealed, err := keys.Seal(RunbookOwner(t, record.String()), r.Credential)
	if err != nil {
		return fmt.Errorf("seal the credential of runbook %s: %w", r.Name, err)
	}
	u, _ := url.Parse(r.URL)
	return db.WithTenant(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			INSERT INTO runbooks (tenant_id, name, kind, url, job, api_version, record_id, credential_sealed, params_schema)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (tenant_id, name) DO UPDATE SET kind = EXCLUDED.kind, url = EXCLUDED.url, job = EXCLUDED.job,
				api_version = EXCLUDED.api_version, record_id = EXCLUDED.record_id,
				credential_sealed = EXCLUDED.credential_sealed, params_schema = EXCLUDED.params_schema, updated_at = now()`,
			string(t), r.Name, string(r.Kind), r.URL, r.Job, r.APIVersion, record, sealed, []byte(r.Schema)); err != nil {
			return fmt.Errorf("set runbook %s for %s: %w", r.Name, t, err)
		}
		return audit.Append(ctx, tx, EventRunbookSet, "runbook/"+r.Name,
			map[string]string{"kind": string(r.Kind), "host": u.Hostname(), "job": r.Job})
	})
}

// RunbookOwner is the secretbox owner of a runbook's sealed credential.
func RunbookOwner(t tenant.ID, record string) secretbox.Owner {
	return secretbox.Owner{Tenant: string(t), Record: record, Purpose: RunbookCredentialPurpose}
}

// ListRunbooks returns the context's tenant's runbooks by name, without
// their credentials.
func ListRunbooks(ctx context.Context, db *store.DB) ([]Runbook, error) {
	var out []Runbook
	err := db.WithTenant(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT name, kind, url, job, api_version, params_schema, updated_at FROM runbooks WHERE tenant_id = $1 ORDER BY name`, string(tenantOf(ctx)))
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Runbook, error) {
			var (
				rb     Runbook
				schema []byte
			)
			if err := r.Scan(&rb.Name, &rb.Kind, &rb.URL, &rb.Job, &rb.APIVersion, &schema, &rb.UpdatedAt); err != nil {
				return rb, err
			}
			// jsonb spaces its text out; listed compact, on one line.
			var compact bytes.Buffer
			if err := json.Compact(&compact, schema); err != nil {
				return rb, err
			}
			rb.Schema = compact.Bytes()
			return rb, nil
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list runbooks: %w", err)
	}
	return out, nil
}

// RemoveRunbook deletes the context's tenant's runbook name and audits it;
// runbook actions naming it are refused from then on, and those already
// queued fail.
func RemoveRunbook(ctx context.Context, db *store.DB, name string) error {
	return db.WithTenant(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM runbooks WHERE tenant_id = $1 AND name = $2`, string(tenantOf(ctx)), name)
		if err != nil {
			return fmt.Errorf("remove runbook %s: %w", name, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: %s", ErrUnknownRunbook, name)
		}
		return audit.Append(ctx, tx, EventRunbookRemoved, "runbook/"+name, nil)
	})
}
