-- +goose Up
-- A clarify question's answer is stored, then the event that resumes its
-- incident is queued on the tenant's signal stream. A process that dies
-- between the two leaves the answer stored and the incident waiting; the
-- orchestrator's resume sweep finds such answers and queues their events
-- again. The sweep runs for no tenant in particular, so this function
-- tells it which tenants have one (tenant ids, nothing else), as
-- alexus_ticket_unsettled_tenants does for the ticket reconcile. The sweep
-- looks back a week (an answer left longer was not going to be resumed by
-- a sweep that has been running all along), through a partial index of
-- the answered clarify questions.
CREATE INDEX triage_items_answered_clarify ON triage_items (answered_at)
  WHERE kind = 'clarify' AND state = 'answered';

-- +goose StatementBegin
CREATE FUNCTION alexus_unresumed_answer_tenants(older_than interval)
  RETURNS SETOF text
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, public
  AS $$
    SELECT DISTINCT q.tenant_id FROM public.triage_items q
      WHERE q.kind = 'clarify' AND q.state = 'answered'
        AND q.answered_at < now() - older_than AND q.answered_at > now() - interval '7 days'
        AND NOT EXISTS (SELECT FROM public.incident_transitions tr
                        WHERE tr.tenant_id = q.tenant_id AND tr.incident_id = q.incident_id AND tr.stage = 'answered')
  $$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION alexus_unresumed_answer_tenants(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION alexus_unresumed_answer_tenants(interval) TO alexus_app;

-- +goose Down
DROP FUNCTION IF EXISTS alexus_unresumed_answer_tenants(interval);
DROP INDEX IF EXISTS triage_items_answered_clarify;
