-- +goose Up

-- A vendor's webhook signing secret per integration, sealed by
-- internal/secretbox (envelope encryption under the configured key ring,
-- bound to the tenant and the integration ID). NULL means the vendor does
-- not sign, and only the token authenticates it.
ALTER TABLE integration_tokens ADD COLUMN signing_secret bytea;

-- The resolver now also answers with the integration's ID and sealed
-- secret, which the gateway needs to check the vendor's signature.
DROP FUNCTION alexus_resolve_integration_token(bytea);
CREATE FUNCTION alexus_resolve_integration_token(hash bytea)
  RETURNS TABLE (tenant_id text, source text, integration_id uuid, signing_secret bytea)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, public
  AS $$
    SELECT t.tenant_id, t.source, t.id, t.signing_secret FROM public.integration_tokens t
    WHERE t.token_hash = hash AND t.revoked_at IS NULL
  $$;
REVOKE ALL ON FUNCTION alexus_resolve_integration_token(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION alexus_resolve_integration_token(bytea) TO alexus_app;

-- +goose Down
DROP FUNCTION alexus_resolve_integration_token(bytea);
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
ALTER TABLE integration_tokens DROP COLUMN signing_secret;
