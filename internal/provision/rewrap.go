package provision

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/alexus-platform/alexus/internal/audit"
	"github.com/alexus-platform/alexus/internal/secretbox"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// EventSecretsRewrapped audits a rewrap that moved secrets to another key.
const EventSecretsRewrapped = "secrets.rewrapped"

// The owners of the tenant-wide sealed keys the orchestrator keeps: one
// row per tenant, so the record is a fixed name.
const (
	// LLMKeyPurpose and LLMKeyRecord bind a tenant's chat-model API key.
	LLMKeyPurpose = "reasoning.llm_api_key"
	LLMKeyRecord  = "tenant_llm_settings"
	// EmbedKeyPurpose and EmbedKeyRecord bind a tenant's embedding API key.
	EmbedKeyPurpose = "rag.embed_api_key"
	EmbedKeyRecord  = "embed"
)

// sealedColumn is one column that holds sealed secrets, and how its rows
// name their owner.
type sealedColumn struct {
	table, column string
	// record is the SQL expression of a row's secretbox record.
	record  string
	purpose string
}

// sealedColumns are every column of a sealed secret. A new one must be
// added here (and to alexus_sealed_secret_tenants) or a rotated key can
// never be retired.
var sealedColumns = []sealedColumn{
	{"integration_tokens", "signing_secret", "id::text", SigningSecretPurpose},
	{"notify_targets", "url_sealed", "record_id::text", NotifyTargetPurpose},
	{"runbooks", "credential_sealed", "record_id::text", RunbookCredentialPurpose},
	{"ticket_integrations", "credential_sealed", "record_id::text", TicketCredentialPurpose},
	{"tenant_llm_settings", "api_key", "'" + LLMKeyRecord + "'", LLMKeyPurpose},
	{"tenant_rag_settings", "embed_api_key", "'" + EmbedKeyRecord + "'", EmbedKeyPurpose},
}

// RewrapResult counts one tenant's sealed secrets.
type RewrapResult struct {
	Tenant tenant.ID
	// Rewrapped counts the secrets moved to the primary key, by table.
	Rewrapped map[string]int
	// Current counts those already under it.
	Current int
}

// Total is how many secrets the rewrap moved.
func (r RewrapResult) Total() int {
	n := 0
	for _, c := range r.Rewrapped {
		n += c
	}
	return n
}

// RewrapSecrets moves every sealed secret of the context's tenant that is
// not under the key ring's primary key to it (secretbox.Keyring.Rewrap:
// the data key is wrapped again, the secret itself is not re-encrypted),
// in one transaction, and audits what it moved. Once every tenant is
// rewrapped, the old key can leave ALEXUS_SECRET_KEYS. A secret that does
// not open (another owner's blob, a key no longer in the ring) fails the
// whole tenant, naming the table, and nothing of it is changed.
func RewrapSecrets(ctx context.Context, db *store.DB, keys *secretbox.Keyring) (RewrapResult, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return RewrapResult{}, err
	}
	if keys == nil {
		return RewrapResult{}, fmt.Errorf("no key ring to rewrap with: set ALEXUS_SECRET_KEYS")
	}
	res := RewrapResult{Tenant: t, Rewrapped: map[string]int{}}
	err = db.WithTenant(ctx, func(tx pgx.Tx) error {
		for _, c := range sealedColumns {
			n, current, err := rewrapColumn(ctx, tx, keys, t, c)
			if err != nil {
				return err
			}
			if n > 0 {
				res.Rewrapped[c.table] = n
			}
			res.Current += current
		}
		if res.Total() == 0 {
			return nil
		}
		details := map[string]string{"key": keys.PrimaryID()}
		for table, n := range res.Rewrapped {
			details[table] = strconv.Itoa(n)
		}
		return audit.Append(ctx, tx, EventSecretsRewrapped, "secrets", details)
	})
	if err != nil {
		return RewrapResult{}, err
	}
	return res, nil
}

// rewrapColumn rewraps the tenant's secrets in one column, the rows locked
// while it does; it returns how many it moved and how many were current.
func rewrapColumn(ctx context.Context, tx pgx.Tx, keys *secretbox.Keyring, t tenant.ID, c sealedColumn) (moved, current int, err error) {
	// The table, column and record come from sealedColumns, never from
	// input.
	rows, err := tx.Query(ctx, fmt.Sprintf(`SELECT ctid, %s, %s FROM %s WHERE tenant_id = $1 AND %s IS NOT NULL FOR UPDATE`,
		c.record, c.column, c.table, c.column), string(t))
	if err != nil {
		return 0, 0, fmt.Errorf("read the sealed %s.%s: %w", c.table, c.column, err)
	}
	type row struct {
		ctid   pgtype.TID
		record string
		sealed []byte
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		err := r.Scan(&x.ctid, &x.record, &x.sealed)
		return x, err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("read the sealed %s.%s: %w", c.table, c.column, err)
	}
	for _, x := range all {
		if !keys.NeedsRewrap(x.sealed) {
			current++
			continue
		}
		owner := secretbox.Owner{Tenant: string(t), Record: x.record, Purpose: c.purpose}
		blob, err := keys.Rewrap(owner, x.sealed)
		if err != nil {
			return 0, 0, fmt.Errorf("rewrap a secret of %s (record %s): %w", c.table, x.record, err)
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf(`UPDATE %s SET %s = $1 WHERE ctid = $2`, c.table, c.column), blob, x.ctid); err != nil {
			return 0, 0, fmt.Errorf("store a rewrapped secret of %s: %w", c.table, err)
		}
		moved++
	}
	return moved, current, nil
}

// SealedSecretTenants returns the tenants that hold any sealed secret. It
// reads across tenants through a function of the schema's owner that
// returns tenant ids only, so it needs no tenant in ctx.
func SealedSecretTenants(ctx context.Context, db *store.DB) ([]tenant.ID, error) {
	rows, err := db.Pool().Query(ctx, `SELECT t FROM alexus_sealed_secret_tenants() AS t ORDER BY t`)
	if err != nil {
		return nil, fmt.Errorf("find tenants with sealed secrets: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("find tenants with sealed secrets: %w", err)
	}
	out := make([]tenant.ID, 0, len(ids))
	for _, id := range ids {
		t, err := tenant.Parse(id)
		if err != nil {
			return nil, fmt.Errorf("tenant with sealed secrets: %w", err)
		}
		out = append(out, t)
	}
	return out, nil
}
