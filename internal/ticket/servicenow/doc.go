// Package servicenow is Alexus's two-way link to ServiceNow incidents
// through the Table API: it opens an incident record for an Alexus
// incident, adds work notes, moves the record's state when the incident
// moves, reads it back for the reconcile job, and turns the outbound REST
// message a tenant's business rule sends into ticket.Updates. The package
// sntest beneath it is a stand-in instance for tests.
//
// # Outbound
//
// Client.FindOrCreate opens the record (POST /api/now/table/incident)
// with short_description, description, urgency, impact, correlation_id
// set to the incident's marker "alexus-<hash>" and correlation_display
// "Alexus". Before it creates it queries for the marker
// (GET /api/now/table/incident?sysparm_query=correlation_id=<marker>),
// and when a create fails in a way that may have come after ServiceNow
// inserted the record (a timeout, a 5xx, a dropped connection) it queries
// again before retrying, so a retried create does not open a second
// record. Should two records carry one marker, the oldest is the record
// of record.
//
// Client.WorkNote adds a work note (PATCH work_notes) ending in the tag
// "[alexus note <id>]"; when the record's work notes already hold the tag
// nothing is added, so neither a repeat nor a retry after a lost response
// duplicates a note. Client.SetState PATCHes state — and, to resolve,
// close_code and close_notes, which ServiceNow's data policy requires —
// and returns the record as updated, whose sys_mod_count the caller keeps
// as ticket.Written.Version for the echo-loop rule.
//
// Credentials are a user name and password (basic auth) or an OAuth 2.0
// bearer token. They never appear in an error.
//
// # State mapping
//
//	code  ServiceNow    Alexus state
//	1     New           open
//	2     In Progress   acknowledged
//	3     On Hold       acknowledged
//	6     Resolved      resolved
//	7     Closed        resolved
//	8     Canceled      resolved
//	other               none: the update moves nothing
//
// Alexus writes 1 for open, 2 for acknowledged and 6 for resolved; it
// never writes On Hold (which needs a hold reason), Closed (the instance
// closes resolved incidents itself) or Canceled.
//
// # Inbound
//
// ServiceNow has no built-in webhook: the tenant adds an outbound REST
// message and an after-update business rule on incident (condition: state
// changes, and correlation_id starts with "alexus-") that POSTs this JSON
// body to the tenant's Alexus endpoint — the Outbound type:
//
//	{
//	  "sys_id":         "<current.sys_id>",
//	  "number":         "<current.number>",
//	  "state":          "<current.state>",
//	  "previous_state": "<previous.state>",
//	  "correlation_id": "<current.correlation_id>",
//	  "sys_updated_by": "<current.sys_updated_by>",
//	  "sys_updated_on": "<current.sys_updated_on.getValue()>",
//	  "sys_mod_count":  "<current.sys_mod_count>",
//	  "changed_fields": ["state", ...]
//	}
//
// sys_updated_on is the field's internal value ("2006-01-02 15:04:05",
// UTC), not its display value; codes and counts may be strings or
// numbers; previous_state and changed_fields are optional. The rule's
// script may skip updates by the integration user itself, but need not:
// ParseOutbound's Update carries sys_updated_by and sys_mod_count, and
// ticket.IsEcho drops Alexus's own changes by either.
package servicenow
