-- +goose Up

-- The application role the planes run as. It owns nothing, is not a
-- superuser and has no BYPASSRLS, so row-level security always applies to it.
-- NOLOGIN by default: planes reach it with SET ROLE from the admin URL; give
-- it LOGIN and a password out of band to use ALEXUS_POSTGRES_APP_URL.
-- +goose StatementBegin
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'alexus_app') THEN
    CREATE ROLE alexus_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  -- Another database of the same cluster created the role at the same time.
  NULL;
END
$$;
-- +goose StatementEnd

-- Let the migrating (admin) user SET ROLE to the app role even when it is not
-- a superuser.
-- +goose StatementBegin
DO $$
BEGIN
  IF NOT pg_has_role(current_user, 'alexus_app', 'MEMBER') THEN
    EXECUTE format('GRANT alexus_app TO %I', current_user);
  END IF;
END
$$;
-- +goose StatementEnd

-- The tenant ID of the current transaction, or NULL when none is set; NULL
-- matches no row, so a connection without a tenant reads nothing.
CREATE FUNCTION alexus_current_tenant() RETURNS text
  LANGUAGE sql STABLE
  AS $$ SELECT NULLIF(current_setting('app.tenant_id', true), '') $$;

CREATE TABLE tenants (
  id           text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  display_name text NOT NULL DEFAULT '',
  created_at   timestamptz NOT NULL DEFAULT now()
);

-- Integration tokens let a vendor post webhooks without a JWT. Only the
-- SHA-256 of the token is stored; the token is shown once at creation.
CREATE TABLE integration_tokens (
  tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id         uuid NOT NULL DEFAULT gen_random_uuid(),
  source     text NOT NULL,
  name       text NOT NULL DEFAULT '',
  token_hash bytea NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz,
  PRIMARY KEY (tenant_id, id)
);

-- Signals are normalised alerts; one row per first occurrence, with the
-- repeats counted on it.
CREATE TABLE signals (
  tenant_id        text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id               uuid NOT NULL,
  source           text NOT NULL,
  fingerprint      text NOT NULL,
  external_id      text NOT NULL DEFAULT '',
  status           text NOT NULL CHECK (status IN ('firing', 'resolved', 'acknowledged')),
  severity         text NOT NULL,
  title            text NOT NULL,
  description      text NOT NULL DEFAULT '',
  resource         text NOT NULL DEFAULT '',
  labels           jsonb NOT NULL DEFAULT '{}',
  annotations      jsonb NOT NULL DEFAULT '{}',
  link             text NOT NULL DEFAULT '',
  starts_at        timestamptz,
  ends_at          timestamptz,
  received_at      timestamptz NOT NULL,
  last_seen_at     timestamptz NOT NULL,
  occurrence_count bigint NOT NULL DEFAULT 1 CHECK (occurrence_count >= 1),
  raw_payload      bytea,
  raw_truncated    boolean NOT NULL DEFAULT false,
  resolved_at      timestamptz,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX signals_fingerprint ON signals (tenant_id, fingerprint);

CREATE TABLE incidents (
  tenant_id   text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id          uuid NOT NULL,
  signal_id   uuid NOT NULL,
  status      text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
  stage       text NOT NULL DEFAULT 'received',
  severity    text NOT NULL DEFAULT 'unspecified',
  intent      text NOT NULL DEFAULT 'unspecified',
  decision    text NOT NULL DEFAULT 'unspecified',
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  resolved_at timestamptz,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, signal_id),
  FOREIGN KEY (tenant_id, signal_id) REFERENCES signals (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX incidents_newest ON incidents (tenant_id, created_at DESC, id DESC);

CREATE TABLE incident_transitions (
  tenant_id   text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  incident_id uuid NOT NULL,
  sequence    integer NOT NULL CHECK (sequence >= 1),
  stage       text NOT NULL,
  summary     text NOT NULL DEFAULT '',
  details     jsonb NOT NULL DEFAULT '{}',
  at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, incident_id, sequence),
  FOREIGN KEY (tenant_id, incident_id) REFERENCES incidents (tenant_id, id) ON DELETE CASCADE
);
-- The pipeline stages happen at most once per incident, so a redelivered
-- stream entry resumes instead of repeating them.
CREATE UNIQUE INDEX incident_transitions_once ON incident_transitions (tenant_id, incident_id, stage)
  WHERE stage IN ('received', 'classify', 'branch', 'confidence', 'execute', 'clarify', 'escalate', 'resolved');

-- Named webhook targets an action may post to; callers pick a name, never a
-- URL, so a caller cannot make Alexus call an address the tenant did not
-- register.
CREATE TABLE webhook_targets (
  tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name       text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
  url        text NOT NULL CHECK (url ~ '^https?://'),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, name)
);

