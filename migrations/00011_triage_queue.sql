-- +goose Up

-- The triage queue: the questions the pipeline asks a person before it acts
-- (clarify) and the incidents it hands to a person (escalate). An incident
-- has at most one item of each kind, so a redelivered stage never queues a
-- second one.
CREATE TABLE triage_items (
  tenant_id          text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id                 uuid NOT NULL DEFAULT gen_random_uuid(),
  incident_id        uuid NOT NULL,
  kind               text NOT NULL CHECK (kind IN ('clarify', 'escalate')),
  state              text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'answered')),
  question           text NOT NULL DEFAULT '',
  route              text NOT NULL DEFAULT '',
  route_reason       text NOT NULL DEFAULT '',
  -- The diagnosis and recommended action as proto JSON, attached for the
  -- person who answers.
  diagnosis          jsonb NOT NULL DEFAULT '{}',
  recommended_action jsonb,
  answer             text NOT NULL DEFAULT '',
  answered_by        text NOT NULL DEFAULT '',
  created_at         timestamptz NOT NULL DEFAULT now(),
  answered_at        timestamptz,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, incident_id, kind),
  FOREIGN KEY (tenant_id, incident_id) REFERENCES incidents (tenant_id, id) ON DELETE CASCADE,
  CHECK ((state = 'answered') = (answered_at IS NOT NULL))
);
CREATE INDEX triage_items_newest ON triage_items (tenant_id, created_at DESC, id DESC);

-- Where a tenant's escalations go when the affected CI has no owner.
CREATE TABLE tenant_triage_settings (
  tenant_id     text PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
  default_route text NOT NULL DEFAULT '' CHECK (length(default_route) <= 200),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE triage_items ENABLE ROW LEVEL SECURITY;
ALTER TABLE triage_items FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON triage_items
  USING (tenant_id = alexus_current_tenant())
  WITH CHECK (tenant_id = alexus_current_tenant());
ALTER TABLE tenant_triage_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_triage_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_triage_settings
  USING (tenant_id = alexus_current_tenant())
  WITH CHECK (tenant_id = alexus_current_tenant());

GRANT SELECT, INSERT, UPDATE ON triage_items TO alexus_app;
GRANT SELECT, INSERT, UPDATE ON tenant_triage_settings TO alexus_app;

-- "answered" (the confidence check rerun with a person's answer) happens
-- at most once per incident, like the other pipeline stages.
DROP INDEX incident_transitions_once;
CREATE UNIQUE INDEX incident_transitions_once ON incident_transitions (tenant_id, incident_id, stage)
  WHERE stage IN ('received', 'classify', 'branch', 'confidence', 'execute', 'clarify', 'escalate', 'resolved', 'answered');

-- +goose Down
DROP INDEX incident_transitions_once;
CREATE UNIQUE INDEX incident_transitions_once ON incident_transitions (tenant_id, incident_id, stage)
  WHERE stage IN ('received', 'classify', 'branch', 'confidence', 'execute', 'clarify', 'escalate', 'resolved');
DROP TABLE IF EXISTS tenant_triage_settings;
DROP TABLE IF EXISTS triage_items;
