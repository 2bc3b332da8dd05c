// Package migrations holds Alexus's Postgres schema as plain SQL files,
// applied in order by goose (see internal/store.Migrate). Every tenant table
// has tenant_id, row-level security enabled and forced, and a policy on
// current_setting('app.tenant_id'); the application role alexus_app owns
// nothing and cannot bypass RLS.
package migrations

import "embed"

// FS holds the SQL migrations.
//
//go:embed *.sql
var FS embed.FS
