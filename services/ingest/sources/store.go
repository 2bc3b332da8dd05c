package sources

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/alexus-platform/alexus/internal/audit"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/internal/ticket"
	"github.com/alexus-platform/alexus/services/ingest/mapping"
	"github.com/alexus-platform/alexus/services/ingest/normalise"
)

// Errors of the Store.
var (
	// ErrNotFound reports a rule or override the tenant does not have.
	ErrNotFound = errors.New("not found")
	// ErrExists reports a rule name that is taken, by another of the
	// tenant's rules or by a native source.
	ErrExists = errors.New("already exists")
)

// Audit events of configuration changes.
const (
	EventRuleCreated     = "mapping_rule.created"
	EventRuleUpdated     = "mapping_rule.updated"
	EventRuleDeleted     = "mapping_rule.deleted"
	EventOverrideSet     = "fingerprint_override.set"
	EventOverrideDeleted = "fingerprint_override.deleted"
)

// SavedRule is a mapping rule as stored.
type SavedRule struct {
	mapping.Rule
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Store reads and writes the tenant's rules and overrides; the tenant is
// always the context's.
type Store struct {
	db *store.DB
}

// NewStore returns a Store over db.
func NewStore(db *store.DB) *Store { return &Store{db: db} }

// CreateRule compiles r and saves it as a new rule at the next version of
// its name. It fails with mapping.ErrInvalidRule when an expression does
// not compile, and with ErrExists when the name is a native source's or
// another live rule's.
func (s *Store) CreateRule(ctx context.Context, r mapping.Rule) (SavedRule, error) {
	if _, err := normalise.Builtin().Lookup(r.Name); err == nil {
		return SavedRule{}, fmt.Errorf("mapping rule %q: %w: it is the name of a native source", r.Name, ErrExists)
	}
	if ticket.IsSystem(r.Name) {
		return SavedRule{}, fmt.Errorf("mapping rule %q: %w: it is the webhook source of the %s ticket integration", r.Name, ErrExists, r.Name)
	}
	return s.saveRule(ctx, r, true)
}

// UpdateRule compiles r and replaces the live rule of its name, at the next
// version. It fails with ErrNotFound when there is none.
func (s *Store) UpdateRule(ctx context.Context, r mapping.Rule) (SavedRule, error) {
	return s.saveRule(ctx, r, false)
}

func (s *Store) saveRule(ctx context.Context, r mapping.Rule, create bool) (SavedRule, error) {
	if _, err := mapping.Compile(r); err != nil {
		return SavedRule{}, err
	}
	spec, err := json.Marshal(r)
	if err != nil {
		return SavedRule{}, fmt.Errorf("encode mapping rule %q: %w", r.Name, err)
	}
	t, err := tenant.Require(ctx)
	if err != nil {
		return SavedRule{}, err
	}
	out := SavedRule{Rule: r}
	err = s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		var (
			version int32
			deleted bool
		)
		err := tx.QueryRow(ctx, `SELECT version, deleted_at IS NOT NULL FROM mapping_rules WHERE tenant_id = $1 AND name = $2 FOR UPDATE`,
			string(t), r.Name).Scan(&version, &deleted)
		exists := err == nil
		switch {
		case err != nil && !errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("read mapping rule %q: %w", r.Name, err)
		case create && exists && !deleted:
			return fmt.Errorf("mapping rule %q: %w", r.Name, ErrExists)
		case !create && (!exists || deleted):
			return fmt.Errorf("mapping rule %q: %w", r.Name, ErrNotFound)
		}
		// A revived name keeps its creation time only while it is live:
		// a rule created again is new.
		err = tx.QueryRow(ctx, `
			INSERT INTO mapping_rules (tenant_id, name, version, spec) VALUES ($1, $2, 1, $3)
			ON CONFLICT (tenant_id, name) DO UPDATE
			  SET version = mapping_rules.version + 1, spec = EXCLUDED.spec, updated_at = now(),
			      created_at = CASE WHEN mapping_rules.deleted_at IS NULL THEN mapping_rules.created_at ELSE now() END,
			      deleted_at = NULL
			RETURNING version, created_at, updated_at`, string(t), r.Name, spec).Scan(&version, &out.CreatedAt, &out.UpdatedAt)
		if err != nil {
			return fmt.Errorf("save mapping rule %q: %w", r.Name, err)
		}
		out.Version = uint32(version)
		event := EventRuleUpdated
		if create {
			event = EventRuleCreated
		}
		return audit.Append(ctx, tx, event, "mapping_rule/"+r.Name, map[string]string{"version": strconv.Itoa(int(version))})
	})
	if err != nil {
		return SavedRule{}, err
	}
	return out, nil
}

