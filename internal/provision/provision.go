// Package provision creates tenants and their integration tokens. It is the
// one place that writes tenant rows, used by `alexus tenant create`, by
// `alexus integration create`, and by `alexus dev` when a valid token names
// a tenant that does not exist yet.
package provision

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/alexus-platform/alexus/internal/audit"
	"github.com/alexus-platform/alexus/internal/secretbox"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// Audit events written by this package.
const (
	EventTenantCreated           = "tenant.created"
	EventWebhookTargetSet        = "webhook_target.set"
	EventIntegrationTokenCreated = "integration_token.created"
	EventIntegrationTokenRevoked = "integration_token.revoked"
)

// TenantOptions are the settings a new tenant starts with.
type TenantOptions struct {
	// DisplayName is shown in UIs; empty means the ID.
	DisplayName string
	// DefaultWebhookURL, when set, registers the webhook target "default"
	// that remediation actions post to.
	DefaultWebhookURL string
}

// EnsureTenant creates the context's tenant when it does not exist and
// reports whether it did. Existing tenants are left as they are.
func EnsureTenant(ctx context.Context, db *store.DB, opts TenantOptions) (created bool, err error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return false, err
	}
	name := opts.DisplayName
	if name == "" {
		name = string(t)
	}
	err = db.WithTenant(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO tenants (id, display_name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`, string(t), name)
		if err != nil {
			return fmt.Errorf("insert tenant %s: %w", t, err)
		}
		created = tag.RowsAffected() == 1
		if !created {
			return nil
		}
		if opts.DefaultWebhookURL != "" {
			if _, err := tx.Exec(ctx, `INSERT INTO webhook_targets (tenant_id, name, url) VALUES ($1, 'default', $2)`, string(t), opts.DefaultWebhookURL); err != nil {
				return fmt.Errorf("register default webhook target for %s: %w", t, err)
			}
		}
		return audit.Append(ctx, tx, EventTenantCreated, "tenant/"+string(t), nil)
	})
	return created, err
}

// SetWebhookTarget registers (or repoints) the context's tenant's webhook
// target name at url and audits the change.
func SetWebhookTarget(ctx context.Context, db *store.DB, name, url string) error {
	t, err := tenant.Require(ctx)
	if err != nil {
		return err
	}
	return db.WithTenant(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			INSERT INTO webhook_targets (tenant_id, name, url) VALUES ($1, $2, $3)
			ON CONFLICT (tenant_id, name) DO UPDATE SET url = EXCLUDED.url`, string(t), name, url); err != nil {
			return fmt.Errorf("set webhook target %s for %s: %w", name, t, err)
		}
		// The URL is not audited: it may carry a credential in its query.
		return audit.Append(ctx, tx, EventWebhookTargetSet, "webhook_target/"+name, nil)
	})
}

// TenantExists reports whether the context's tenant has been created.
func TenantExists(ctx context.Context, db *store.DB) (bool, error) {
	var ok bool
	err := db.WithTenant(ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM tenants WHERE id = alexus_current_tenant())`).Scan(&ok)
	})
	if err != nil {
		return false, fmt.Errorf("look up tenant: %w", err)
	}
	return ok, nil
}

// TokenPrefix marks Alexus integration tokens so secret scanners can find
// leaked ones.
const TokenPrefix = "alx_"

// Integration is a vendor integration of a tenant: a token that lets one
// source post webhooks. The token itself is never stored or listed.
type Integration struct {
	ID        string
	Source    string
	Name      string
	CreatedAt time.Time
	// RevokedAt is set once the token was revoked.
	RevokedAt *time.Time
	// Signed says whether a signing secret is set: webhooks must then carry
	// the vendor's signature.
	Signed bool
}

// CreateIntegrationToken makes a token that lets a vendor post webhooks for
// source on behalf of the context's tenant. The token is returned once;
// only its SHA-256 is stored.
func CreateIntegrationToken(ctx context.Context, db *store.DB, source, name string) (string, error) {
	_, token, err := CreateIntegration(ctx, db, source, name)
	return token, err
}

// CreateIntegration is CreateIntegrationToken that also returns the
// integration's record, whose ID revokes it.
func CreateIntegration(ctx context.Context, db *store.DB, source, name string) (Integration, string, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return Integration{}, "", err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return Integration{}, "", fmt.Errorf("generate token: %w", err)
	}
	token := TokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
	in := Integration{Source: source, Name: name}
	err = db.WithTenant(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO integration_tokens (tenant_id, source, name, token_hash) VALUES ($1, $2, $3, $4)
			RETURNING id, created_at`, string(t), source, name, HashToken(token)).Scan(&in.ID, &in.CreatedAt)
		if err != nil {
			return fmt.Errorf("store integration token: %w", err)
		}
		return audit.Append(ctx, tx, EventIntegrationTokenCreated, "integration/"+in.ID,
			map[string]string{"source": source, "name": name})
	})
	if err != nil {
		return Integration{}, "", err
	}
	return in, token, nil
}

