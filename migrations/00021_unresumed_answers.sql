-- +goose Up
-- A clarify question's answer is stored, then the event that resumes its
-- incident is queued on the tenant's signal stream. A process that dies
-- between the two leaves the answer stored and the incident waiting; the
-- orchestrator's resume sweep finds such answers and queues their events
-- again.
--
-- The sweep claims an answer before it queues it (resume_sweeps,
-- resume_swept_at), so that replicas sweeping at once queue it once, an
-- answer is queued again only after a grace period, and at most three
-- times: an answer whose resume keeps failing ends in the dead-letter
-- stream like any entry, and is not brought back for ever.
ALTER TABLE triage_items ADD COLUMN resume_sweeps smallint NOT NULL DEFAULT 0;
ALTER TABLE triage_items ADD COLUMN resume_swept_at timestamptz;

-- The sweep looks back a week, through a partial index of the answered
-- clarify questions.
CREATE INDEX triage_items_answered_clarify ON triage_items (answered_at)
  WHERE kind = 'clarify' AND state = 'answered';

-- The sweep runs for no tenant in particular, so this function tells it
-- which tenants have answers to sweep (tenant ids, nothing else), as
-- alexus_ticket_unsettled_tenants does for the ticket reconcile.
-- +goose StatementBegin
CREATE FUNCTION alexus_unresumed_answer_tenants(grace interval, max_sweeps integer)
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
REVOKE ALL ON FUNCTION alexus_unresumed_answer_tenants(interval, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION alexus_unresumed_answer_tenants(interval, integer) TO alexus_app;

-- +goose Down
DROP FUNCTION IF EXISTS alexus_unresumed_answer_tenants(interval, integer);
DROP INDEX IF EXISTS triage_items_answered_clarify;
ALTER TABLE triage_items DROP COLUMN IF EXISTS resume_swept_at;
ALTER TABLE triage_items DROP COLUMN IF EXISTS resume_sweeps;