// Rule returns the live rule called name.
func (s *Store) Rule(ctx context.Context, name string) (SavedRule, error) {
	if name == "" {
		// rules reads "" as every rule.
		return SavedRule{}, fmt.Errorf("mapping rule %q: %w", name, ErrNotFound)
	}
	rules, err := s.rules(ctx, name)
	if err != nil {
		return SavedRule{}, err
	}
	if len(rules) == 0 {
		return SavedRule{}, fmt.Errorf("mapping rule %q: %w", name, ErrNotFound)
	}
	return rules[0], nil
}

// Rules returns the tenant's live rules by name.
func (s *Store) Rules(ctx context.Context) ([]SavedRule, error) {
	return s.rules(ctx, "")
}

func (s *Store) rules(ctx context.Context, name string) ([]SavedRule, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return nil, err
	}
	var out []SavedRule
	err = s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT name, version, spec, created_at, updated_at FROM mapping_rules
			WHERE tenant_id = $1 AND deleted_at IS NULL AND ($2 = '' OR name = $2)
			ORDER BY name`, string(t), name)
		if err != nil {
			return fmt.Errorf("list mapping rules: %w", err)
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (SavedRule, error) {
			var (
				r       SavedRule
				version int32
				spec    []byte
			)
			if err := row.Scan(&r.Name, &version, &spec, &r.CreatedAt, &r.UpdatedAt); err != nil {
				return r, err
			}
			if err := json.Unmarshal(spec, &r.Rule); err != nil {
				return r, fmt.Errorf("decode mapping rule %q: %w", r.Name, err)
			}
			r.Version = uint32(version)
			return r, nil
		})
		if err != nil {
			return fmt.Errorf("list mapping rules: %w", err)
		}
		return nil
	})
	return out, err
}

// DeleteRule deletes the live rule called name, keeping its version.
func (s *Store) DeleteRule(ctx context.Context, name string) error {
	return s.tombstone(ctx, "mapping_rules", "name", name, EventRuleDeleted, "mapping_rule/"+name)
}

// SetOverride validates o and saves it as the source's override, at the
// next version.
func (s *Store) SetOverride(ctx context.Context, o Override) (Override, error) {
	if err := o.Validate(); err != nil {
		return Override{}, err
	}
	t, err := tenant.Require(ctx)
	if err != nil {
		return Override{}, err
	}
	out := Override{Source: o.Source, Fields: slices.Clone(o.Fields)}
	err = s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		var version int32
		err := tx.QueryRow(ctx, `
			INSERT INTO fingerprint_overrides (tenant_id, source, version, fields) VALUES ($1, $2, 1, $3)
			ON CONFLICT (tenant_id, source) DO UPDATE
			  SET version = fingerprint_overrides.version + 1, fields = EXCLUDED.fields, updated_at = now(), deleted_at = NULL
			RETURNING version, updated_at`, string(t), o.Source, o.Fields).Scan(&version, &out.UpdatedAt)
		if err != nil {
			return fmt.Errorf("save fingerprint override of %q: %w", o.Source, err)
		}
		out.Version = uint32(version)
		return audit.Append(ctx, tx, EventOverrideSet, "fingerprint_override/"+o.Source,
			map[string]string{"version": strconv.Itoa(int(version)), "fields": strings.Join(o.Fields, ",")})
	})
	if err != nil {
		return Override{}, err
	}
	return out, nil
}

// Overrides returns the tenant's live overrides by source.
func (s *Store) Overrides(ctx context.Context) ([]Override, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return nil, err
	}
	var out []Override
	err = s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT source, fields, version, updated_at FROM fingerprint_overrides
			WHERE tenant_id = $1 AND deleted_at IS NULL ORDER BY source`, string(t))
		if err != nil {
			return fmt.Errorf("list fingerprint overrides: %w", err)
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Override, error) {
			var (
				o       Override
				version int32
			)
			err := row.Scan(&o.Source, &o.Fields, &version, &o.UpdatedAt)
			o.Version = uint32(version)
			return o, err
		})
		if err != nil {
			return fmt.Errorf("list fingerprint overrides: %w", err)
		}
		return nil
	})
	return out, err
}

// DeleteOverride returns source to its own recipe, keeping the override's
// version.
func (s *Store) DeleteOverride(ctx context.Context, source string) error {
	return s.tombstone(ctx, "fingerprint_overrides", "source", source, EventOverrideDeleted, "fingerprint_override/"+source)
}

// tombstone marks the live row of table whose key column is key as
// deleted. table and column are constants of this file, never input.
func (s *Store) tombstone(ctx context.Context, table, column, key, event, subject string) error {
	t, err := tenant.Require(ctx)
	if err != nil {
		return err
	}
	return s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE `+table+` SET deleted_at = now(), updated_at = now()
			WHERE tenant_id = $1 AND `+column+` = $2 AND deleted_at IS NULL`, string(t), key)
		if err != nil {
			return fmt.Errorf("delete %s: %w", subject, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%s: %w", subject, ErrNotFound)
		}
		return audit.Append(ctx, tx, event, subject, nil)
	})
}
