-- +goose Up

-- A tenant's own settings of the reasoning plane's model path
-- (services/orchestrator/reasoning/modelsettings): the chat model, its API
-- key sealed by internal/secretbox (bound to the tenant and this purpose),
-- the time allowed for one request and a monthly token budget. Empty and
-- zero values mean the deployment's settings and no budget.
CREATE TABLE tenant_llm_settings (
  tenant_id            text PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
  model                text NOT NULL DEFAULT '',
  api_key              bytea,
  timeout_ms           integer NOT NULL DEFAULT 0 CHECK (timeout_ms BETWEEN 0 AND 120000),
  monthly_token_budget bigint NOT NULL DEFAULT 0 CHECK (monthly_token_budget >= 0),
  updated_at           timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE tenant_llm_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_llm_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_llm_settings
  USING (tenant_id = alexus_current_tenant())
  WITH CHECK (tenant_id = alexus_current_tenant());

GRANT SELECT, INSERT, UPDATE ON tenant_llm_settings TO alexus_app;

-- The tokens a tenant's model calls used, per calendar month (UTC, the
-- month's first day), added to after every call that got an answer. The
-- budget above is checked against it before each call.
CREATE TABLE tenant_llm_usage (
  tenant_id         text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  month             date NOT NULL CHECK (extract(day FROM month) = 1),
  prompt_tokens     bigint NOT NULL DEFAULT 0 CHECK (prompt_tokens >= 0),
  completion_tokens bigint NOT NULL DEFAULT 0 CHECK (completion_tokens >= 0),
  calls             bigint NOT NULL DEFAULT 0 CHECK (calls >= 0),
  PRIMARY KEY (tenant_id, month)
);

ALTER TABLE tenant_llm_usage ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_llm_usage FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_llm_usage
  USING (tenant_id = alexus_current_tenant())
  WITH CHECK (tenant_id = alexus_current_tenant());

GRANT SELECT, INSERT, UPDATE ON tenant_llm_usage TO alexus_app;

-- +goose Down
DROP TABLE IF EXISTS tenant_llm_usage;
DROP TABLE IF EXISTS tenant_llm_settings;
