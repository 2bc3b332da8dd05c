-- +goose Up

-- A tenant's retrieval settings. knowledge_files lists the runbooks and
-- postmortems the tenant added (name, type, size, hash, chunk count, the
-- CIs they name, when), whose chunks are documents of the knowledge graph;
-- it is the record that lets a file be listed, replaced and removed.
CREATE TABLE tenant_rag_settings (
  tenant_id       text PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
  knowledge_files jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(knowledge_files) = 'array'),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE tenant_rag_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_rag_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_rag_settings
  USING (tenant_id = alexus_current_tenant())
  WITH CHECK (tenant_id = alexus_current_tenant());

GRANT SELECT, INSERT, UPDATE ON tenant_rag_settings TO alexus_app;

-- +goose Down
DROP TABLE IF EXISTS tenant_rag_settings;
