-- +goose Up
-- A triage item whose incident is resolved before anyone answers it is
-- closed, so the queue stops asking about it; reopening the incident opens
-- it again. closed_at says when, and is set exactly while it is closed.
ALTER TABLE triage_items DROP CONSTRAINT triage_items_state_check;
ALTER TABLE triage_items ADD CONSTRAINT triage_items_state_check CHECK (state IN ('open', 'answered', 'closed'));
ALTER TABLE triage_items ADD COLUMN closed_at timestamptz;
ALTER TABLE triage_items ADD CONSTRAINT triage_items_closed_check CHECK ((state = 'closed') = (closed_at IS NOT NULL));

-- Items left open on incidents resolved before this migration are closed
-- as of the resolution. An item queued after it (the quality gate's
-- escalation that a resolution did not hold) stays open.
UPDATE triage_items q SET state = 'closed', closed_at = i.resolved_at
FROM incidents i
WHERE q.tenant_id = i.tenant_id AND q.incident_id = i.id
  AND i.status = 'resolved' AND i.resolved_at IS NOT NULL
  AND q.state = 'open' AND q.created_at <= i.resolved_at;

-- The resume sweep's tenants (migration 00021), with the sweep's condition
-- as incident.unresumed now states it: an answer given before the
-- incident's latest resolution is void, even once the incident is reopened.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION alexus_unresumed_answer_tenants(grace interval, max_sweeps integer)
  RETURNS SETOF text
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, public
  AS $$
    SELECT DISTINCT q.tenant_id FROM public.triage_items q
      JOIN public.incidents i ON i.tenant_id = q.tenant_id AND i.id = q.incident_id
      WHERE q.kind = 'clarify' AND q.state = 'answered'
        AND q.answered_at < now() - grace AND q.answered_at > now() - interval '7 days'
        AND q.resume_sweeps < max_sweeps AND (q.resume_swept_at IS NULL OR q.resume_swept_at < now() - grace)
        AND i.status <> 'resolved'
        AND NOT EXISTS (SELECT FROM public.incident_transitions tr
                        WHERE tr.tenant_id = q.tenant_id AND tr.incident_id = q.incident_id
                          AND (tr.stage = 'answered' OR (tr.stage = 'resolved' AND tr.at > q.answered_at)))
  $$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION alexus_unresumed_answer_tenants(grace interval, max_sweeps integer)
  RETURNS SETOF text
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, public
  AS $$
    SELECT DISTINCT q.tenant_id FROM public.triage_items q
      JOIN public.incidents i ON i.tenant_id = q.tenant_id AND i.id = q.incident_id
      WHERE q.kind = 'clarify' AND q.state = 'answered'
        AND q.answered_at < now() - grace AND q.answered_at > now() - interval '7 days'
        AND q.resume_sweeps < max_sweeps AND (q.resume_swept_at IS NULL OR q.resume_swept_at < now() - grace)
        AND i.status <> 'resolved'
        AND NOT EXISTS (SELECT FROM public.incident_transitions tr
                        WHERE tr.tenant_id = q.tenant_id AND tr.incident_id = q.incident_id AND tr.stage = 'answered')
  $$;
-- +goose StatementEnd
ALTER TABLE triage_items DROP CONSTRAINT triage_items_closed_check;
UPDATE triage_items SET state = 'open' WHERE state = 'closed';
ALTER TABLE triage_items DROP COLUMN closed_at;
ALTER TABLE triage_items DROP CONSTRAINT triage_items_state_check;
ALTER TABLE triage_items ADD CONSTRAINT triage_items_state_check CHECK (state IN ('open', 'answered'));
