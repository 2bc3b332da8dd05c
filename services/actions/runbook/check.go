package runbook

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/alexus-platform/alexus/internal/llm"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/services/actions/action"
)

// Check is an action.Check: it refuses a runbook request that names a
// runbook the tenant has not registered, or whose parameters break the
// runbook's schema, with an error wrapping action.ErrInvalid that names
// the violations (their paths and what is wrong, never the values).
// Requests of other kinds pass.
func Check(ctx context.Context, tx pgx.Tx, req action.Request) error {
	if req.Kind != action.KindRunbook || req.Runbook == nil {
		return nil
	}
	name := req.Runbook.Target
	var raw []byte
	err := tx.QueryRow(ctx, `SELECT params_schema FROM runbooks WHERE name = $1`, name).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w: unknown runbook %q", action.ErrInvalid, name)
	}
	if err != nil {
		return fmt.Errorf("look up runbook %q: %w", name, err)
	}
	schema, err := provision.CompileRunbookSchema(name, raw)
	if err != nil {
		// It compiled when it was saved; this is the validator's change,
		// not the caller's mistake.
		return fmt.Errorf("stored schema of runbook %q: %w", name, err)
	}
	err = schema.Validate(req.Runbook.Params)
	var se *llm.SchemaError
	if errors.As(err, &se) {
		parts := make([]string, 0, len(se.Violations))
		for _, v := range se.Violations {
			parts = append(parts, v.Path+": "+v.Reason)
		}
		return fmt.Errorf("%w: params of runbook %q break its schema: %s", action.ErrInvalid, name, strings.Join(parts, "; "))
	}
	if err != nil {
		return fmt.Errorf("%w: params of runbook %q: %s", action.ErrInvalid, name, strings.TrimPrefix(err.Error(), "llm: "))
	}
	return nil
}
