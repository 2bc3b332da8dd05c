// Package ticketsync keeps incidents' tickets in step with them: it asks
// the action plane (ExecuteAction, kind JIRA or SERVICENOW) to open an
// incident's ticket, to move it when the incident is acknowledged, resolved
// or reopened, and to comment on it when a person answers the pipeline's
// question or the quality gate finds that the resolution did not hold.
//
// Each call is a River job on the plane's pool, inserted by incident.Store
// (through the incident.Tickets it is given) in the transaction that stores
// what the call follows: the decision that asks for the ticket, the status
// change, the answer, the verdict. So a call is queued exactly when that is
// stored, never lost to a crash in between and never queued twice; and the
// pipeline's decision never waits for, or fails with, the ticketing system.
// A job's arguments only name its call (tenant, incident, operation, the
// transition it follows); what the call says is read when it runs, from the
// incident's ticket request and transition, which row-level security keeps
// to the tenant, as River's tables are shared by every tenant.
// Each call carries an idempotency key derived from the incident and the
// transition it follows ("incident/<id>/ticket/open",
// "incident/<id>/ticket/state/<sequence>",
// "incident/<id>/ticket/comment/<note id>"), so a retried job performs it
// once at the action plane.
//
// Which incidents get a ticket is the tenant's triage settings' say (the
// pipeline asks): escalated ones, or every decided one. The request is
// recorded in incident_ticket_requests; the OPEN job records the action
// plane's answer there: the action it accepted, or its refusal
// (INVALID_ARGUMENT or FAILED_PRECONDITION, e.g. the tenant has no such
// integration), which is final and not retried, or that every attempt to
// reach it failed. Only incidents whose request is pending or accepted get
// status changes and comments, and those wait (snoozing) until the OPEN
// job has its answer, so the action plane hears of a ticket before it is
// asked to move it.
//
// A status change whose source is the ticket itself ("jira:..." or
// "servicenow:...", set by the action plane when it applies a change made
// in the ticket) is not written back. A status change job whose incident
// has changed status again since is dropped: the later change's own job
// carries the newer state.
package ticketsync
