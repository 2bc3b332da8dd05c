-- +goose Up

-- A tenant's own embedding model: an OpenAI-compatible API (base URL and
-- model) and its key, sealed by internal/secretbox (bound to the tenant and
-- this purpose). An empty base URL means the deployment's embedder.
ALTER TABLE tenant_rag_settings
  ADD COLUMN embed_base_url text NOT NULL DEFAULT '' CHECK (embed_base_url = '' OR embed_base_url ~ '^https?://'),
  ADD COLUMN embed_model    text NOT NULL DEFAULT '',
  ADD COLUMN embed_api_key  bytea;

-- +goose Down
ALTER TABLE tenant_rag_settings DROP COLUMN embed_base_url, DROP COLUMN embed_model, DROP COLUMN embed_api_key;
