// Package incident owns the orchestrator's records: signals as first seen
// and counted, the incidents they open, and each incident's stage
// transitions. It also carries the live feed of transitions (Redis Pub/Sub,
// so a watcher on any replica sees transitions written by every other) and
// the OrchestratorService handlers that read all of this, and that change
// an incident's status (SetIncidentStatus: acknowledged, resolved,
// reopened) on a person's or its ticket's word. The Store records the
// incident's ticket request and hands each change that concerns the ticket
// to its Tickets (package ticketsync) in the transaction that stores it.
//
// Every query runs through store.DB.WithTenant for the tenant in the
// context, and every channel name comes from rediskey.Space.Tenant, so a
// caller can only ever reach its own tenant's incidents.
package incident