// ListIntegrations returns the context's tenant's integrations, newest
// first, revoked ones included.
func ListIntegrations(ctx context.Context, db *store.DB) ([]Integration, error) {
	var out []Integration
	err := db.WithTenant(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, source, name, created_at, revoked_at, signing_secret IS NOT NULL FROM integration_tokens ORDER BY created_at DESC, id`)
		if err != nil {
			return fmt.Errorf("list integrations: %w", err)
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Integration, error) {
			var in Integration
			err := r.Scan(&in.ID, &in.Source, &in.Name, &in.CreatedAt, &in.RevokedAt, &in.Signed)
			return in, err
		})
		return err
	})
	return out, err
}

// ErrUnknownIntegration reports an integration ID the tenant does not have.
var ErrUnknownIntegration = errors.New("no such integration")

// RevokeIntegration revokes the context's tenant's integration id: its token
// stops working at once. Revoking twice is not an error.
func RevokeIntegration(ctx context.Context, db *store.DB, id string) error {
	return db.WithTenant(ctx, func(tx pgx.Tx) error {
		var source string
		err := tx.QueryRow(ctx, `UPDATE integration_tokens SET revoked_at = now()
			WHERE id::text = $1 AND revoked_at IS NULL RETURNING source`, id).Scan(&source)
		if errors.Is(err, pgx.ErrNoRows) {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM integration_tokens WHERE id::text = $1)`, id).Scan(&exists); err != nil {
				return fmt.Errorf("look up integration %s: %w", id, err)
			}
			if exists {
				return nil // already revoked; nothing changed, nothing to audit
			}
			return fmt.Errorf("%w: %s", ErrUnknownIntegration, id)
		}
		if err != nil {
			return fmt.Errorf("revoke integration %s: %w", id, err)
		}
		return audit.Append(ctx, tx, EventIntegrationTokenRevoked, "integration/"+id, map[string]string{"source": source})
	})
}

// ErrUnknownToken reports a token that is malformed, unknown or revoked.
var ErrUnknownToken = errors.New("unknown or revoked integration token")

// ResolvedToken is what an integration token stands for.
type ResolvedToken struct {
	Tenant        tenant.ID
	IntegrationID string
	Source        string
	// SealedSecret is the vendor's signing secret as stored (see
	// OpenSigningSecret); nil when the integration has none.
	SealedSecret []byte
}

// ResolveIntegrationToken returns the integration a token belongs to. It
// runs before any tenant is known, through a SECURITY DEFINER function that
// answers only this one question by hash.
func ResolveIntegrationToken(ctx context.Context, db *store.DB, token string) (ResolvedToken, error) {
	if !strings.HasPrefix(token, TokenPrefix) {
		return ResolvedToken{}, ErrUnknownToken
	}
	var (
		r ResolvedToken
		t string
	)
	err := db.Pool().QueryRow(ctx, `SELECT tenant_id, source, integration_id::text, signing_secret FROM alexus_resolve_integration_token($1)`,
		HashToken(token)).Scan(&t, &r.Source, &r.IntegrationID, &r.SealedSecret)
	if errors.Is(err, pgx.ErrNoRows) {
		return ResolvedToken{}, ErrUnknownToken
	}
	if err != nil {
		return ResolvedToken{}, fmt.Errorf("resolve integration token: %w", err)
	}
	if r.Tenant, err = tenant.Parse(t); err != nil {
		return ResolvedToken{}, err
	}
	return r, nil
}

// SigningSecretPurpose binds sealed signing secrets to their use, so a
// sealed value cannot be passed off as another kind of secret.
const SigningSecretPurpose = "integration.signing_secret"

// MaxSigningSecretBytes bounds a signing secret; vendors' are 32-64 bytes.
const MaxSigningSecretBytes = 512

