-- +goose Up

-- The tenants that hold any sealed secret, for `alexus secrets rewrap`,
-- which moves every tenant's secrets to the key ring's first key after a
-- key-encryption key is rotated. Like alexus_audit_unchained_tenants
-- (00017) it runs for no tenant in particular and answers with tenant ids
-- only; the rewrap itself reads and writes each tenant's rows under
-- row-level security.
-- +goose StatementBegin
CREATE FUNCTION alexus_sealed_secret_tenants()
  RETURNS SETOF text
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, public
  AS $$
    SELECT tenant_id FROM public.integration_tokens WHERE signing_secret IS NOT NULL
    UNION SELECT tenant_id FROM public.notify_targets
    UNION SELECT tenant_id FROM public.runbooks
    UNION SELECT tenant_id FROM public.ticket_integrations
    UNION SELECT tenant_id FROM public.tenant_llm_settings WHERE api_key IS NOT NULL
    UNION SELECT tenant_id FROM public.tenant_rag_settings WHERE embed_api_key IS NOT NULL
  $$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION alexus_sealed_secret_tenants() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION alexus_sealed_secret_tenants() TO alexus_app;

-- +goose Down
DROP FUNCTION IF EXISTS alexus_sealed_secret_tenants();
