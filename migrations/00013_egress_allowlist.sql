-- +goose Up

-- Private, loopback and link-local addresses an operator lets a tenant's
-- actions reach (an on-premises automation server, a dev receiver on the
-- same host). Public addresses need no entry; every other address is
-- refused when the action plane dials, whatever a target's URL says.
CREATE TABLE tenant_egress_allowlist (
  tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  -- A CIDR (10.0.5.0/24, ::1/128) the tenant may reach.
  network    cidr NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, network)
);

ALTER TABLE tenant_egress_allowlist ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_egress_allowlist FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_egress_allowlist
  USING (tenant_id = alexus_current_tenant())
  WITH CHECK (tenant_id = alexus_current_tenant());

-- Only the operator writes the list (alexus tenant allow-egress); no API
-- does, so a tenant cannot widen its own reach.
GRANT SELECT, INSERT, DELETE ON tenant_egress_allowlist TO alexus_app;

-- +goose Down
DROP TABLE IF EXISTS tenant_egress_allowlist;