// Audit events of signing-secret changes; the secret itself is never in
// the audit log.
const (
	EventSigningSecretSet     = "integration.signing_secret_set"
	EventSigningSecretCleared = "integration.signing_secret_cleared"
)

// SetSigningSecret stores the vendor's signing secret of the context's
// tenant's integration id, sealed with keys; an empty secret clears it, so
// only the token authenticates the vendor again. From then on (within the
// gateway's token cache TTL) every webhook of the integration must carry a
// valid signature.
func SetSigningSecret(ctx context.Context, db *store.DB, keys *secretbox.Keyring, id string, secret []byte) error {
	t, err := tenant.Require(ctx)
	if err != nil {
		return err
	}
	if len(secret) > MaxSigningSecretBytes {
		return fmt.Errorf("signing secret is %d bytes; at most %d", len(secret), MaxSigningSecretBytes)
	}
	var sealed []byte
	event := EventSigningSecretCleared
	if len(secret) > 0 {
		if keys == nil {
			return errors.New("no key ring to seal the secret with: set ALEXUS_SECRET_KEYS")
		}
		if sealed, err = keys.Seal(secretbox.Owner{Tenant: string(t), Record: id, Purpose: SigningSecretPurpose}, secret); err != nil {
			return fmt.Errorf("seal signing secret: %w", err)
		}
		event = EventSigningSecretSet
	}
	return db.WithTenant(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE integration_tokens SET signing_secret = $2 WHERE id::text = $1 AND revoked_at IS NULL`, id, sealed)
		if err != nil {
			return fmt.Errorf("store signing secret of integration %s: %w", id, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w (or it is revoked): %s", ErrUnknownIntegration, id)
		}
		return audit.Append(ctx, tx, event, "integration/"+id, nil)
	})
}

// OpenSigningSecret unseals r's signing secret; nil when it has none.
func OpenSigningSecret(keys *secretbox.Keyring, r ResolvedToken) ([]byte, error) {
	if len(r.SealedSecret) == 0 {
		return nil, nil
	}
	if keys == nil {
		return nil, errors.New("integration has a signing secret but no key ring is configured (ALEXUS_SECRET_KEYS)")
	}
	secret, err := keys.Open(secretbox.Owner{Tenant: string(r.Tenant), Record: r.IntegrationID, Purpose: SigningSecretPurpose}, r.SealedSecret)
	if err != nil {
		return nil, fmt.Errorf("open signing secret of integration %s: %w", r.IntegrationID, err)
	}
	return secret, nil
}

// HashToken is the stored form of a token.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// EventEgressAllowed and EventEgressRevoked audit changes of a tenant's
// egress allow-list.
const (
	EventEgressAllowed = "egress.allowed"
	EventEgressRevoked = "egress.revoked"
)

// AllowEgress lets the context's tenant's actions reach the non-public
// network n (see internal/egress), or, with revoke, stops it; either is
// audited. It is an operator's tool: no API calls it.
func AllowEgress(ctx context.Context, db *store.DB, n netip.Prefix, revoke bool) error {
	t, err := tenant.Require(ctx)
	if err != nil {
		return err
	}
	n = n.Masked()
	return db.WithTenant(ctx, func(tx pgx.Tx) error {
		q, event := `INSERT INTO tenant_egress_allowlist (tenant_id, network) VALUES ($1, $2) ON CONFLICT DO NOTHING`, EventEgressAllowed
		if revoke {
			q, event = `DELETE FROM tenant_egress_allowlist WHERE tenant_id = $1 AND network = $2`, EventEgressRevoked
		}
		if _, err := tx.Exec(ctx, q, string(t), n); err != nil {
			return fmt.Errorf("%s %s for %s: %w", event, n, t, err)
		}
		return audit.Append(ctx, tx, event, "egress/"+n.String(), nil)
	})
}

// EgressNetworks returns the non-public networks the context's tenant's
// actions may reach.
func EgressNetworks(ctx context.Context, db *store.DB) ([]netip.Prefix, error) {
	var out []netip.Prefix
	err := db.WithTenant(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT network FROM tenant_egress_allowlist WHERE tenant_id = $1 ORDER BY network`, string(tenantOf(ctx)))
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, pgx.RowTo[netip.Prefix])
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read the egress allow-list: %w", err)
	}
	return out, nil
}

// tenantOf is the tenant of a context that store.DB.WithTenant has
// already required one of; queries name it besides row-level security.
func tenantOf(ctx context.Context) tenant.ID {
	t, _ := tenant.Require(ctx)
	return t
}
