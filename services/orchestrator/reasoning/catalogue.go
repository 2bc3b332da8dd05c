package reasoning

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// CatalogueAction is one action a tenant allows a diagnosis to recommend:
// an action kind and the name of the tenant's registered target for it.
type CatalogueAction struct {
	Kind   string `json:"kind"`
	Target string `json:"target"`
}

// Catalogue lists the context's tenant's actions.
type Catalogue interface {
	Actions(ctx context.Context) ([]CatalogueAction, error)
}

// TargetCatalogue is the catalogue of the action plane's registered
// targets: the tenant's webhook targets (kind "webhook"), its Slack and
// Microsoft Teams notify targets (kind "notify") and its runbooks (kind
// "runbook": Rundeck jobs, AWX job templates, generic automation
// endpoints).
type TargetCatalogue struct{ db *store.DB }

// NewTargetCatalogue returns a catalogue read through db.
func NewTargetCatalogue(db *store.DB) *TargetCatalogue { return &TargetCatalogue{db: db} }

// Actions implements Catalogue.
func (c *TargetCatalogue) Actions(ctx context.Context) ([]CatalogueAction, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return nil, err
	}
	var out []CatalogueAction
	err = c.db.WithTenant(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			(SELECT $2::text, name FROM webhook_targets WHERE tenant_id = $1 ORDER BY name LIMIT 100)
			UNION ALL
			(SELECT $3::text, name FROM notify_targets WHERE tenant_id = $1 ORDER BY name LIMIT 100)
			UNION ALL
			(SELECT $4::text, name FROM runbooks WHERE tenant_id = $1 ORDER BY name LIMIT 100)`, string(t), ActionKindWebhook, ActionKindNotify, ActionKindRunbook)
		if err != nil {
			return err
		}
		out, err = pgx.AppendRows(out, rows, func(r pgx.CollectableRow) (CatalogueAction, error) {
			var a CatalogueAction
			err := r.Scan(&a.Kind, &a.Target)
			return a, err
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list the tenant's action targets: %w", err)
	}
	return out, nil
}

// ActionKindNotify is the catalogue kind of a notify target: a message to
// a Slack or Microsoft Teams channel.
const ActionKindNotify = "notify"

// ActionKindRunbook is the catalogue kind of a runbook: a Rundeck job, an
// AWX job template or a generic automation endpoint the tenant registered.
const ActionKindRunbook = "runbook"

// FixedCatalogue is a catalogue that is the same for every tenant, for
// evaluation runs and tests without a database.
type FixedCatalogue []CatalogueAction

// Actions implements Catalogue.
func (c FixedCatalogue) Actions(context.Context) ([]CatalogueAction, error) { return c, nil }
