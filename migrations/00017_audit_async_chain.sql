-- +goose Up
-- The audit log is chained after the fact instead of in the writer's
-- transaction. Locking a tenant's chain head in every audited transaction
-- made all of a tenant's audited changes run one after another; now
-- internal/audit.Append inserts an entry without its link (seq, prev_hash
-- and hash NULL) and takes no lock, and a chainer (the action plane's leader,
-- about every second, and `alexus audit verify` before it checks) links each
-- tenant's unchained entries in id order, moving the head as before.
ALTER TABLE audit_log
  ALTER COLUMN seq DROP NOT NULL,
  ALTER COLUMN prev_hash DROP NOT NULL,
  ALTER COLUMN hash DROP NOT NULL,
  -- An entry is either unchained (all three NULL) or fully linked. The
  -- UNIQUE (tenant_id, seq) constraint stays: NULLs never collide.
  ADD CONSTRAINT audit_log_chain_whole CHECK (
    (seq IS NULL AND prev_hash IS NULL AND hash IS NULL) OR
    (seq IS NOT NULL AND prev_hash IS NOT NULL AND hash IS NOT NULL));

-- The chainer finds a tenant's unchained entries, and the leader the
-- tenants that have any, through this index; it holds only the entries
-- waiting for their link, so it stays small.
CREATE INDEX audit_log_unchained ON audit_log (tenant_id, id) WHERE hash IS NULL;

-- An entry's content never changes, and its link is written once: the
-- chain columns may go from NULL to a value, never from a value to another
-- one. This holds for every role that does not switch triggers off (the
-- application role's column grant below could otherwise re-chain entries).
-- +goose StatementBegin
CREATE FUNCTION alexus_audit_log_write_once() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  IF NEW.tenant_id IS DISTINCT FROM OLD.tenant_id OR NEW.id IS DISTINCT FROM OLD.id
     OR NEW.at IS DISTINCT FROM OLD.at OR NEW.actor IS DISTINCT FROM OLD.actor
     OR NEW.event IS DISTINCT FROM OLD.event OR NEW.subject IS DISTINCT FROM OLD.subject
     OR NEW.details IS DISTINCT FROM OLD.details THEN
    RAISE EXCEPTION 'audit_log entry % is append-only: its content cannot change', OLD.id
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF (OLD.seq IS NOT NULL AND NEW.seq IS DISTINCT FROM OLD.seq)
     OR (OLD.prev_hash IS NOT NULL AND NEW.prev_hash IS DISTINCT FROM OLD.prev_hash)
     OR (OLD.hash IS NOT NULL AND NEW.hash IS DISTINCT FROM OLD.hash) THEN
    RAISE EXCEPTION 'audit_log entry % is already chained: its link is written once', OLD.id
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_log_write_once BEFORE UPDATE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION alexus_audit_log_write_once();

-- The chainer, which runs as the application role, writes the link; the
-- trigger keeps it to unchained entries. Content columns, DELETE and
-- TRUNCATE stay out of reach.
GRANT UPDATE (seq, prev_hash, hash) ON audit_log TO alexus_app;
REVOKE DELETE, TRUNCATE ON audit_log FROM alexus_app;

-- The tenants that have unchained entries, for the leader's chaining job,
-- which runs for no tenant in particular and so cannot read audit_log under
-- row-level security. Like alexus_resolve_integration_token (00001), it is
-- owned by the migrating user and answers one question: tenant ids, nothing
-- of the entries themselves.
-- +goose StatementBegin
CREATE FUNCTION alexus_audit_unchained_tenants()
  RETURNS SETOF text
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, public
  AS $$
    SELECT DISTINCT l.tenant_id FROM public.audit_log l WHERE l.hash IS NULL
  $$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION alexus_audit_unchained_tenants() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION alexus_audit_unchained_tenants() TO alexus_app;

-- +goose Down
DROP FUNCTION IF EXISTS alexus_audit_unchained_tenants();
REVOKE UPDATE (seq, prev_hash, hash) ON audit_log FROM alexus_app;
DROP TRIGGER IF EXISTS audit_log_write_once ON audit_log;
DROP FUNCTION IF EXISTS alexus_audit_log_write_once();
DROP INDEX IF EXISTS audit_log_unchained;
ALTER TABLE audit_log DROP CONSTRAINT IF EXISTS audit_log_chain_whole;
-- Entries still unchained cannot be put back under NOT NULL; chain them
-- (alexus audit verify does, per tenant) before migrating down.
ALTER TABLE audit_log
  ALTER COLUMN seq SET NOT NULL,
  ALTER COLUMN prev_hash SET NOT NULL,
  ALTER COLUMN hash SET NOT NULL;
