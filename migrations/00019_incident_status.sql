-- +goose Up

-- An incident can be acknowledged: a person, or the incident's ticket, says
-- someone is on it. It is still unresolved.
ALTER TABLE incidents DROP CONSTRAINT incidents_status_check;
ALTER TABLE incidents ADD CONSTRAINT incidents_status_check CHECK (status IN ('open', 'acknowledged', 'resolved'));

-- The ticketing system the tenant's incidents get a ticket in ('' for
-- none), and whether every decided incident gets one or only those
-- escalated to a person. The integration itself (URL, credential) is the
-- action plane's (ticket_integrations); the orchestrator only names it.
ALTER TABLE tenant_triage_settings
  ADD COLUMN ticket_system text NOT NULL DEFAULT '' CHECK (ticket_system IN ('', 'jira', 'servicenow')),
  ADD COLUMN ticket_every_incident boolean NOT NULL DEFAULT false;

-- The new stages 'acknowledged' and 'reopened' may happen any number of
-- times, and so may 'resolved' and 'quality_gate': a reopened incident is
-- resolved again, and its new resolution gets a gate of its own. Neither
-- needs the index to stay idempotent:
--
--   * The source's resolution applies once per signal: it moves the
--     signal from not resolved to resolved, under the incident's row lock,
--     and touches the incident only when that UPDATE changed a row. A
--     redelivered (or duplicated) resolved entry finds the signal resolved
--     and changes nothing, even when a person reopened the incident in
--     between; a person's reopen is not undone by an old notification.
--     (A per-entry key, as signal_events gives repeats, would not stop a
--     duplicate notification under a new entry ID from undoing the reopen.)
--   * SetIncidentStatus moves the incident only from another status, under
--     the same lock; the same status twice writes nothing.
--   * The gate's verdict is stored once per resolution: under the lock, the
--     worker's verdict is refused unless the incident is still resolved at
--     the time it judged, and a verdict already stored after the latest
--     resolution is returned instead of a second.
DROP INDEX incident_transitions_once;
CREATE UNIQUE INDEX incident_transitions_once ON incident_transitions (tenant_id, incident_id, stage)
  WHERE stage IN ('received', 'classify', 'branch', 'confidence', 'execute', 'clarify', 'escalate', 'answered');

-- The ticket the orchestrator asked the action plane to open for an
-- incident: one per incident, written in the transaction that stores the
-- decision (with the job that asks for it), so it is neither lost nor asked
-- for twice. The ticket's title and description are kept here, under the
-- tenant's row-level security, rather than in the job's arguments (River's
-- tables are shared). state is 'pending' until the action plane answers,
-- then 'requested' (it accepted the action: action_id), 'refused' (it
-- refused it for good, e.g. the tenant has no such integration: error) or
-- 'failed' (every attempt to reach it failed: error). Status changes and
-- comments are sent only for 'pending' and 'requested' tickets.
CREATE TABLE incident_ticket_requests (
  tenant_id   text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  incident_id uuid NOT NULL,
  system      text NOT NULL CHECK (system IN ('jira', 'servicenow')),
  title       text NOT NULL DEFAULT '',
  description text NOT NULL DEFAULT '',
  state       text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'requested', 'refused', 'failed')),
  action_id   text NOT NULL DEFAULT '',
  error       text NOT NULL DEFAULT '' CHECK (length(error) <= 2000),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, incident_id),
  FOREIGN KEY (tenant_id, incident_id) REFERENCES incidents (tenant_id, id) ON DELETE CASCADE
);

ALTER TABLE incident_ticket_requests ENABLE ROW LEVEL SECURITY;
ALTER TABLE incident_ticket_requests FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON incident_ticket_requests
  USING (tenant_id = alexus_current_tenant())
  WITH CHECK (tenant_id = alexus_current_tenant());

GRANT SELECT, INSERT, UPDATE ON incident_ticket_requests TO alexus_app;

-- +goose Down
DROP TABLE IF EXISTS incident_ticket_requests;

-- Only the first resolution and verdict of each incident can stay under
-- the once-only index; acknowledgements and reopens have no stage before
-- this migration.
DELETE FROM incident_transitions t USING incident_transitions k
  WHERE t.tenant_id = k.tenant_id AND t.incident_id = k.incident_id AND t.stage = k.stage
    AND t.stage IN ('resolved', 'quality_gate') AND t.sequence > k.sequence;
DELETE FROM incident_transitions WHERE stage IN ('acknowledged', 'reopened');
UPDATE incidents i SET stage = coalesce((
    SELECT t.stage FROM incident_transitions t
    WHERE t.tenant_id = i.tenant_id AND t.incident_id = i.id AND t.stage <> 'repeated'
    ORDER BY t.sequence DESC LIMIT 1), 'received')
  WHERE i.stage IN ('acknowledged', 'reopened');
DROP INDEX incident_transitions_once;
CREATE UNIQUE INDEX incident_transitions_once ON incident_transitions (tenant_id, incident_id, stage)
  WHERE stage IN ('received', 'classify', 'branch', 'confidence', 'execute', 'clarify', 'escalate', 'resolved', 'answered',
                  'quality_gate');

ALTER TABLE tenant_triage_settings DROP COLUMN ticket_every_incident, DROP COLUMN ticket_system;

UPDATE incidents SET status = 'open' WHERE status = 'acknowledged';
ALTER TABLE incidents DROP CONSTRAINT incidents_status_check;
ALTER TABLE incidents ADD CONSTRAINT incidents_status_check CHECK (status IN ('open', 'resolved'));
