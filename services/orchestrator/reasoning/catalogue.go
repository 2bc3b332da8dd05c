package reasoning

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/alexus-platform/alexus/internal/store"
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
// targets: in this release, the tenant's webhook targets.
type TargetCatalogue struct{ db *store.DB }

// NewTargetCatalogue returns a catalogue read through db.
func NewTargetCatalogue(db *store.DB) *TargetCatalogue { return &TargetCatalogue{db: db} }

// Actions implements Catalogue.
func (c *TargetCatalogue) Actions(ctx context.Context) ([]CatalogueAction, error) {
	var out []CatalogueAction
	err := c.db.WithTenant(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT name FROM webhook_targets ORDER BY name LIMIT 100`)
		if err != nil {
			return err
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		for _, n := range names {
			out = append(out, CatalogueAction{Kind: ActionKindWebhook, Target: n})
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list the tenant's action targets: %w", err)
	}
	return out, nil
}

// FixedCatalogue is a catalogue that is the same for every tenant, for
// evaluation runs and tests without a database.
type FixedCatalogue []CatalogueAction

// Actions implements Catalogue.
func (c FixedCatalogue) Actions(context.Context) ([]CatalogueAction, error) { return c, nil }
