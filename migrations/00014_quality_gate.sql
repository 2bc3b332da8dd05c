-- +goose Up

-- The quality gate: a while after an incident is resolved (48 hours by
-- default) a job checks whether the same alert, or another on the same
-- resource, came back. resolution_quality is what it made of the
-- resolution: '' before any resolution, 'pending' once the gate is
-- scheduled, then 'validated' or 'ineffective'.
ALTER TABLE incidents
  ADD COLUMN resolution_quality text NOT NULL DEFAULT ''
    CHECK (resolution_quality IN ('', 'pending', 'validated', 'ineffective'));

-- The gate looks for a later signal on the same resource; the fingerprint
-- side has signals_fingerprint already.
CREATE INDEX signals_resource ON signals (tenant_id, resource, received_at) WHERE resource <> '';

-- The gate's verdict is a stage that happens at most once per incident.
DROP INDEX incident_transitions_once;
CREATE UNIQUE INDEX incident_transitions_once ON incident_transitions (tenant_id, incident_id, stage)
  WHERE stage IN ('received', 'classify', 'branch', 'confidence', 'execute', 'clarify', 'escalate', 'resolved', 'answered',
                  'quality_gate');

-- An incident whose resolution failed the gate is escalated again, even
-- when the pipeline escalated it before: an incident may now hold more than
-- one item of a kind. Items keep IDs derived from their incident and what
-- queued them (incident.TriageItemID), so the primary key still stops a
-- redelivered stage from queueing an item twice.
ALTER TABLE triage_items DROP CONSTRAINT triage_items_tenant_id_incident_id_kind_key;
CREATE INDEX triage_items_incident ON triage_items (tenant_id, incident_id);

-- +goose Down
DROP INDEX IF EXISTS triage_items_incident;
DELETE FROM triage_items q USING triage_items p
  WHERE q.tenant_id = p.tenant_id AND q.incident_id = p.incident_id AND q.kind = p.kind AND q.created_at > p.created_at;
ALTER TABLE triage_items ADD CONSTRAINT triage_items_tenant_id_incident_id_kind_key UNIQUE (tenant_id, incident_id, kind);
DELETE FROM incident_transitions WHERE stage = 'quality_gate';
DROP INDEX incident_transitions_once;
CREATE UNIQUE INDEX incident_transitions_once ON incident_transitions (tenant_id, incident_id, stage)
  WHERE stage IN ('received', 'classify', 'branch', 'confidence', 'execute', 'clarify', 'escalate', 'resolved', 'answered');
DROP INDEX IF EXISTS signals_resource;
ALTER TABLE incidents DROP COLUMN resolution_quality;
