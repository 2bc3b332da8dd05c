-- +goose Up
-- A row of these tables names its tenant twice: in tenant_id, checked
-- against tenants, and in a composite key (tenant_id, parent) checked
-- against a parent row that is itself checked against tenants. The first
-- check adds nothing: the parent cannot exist for a tenant that does not,
-- and deleting a tenant still removes the rows through the parent's
-- cascade.
--
-- It cost something. Each check takes a KEY SHARE lock on the tenant's one
-- row in tenants, so every concurrent transaction that stored an incident
-- locked the same row, several times (once per transition): each lock
-- is written to the WAL, and concurrent lockers share the row through a
-- multixact that grows with each of them.
ALTER TABLE incidents DROP CONSTRAINT incidents_tenant_id_fkey;
ALTER TABLE incident_transitions DROP CONSTRAINT incident_transitions_tenant_id_fkey;
ALTER TABLE triage_items DROP CONSTRAINT triage_items_tenant_id_fkey;
ALTER TABLE incident_ticket_requests DROP CONSTRAINT incident_ticket_requests_tenant_id_fkey;
ALTER TABLE signal_events DROP CONSTRAINT signal_events_tenant_id_fkey;
ALTER TABLE kg_edges DROP CONSTRAINT kg_edges_tenant_id_fkey;

-- +goose Down
ALTER TABLE incidents ADD CONSTRAINT incidents_tenant_id_fkey
  FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE;
ALTER TABLE incident_transitions ADD CONSTRAINT incident_transitions_tenant_id_fkey
  FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE;
ALTER TABLE triage_items ADD CONSTRAINT triage_items_tenant_id_fkey
  FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE;
ALTER TABLE incident_ticket_requests ADD CONSTRAINT incident_ticket_requests_tenant_id_fkey
  FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE;
ALTER TABLE signal_events ADD CONSTRAINT signal_events_tenant_id_fkey
  FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE;
ALTER TABLE kg_edges ADD CONSTRAINT kg_edges_tenant_id_fkey
  FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE;
