-- +goose Up

-- The stream events applied to a signal, one row per stream entry, so that
-- each event is applied exactly once whatever order the entries are
-- processed in: a redelivered entry finds its row and changes nothing, while
-- an entry processed after a newer one (another replica, a retry) still
-- counts. (A last-applied stream position would treat every out-of-order
-- entry as already applied.)
CREATE TABLE signal_events (
  tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  signal_id  uuid NOT NULL,
  -- The Redis stream entry ID of the event in the tenant's signal stream.
  stream_id  text NOT NULL,
  kind       text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, signal_id, stream_id),
  FOREIGN KEY (tenant_id, signal_id) REFERENCES signals (tenant_id, id) ON DELETE CASCADE
);

ALTER TABLE signal_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE signal_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON signal_events
  USING (tenant_id = alexus_current_tenant())
  WITH CHECK (tenant_id = alexus_current_tenant());

GRANT SELECT, INSERT, DELETE ON signal_events TO alexus_app;

-- +goose Down
DROP TABLE IF EXISTS signal_events;
