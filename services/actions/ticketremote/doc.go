// Package ticketremote is the action plane's one view of a tenant's
// ticketing system: Remote opens, comments on, moves and reads the
// incident's ticket and reads an inbound change, the same way for Jira
// (internal/ticket/jira) and ServiceNow (internal/ticket/servicenow), so
// that the executors (ticketjob) and the sync (ticketsync) are written
// once for both.
//
// Opener builds a Remote from the tenant's stored integration
// (internal/provision), its credential opened, with the plane's retry
// policy and an HTTP client that dials through the egress policy, so a
// tenant's integration cannot reach an address the tenant may not.
package ticketremote
