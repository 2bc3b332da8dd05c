-- +goose Up

-- A tenant's ticketing systems: at most one Jira and one ServiceNow.
-- settings holds what is not secret (the Jira project, issue type, labels,
-- integration accountId and status mappings; the ServiceNow close code,
-- assignment group and user names), as internal/provision's TicketSettings
-- encodes them. The credential (a JSON object with the Jira API token or
-- the ServiceNow password, or an OAuth bearer token) is stored sealed
-- (internal/secretbox, AES-256-GCM under the tenant's data key) with the
-- owner (tenant, record_id, 'ticket_integration.credential') as associated
-- data; record_id is drawn afresh each time the integration is set, so an
-- older sealed credential cannot be written back over a newer one.
CREATE TABLE ticket_integrations (
  tenant_id         text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  system            text NOT NULL CHECK (system IN ('jira', 'servicenow')),
  base_url          text NOT NULL,
  settings          jsonb NOT NULL DEFAULT '{}',
  record_id         uuid NOT NULL,
  credential_sealed bytea NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, system)
);

-- The tickets Alexus opened: one per incident and system. remote_key is
-- what the remote API addresses the ticket by (the Jira issue key, the
-- ServiceNow sys_id), number what people call it (the Jira key again, the
-- ServiceNow number). marker is the "alexus-<hash>" the ticket carries.
--
-- The written_* columns are ticket.Written, what Alexus last wrote, for
-- the echo-loop rule; local_* is the incident's state as the action plane
-- last learnt it (from its own writes and from the orchestrator), and
-- remote_* the ticket's as last read or received. The conflict rule
-- (ticket.Decide) compares local_* with remote_*.
CREATE TABLE tickets (
  tenant_id         text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id                uuid NOT NULL DEFAULT gen_random_uuid(),
  incident_id       uuid NOT NULL,
  system            text NOT NULL CHECK (system IN ('jira', 'servicenow')),
  remote_key        text NOT NULL,
  number            text NOT NULL DEFAULT '',
  url               text NOT NULL DEFAULT '',
  marker            text NOT NULL,
  remote_status     text NOT NULL DEFAULT '',
  remote_state      text NOT NULL DEFAULT '' CHECK (remote_state IN ('', 'open', 'acknowledged', 'resolved')),
  remote_changed_at timestamptz,
  local_state       text NOT NULL DEFAULT 'open' CHECK (local_state IN ('open', 'acknowledged', 'resolved')),
  local_changed_at  timestamptz NOT NULL DEFAULT now(),
  written_state     text NOT NULL DEFAULT '' CHECK (written_state IN ('', 'open', 'acknowledged', 'resolved')),
  written_version   bigint NOT NULL DEFAULT 0,
  written_at        timestamptz,
  synced_at         timestamptz NOT NULL DEFAULT now(),
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, incident_id, system),
  UNIQUE (tenant_id, system, remote_key)
);

CREATE INDEX tickets_newest ON tickets (tenant_id, created_at DESC, id DESC);
CREATE INDEX tickets_marker ON tickets (tenant_id, system, marker);
-- The reconcile job visits the tickets not resolved on both sides,
-- least recently synced first.
CREATE INDEX tickets_unsettled ON tickets (synced_at)
  WHERE NOT (local_state = 'resolved' AND remote_state = 'resolved');

-- Every comparison of a ticket with its incident: an inbound webhook, an
-- outbound write, a reconcile read. outcome is a TicketSyncOutcome's name
-- in lower case (applied, echo, in_sync, local_won, unknown_ticket,
-- unmapped) or 'written' for an outbound write.
CREATE TABLE ticket_sync_events (
  tenant_id     text NOT NULL,
  id            bigint GENERATED ALWAYS AS IDENTITY,
  ticket_id     uuid NOT NULL,
  direction     text NOT NULL CHECK (direction IN ('inbound', 'outbound', 'reconcile')),
  outcome       text NOT NULL,
  remote_status text NOT NULL DEFAULT '',
  changed_by    text NOT NULL DEFAULT '',
  reason        text NOT NULL DEFAULT '',
  at            timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX ticket_sync_events_ticket ON ticket_sync_events (tenant_id, ticket_id, id DESC);

ALTER TABLE ticket_integrations ENABLE ROW LEVEL SECURITY;
ALTER TABLE ticket_integrations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON ticket_integrations
  USING (tenant_id = alexus_current_tenant())
  WITH CHECK (tenant_id = alexus_current_tenant());

ALTER TABLE tickets ENABLE ROW LEVEL SECURITY;
ALTER TABLE tickets FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tickets
  USING (tenant_id = alexus_current_tenant())
  WITH CHECK (tenant_id = alexus_current_tenant());

ALTER TABLE ticket_sync_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE ticket_sync_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON ticket_sync_events
  USING (tenant_id = alexus_current_tenant())
  WITH CHECK (tenant_id = alexus_current_tenant());

GRANT SELECT, INSERT, UPDATE, DELETE ON ticket_integrations TO alexus_app;
GRANT SELECT, INSERT, UPDATE ON tickets TO alexus_app;
-- Sync events are a history: appended, never changed.
GRANT SELECT, INSERT ON ticket_sync_events TO alexus_app;

-- The tenants that have tickets not resolved on both sides, for the
-- periodic reconcile job, which runs for no tenant in particular (as
-- alexus_audit_unchained_tenants in 00017: tenant ids, nothing else).
-- +goose StatementBegin
CREATE FUNCTION alexus_ticket_unsettled_tenants()
  RETURNS SETOF text
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, public
  AS $$
    SELECT DISTINCT t.tenant_id FROM public.tickets t
      WHERE NOT (t.local_state = 'resolved' AND t.remote_state = 'resolved')
  $$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION alexus_ticket_unsettled_tenants() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION alexus_ticket_unsettled_tenants() TO alexus_app;

-- +goose Down
DROP FUNCTION IF EXISTS alexus_ticket_unsettled_tenants();
DROP TABLE IF EXISTS ticket_sync_events;
DROP TABLE IF EXISTS tickets;
DROP TABLE IF EXISTS ticket_integrations;
