-- +goose Up

-- A tenant's own sources: mapping rules for tools Alexus has no normaliser
-- for, and overrides of a source's identifying fields. Both are owned by the
-- ingest plane.
--
-- Rows are never deleted while the tenant exists: a deleted rule or override
-- keeps its row with deleted_at set, so its version keeps counting when the
-- name is used again. The version is the fingerprint recipe version stored
-- with every signal, and a recipe whose output changes must never reuse one.
CREATE TABLE mapping_rules (
  tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name       text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  version    integer NOT NULL CHECK (version >= 1),
  -- The CEL expression of each signal field, by field name.
  spec       jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz,
  PRIMARY KEY (tenant_id, name)
);

CREATE TABLE fingerprint_overrides (
  tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  source     text NOT NULL CHECK (source ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  version    integer NOT NULL CHECK (version >= 1),
  -- The identifying fields, e.g. {title, resource, labels.cluster}.
  fields     text[] NOT NULL CHECK (cardinality(fields) BETWEEN 1 AND 16),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz,
  PRIMARY KEY (tenant_id, source)
);

-- +goose StatementBegin
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['mapping_rules', 'fingerprint_overrides'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = alexus_current_tenant()) WITH CHECK (tenant_id = alexus_current_tenant())', t);
  END LOOP;
END
$$;
-- +goose StatementEnd

-- No DELETE: see above.
GRANT SELECT, INSERT, UPDATE ON mapping_rules, fingerprint_overrides TO alexus_app;

-- The orchestrator's ListSignals pages newest first, for one source (a
-- fingerprint override's preview) or for all.
CREATE INDEX signals_source_newest ON signals (tenant_id, source, received_at DESC, id DESC);
CREATE INDEX signals_newest ON signals (tenant_id, received_at DESC, id DESC);

-- +goose Down
DROP INDEX IF EXISTS signals_newest, signals_source_newest;
DROP TABLE IF EXISTS fingerprint_overrides, mapping_rules;
