-- +goose Up

-- Chat channels a notify action may post to: Slack and Microsoft Teams
-- incoming webhooks. As with webhook_targets, a caller names a target and
-- never gives a URL. The URL of an incoming webhook is itself the
-- credential (anyone holding it can post to the channel), so it is stored
-- sealed (internal/secretbox) under the owner (tenant, record_id,
-- 'notify_target.url'); record_id is drawn afresh each time the URL is set,
-- so an older sealed URL cannot be written back over a newer one.
CREATE TABLE notify_targets (
  tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name       text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
  format     text NOT NULL CHECK (format IN ('slack', 'teams')),
  record_id  uuid NOT NULL,
  url_sealed bytea NOT NULL,
  -- The URL's host, which is not secret, for listings.
  url_host   text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, name)
);

ALTER TABLE notify_targets ENABLE ROW LEVEL SECURITY;
ALTER TABLE notify_targets FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON notify_targets
  USING (tenant_id = alexus_current_tenant())
  WITH CHECK (tenant_id = alexus_current_tenant());

GRANT SELECT, INSERT, UPDATE, DELETE ON notify_targets TO alexus_app;

-- ListActions pages newest first, optionally by status (the dead ones are
-- status 'failed').
CREATE INDEX actions_newest ON actions (tenant_id, created_at DESC, id DESC);
CREATE INDEX actions_status_newest ON actions (tenant_id, status, created_at DESC, id DESC);

-- +goose Down
DROP INDEX IF EXISTS actions_status_newest;
DROP INDEX IF EXISTS actions_newest;
DROP TABLE IF EXISTS notify_targets;