CREATE TABLE actions (
  tenant_id       text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id              uuid NOT NULL DEFAULT gen_random_uuid(),
  idempotency_key text NOT NULL,
  incident_id     uuid,
  kind            text NOT NULL,
  params          jsonb NOT NULL DEFAULT '{}',
  reason          text NOT NULL DEFAULT '',
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
  result          text NOT NULL DEFAULT '',
  attempts        integer NOT NULL DEFAULT 0,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, idempotency_key)
);

-- The audit log is append-only for the application: it gets SELECT and
-- INSERT, never UPDATE or DELETE.
CREATE TABLE audit_log (
  tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id        bigint GENERATED ALWAYS AS IDENTITY,
  at        timestamptz NOT NULL DEFAULT now(),
  actor     text NOT NULL,
  event     text NOT NULL,
  subject   text NOT NULL,
  details   jsonb NOT NULL DEFAULT '{}',
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX audit_log_subject ON audit_log (tenant_id, subject, id DESC);

-- Row-level security on every tenant table: enabled, forced (so even the
-- owner is filtered when it is not a superuser), one policy on the tenant of
-- the transaction for reads and writes alike.
-- +goose StatementBegin
DO $$
DECLARE
  t text;
  col text;
BEGIN
  FOREACH t IN ARRAY ARRAY['tenants', 'integration_tokens', 'signals', 'incidents',
                           'incident_transitions', 'webhook_targets', 'actions', 'audit_log'] LOOP
    col := CASE WHEN t = 'tenants' THEN 'id' ELSE 'tenant_id' END;
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (%I = alexus_current_tenant()) WITH CHECK (%I = alexus_current_tenant())', t, col, col);
  END LOOP;
END
$$;
-- +goose StatementEnd

GRANT USAGE ON SCHEMA public TO alexus_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON tenants, integration_tokens, signals, incidents,
  incident_transitions, webhook_targets, actions TO alexus_app;
GRANT SELECT, INSERT ON audit_log TO alexus_app;
GRANT EXECUTE ON FUNCTION alexus_current_tenant() TO alexus_app;

-- Resolving an integration token happens before the tenant is known, so it
-- cannot run under RLS as the app role. This function (owned by the
-- migrating user) answers exactly one question, by token hash, and nothing
-- else.
CREATE FUNCTION alexus_resolve_integration_token(hash bytea)
  RETURNS TABLE (tenant_id text, source text)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, public
  AS $$
    SELECT t.tenant_id, t.source FROM public.integration_tokens t
    WHERE t.token_hash = hash AND t.revoked_at IS NULL
  $$;
REVOKE ALL ON FUNCTION alexus_resolve_integration_token(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION alexus_resolve_integration_token(bytea) TO alexus_app;

-- +goose Down
DROP FUNCTION IF EXISTS alexus_resolve_integration_token(bytea);
DROP TABLE IF EXISTS audit_log, actions, webhook_targets, incident_transitions, incidents, signals,
  integration_tokens, tenants;
DROP FUNCTION IF EXISTS alexus_current_tenant();
