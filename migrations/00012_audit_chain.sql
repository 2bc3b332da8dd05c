-- +goose Up

-- The audit log becomes a hash chain per tenant, so an edit or a removal
-- made behind the application's back (by an owner or a superuser, who can
-- change any row) is detectable by `alexus audit verify`.
--
-- Each row gets seq (1, 2, 3, ... per tenant, no gaps), prev_hash (the hash of
-- the tenant's row seq-1; 32 zero bytes for seq 1) and hash, the SHA-256 of the
-- row's canonical encoding. The encoding is documented in internal/audit
-- (doc.go), which computes it in Go when it appends a row; the functions
-- below compute exactly the same bytes in SQL. They backfill the rows written
-- before this migration and stay as a second, independent implementation an
-- auditor can run: SELECT alexus_audit_entry_hash(...) = hash FROM audit_log.

-- One length-prefixed field of the encoding: a 4-byte big-endian length, then
-- the bytes.
-- +goose StatementBegin
CREATE FUNCTION alexus_audit_field(b bytea) RETURNS bytea
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT int4send(octet_length(b)) || b $$;
-- +goose StatementEnd

-- The canonical JSON text of a details value: objects with their keys sorted
-- by their UTF-8 bytes, no insignificant whitespace, strings escaped as
-- jsonb prints them (", \, \b, \f, \n, \r, \t and \u00xx for the other control
-- characters; everything else literal), numbers as jsonb prints them.
-- +goose StatementBegin
CREATE FUNCTION alexus_audit_canonical_json(j jsonb) RETURNS text
  LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
  AS $$
DECLARE
  out text;
BEGIN
  CASE jsonb_typeof(j)
  WHEN 'object' THEN
    SELECT '{' || coalesce(string_agg(to_jsonb(e.key)::text || ':' || alexus_audit_canonical_json(e.value), ','
                                      ORDER BY e.key COLLATE "C"), '') || '}'
      INTO out FROM jsonb_each(j) AS e;
  WHEN 'array' THEN
    SELECT '[' || coalesce(string_agg(alexus_audit_canonical_json(a.value), ',' ORDER BY a.n), '') || ']'
      INTO out FROM jsonb_array_elements(j) WITH ORDINALITY AS a(value, n);
  ELSE
    out := j::text;
  END CASE;
  RETURN out;
END
$$;
-- +goose StatementEnd

-- The hash of one row: SHA-256 over the length-prefixed fields "alexus-audit-v1",
-- tenant, seq (8 bytes big-endian), at (microseconds since the Unix epoch,
-- 8 bytes big-endian), actor, event, subject, canonical details and prev_hash.
-- +goose StatementBegin
CREATE FUNCTION alexus_audit_entry_hash(tenant_id text, seq bigint, at timestamptz, actor text, event text,
                                        subject text, details jsonb, prev_hash bytea) RETURNS bytea
  LANGUAGE sql STABLE STRICT PARALLEL SAFE
  AS $$
    SELECT sha256(
      alexus_audit_field(convert_to('alexus-audit-v1', 'UTF8')) ||
      alexus_audit_field(convert_to(tenant_id, 'UTF8')) ||
      alexus_audit_field(int8send(seq)) ||
      alexus_audit_field(int8send((extract(epoch FROM at) * 1000000)::bigint)) ||
      alexus_audit_field(convert_to(actor, 'UTF8')) ||
      alexus_audit_field(convert_to(event, 'UTF8')) ||
      alexus_audit_field(convert_to(subject, 'UTF8')) ||
      alexus_audit_field(convert_to(alexus_audit_canonical_json(details), 'UTF8')) ||
      alexus_audit_field(prev_hash))
  $$;
-- +goose StatementEnd

-- The head of each tenant's chain: the last seq and its hash. The writer locks
-- it (SELECT ... FOR UPDATE) to append, so a tenant's appends serialize and
-- different tenants' do not contend; verification compares the last row with
-- it, which is how a removed tail is found.
CREATE TABLE audit_chain_heads (
  tenant_id text PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
  seq       bigint NOT NULL DEFAULT 0 CHECK (seq >= 0),
  hash      bytea NOT NULL DEFAULT decode(repeat('00', 32), 'hex') CHECK (octet_length(hash) = 32)
);

ALTER TABLE audit_log ADD COLUMN seq bigint, ADD COLUMN prev_hash bytea, ADD COLUMN hash bytea;

-- Backfill the rows written before the chain, per tenant in id order (the
-- order they were written in). Row-level security is lifted for the
-- backfill only, so a migrating owner that is not a superuser sees every
-- tenant's rows; it is forced again below, inside the same transaction.
ALTER TABLE audit_log NO FORCE ROW LEVEL SECURITY;
-- +goose StatementBegin
DO $$
DECLARE
  r      record;
  cur    text;
  n      bigint := 0;
  prev   bytea;
  h      bytea;
  zero   CONSTANT bytea := decode(repeat('00', 32), 'hex');
BEGIN
  FOR r IN SELECT l.tenant_id, l.id, l.at, l.actor, l.event, l.subject, l.details
           FROM audit_log l ORDER BY l.tenant_id, l.id LOOP
    IF cur IS DISTINCT FROM r.tenant_id THEN
      IF cur IS NOT NULL THEN
        INSERT INTO audit_chain_heads (tenant_id, seq, hash) VALUES (cur, n, prev);
      END IF;
      cur := r.tenant_id;
      n := 0;
      prev := zero;
    END IF;
    n := n + 1;
    h := alexus_audit_entry_hash(r.tenant_id, n, r.at, r.actor, r.event, r.subject, r.details, prev);
    UPDATE audit_log SET seq = n, prev_hash = prev, hash = h WHERE tenant_id = r.tenant_id AND id = r.id;
    prev := h;
  END LOOP;
  IF cur IS NOT NULL THEN
    INSERT INTO audit_chain_heads (tenant_id, seq, hash) VALUES (cur, n, prev);
  END IF;
END
$$;
-- +goose StatementEnd
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;

-- Every row is on the chain from now on: the writer cannot insert one
-- without its link.
ALTER TABLE audit_log
  ALTER COLUMN seq SET NOT NULL,
  ALTER COLUMN prev_hash SET NOT NULL,
  ALTER COLUMN hash SET NOT NULL,
  ADD CONSTRAINT audit_log_seq_positive CHECK (seq >= 1),
  ADD CONSTRAINT audit_log_hash_size CHECK (octet_length(hash) = 32 AND octet_length(prev_hash) = 32),
  ADD CONSTRAINT audit_log_tenant_seq UNIQUE (tenant_id, seq);

-- ListAuditLog's actor and event filters.
CREATE INDEX audit_log_actor ON audit_log (tenant_id, actor, id DESC);
CREATE INDEX audit_log_event ON audit_log (tenant_id, event, id DESC);

ALTER TABLE audit_chain_heads ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_chain_heads FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_chain_heads
  USING (tenant_id = alexus_current_tenant())
  WITH CHECK (tenant_id = alexus_current_tenant());

-- The application moves the head forward; it still may only SELECT and
-- INSERT audit rows, never UPDATE or DELETE them.
GRANT SELECT, INSERT, UPDATE ON audit_chain_heads TO alexus_app;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM alexus_app;

-- +goose Down
DROP INDEX IF EXISTS audit_log_event;
DROP INDEX IF EXISTS audit_log_actor;
ALTER TABLE audit_log
  DROP CONSTRAINT IF EXISTS audit_log_tenant_seq,
  DROP CONSTRAINT IF EXISTS audit_log_hash_size,
  DROP CONSTRAINT IF EXISTS audit_log_seq_positive,
  DROP COLUMN IF EXISTS hash,
  DROP COLUMN IF EXISTS prev_hash,
  DROP COLUMN IF EXISTS seq;
DROP TABLE IF EXISTS audit_chain_heads;
DROP FUNCTION IF EXISTS alexus_audit_entry_hash(text, bigint, timestamptz, text, text, text, jsonb, bytea);
DROP FUNCTION IF EXISTS alexus_audit_canonical_json(jsonb);
DROP FUNCTION IF EXISTS alexus_audit_field(bytea);
