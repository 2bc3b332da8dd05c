-- +goose Up

-- Automation endpoints a runbook action may trigger: a Rundeck job, an AWX
-- (Ansible Automation Platform) job template, or a generic HTTPS endpoint.
-- As with webhook and notify targets, a caller names a runbook and never
-- gives a URL.
--
-- url is the server's base URL for rundeck and awx (the job's run or launch
-- path is built from job and api_version) and the endpoint itself for
-- generic; it is not secret. The credential (Rundeck's API token, AWX's
-- OAuth2 token, or the generic endpoint's HMAC signing key) is stored
-- sealed (internal/secretbox) under the owner (tenant, record_id,
-- 'runbook.credential'); record_id is drawn afresh each time the runbook is
-- set, so an older sealed credential cannot be written back over a newer
-- one. params_schema is the JSON schema a runbook action's parameters must
-- satisfy; it is checked when it is saved and again for every action.
CREATE TABLE runbooks (
  tenant_id         text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name              text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
  kind              text NOT NULL CHECK (kind IN ('rundeck', 'awx', 'generic')),
  url               text NOT NULL,
  job               text NOT NULL DEFAULT '',
  api_version       integer NOT NULL DEFAULT 0,
  record_id         uuid NOT NULL,
  credential_sealed bytea NOT NULL,
  params_schema     jsonb NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, name)
);

ALTER TABLE runbooks ENABLE ROW LEVEL SECURITY;
ALTER TABLE runbooks FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON runbooks
  USING (tenant_id = alexus_current_tenant())
  WITH CHECK (tenant_id = alexus_current_tenant());

GRANT SELECT, INSERT, UPDATE, DELETE ON runbooks TO alexus_app;

-- +goose Down
DROP TABLE IF EXISTS runbooks;
