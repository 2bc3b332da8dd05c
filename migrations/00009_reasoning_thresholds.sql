-- +goose Up

-- A tenant's confidence thresholds for the reasoning plane's decision
-- (execute, clarify or escalate), per severity and action kind. An empty
-- severity covers any severity and an empty action kind any kind; the most
-- specific rule that matches a signal applies, and the plane's configured
-- defaults apply where none does (services/orchestrator/reasoning/thresholds).
-- The primary key is also the index that lookup reads.
CREATE TABLE reasoning_thresholds (
  tenant_id   text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  severity    text NOT NULL DEFAULT '' CHECK (severity IN ('', 'info', 'warning', 'error', 'critical')),
  action_kind text NOT NULL DEFAULT '' CHECK (action_kind ~ '^([a-z][a-z0-9_]{0,31})?$'),
  execute_at  double precision NOT NULL,
  clarify_at  double precision NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, severity, action_kind),
  -- Postgres sorts NaN above every number, so this refuses NaN too.
  CHECK (0 <= clarify_at AND clarify_at <= execute_at AND execute_at <= 1)
);

ALTER TABLE reasoning_thresholds ENABLE ROW LEVEL SECURITY;
ALTER TABLE reasoning_thresholds FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON reasoning_thresholds
  USING (tenant_id = alexus_current_tenant())
  WITH CHECK (tenant_id = alexus_current_tenant());

GRANT SELECT, INSERT, UPDATE, DELETE ON reasoning_thresholds TO alexus_app;

-- +goose Down
DROP TABLE IF EXISTS reasoning_thresholds;
