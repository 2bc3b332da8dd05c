// Package ticketjob executes jira and servicenow actions as River jobs,
// each kind on its own queue: OPEN opens the incident's ticket (or finds
// the one an earlier attempt opened, by the incident's marker) and
// records it in the tickets table; COMMENT adds a comment or work note
// once per note id; SET_STATE moves the ticket and records what Alexus
// wrote, for the echo-loop rule. The remote calls go through
// ticketremote, with the tenant's integration and the plane's egress
// policy.
//
// A SET_STATE or COMMENT that finds no ticket waits (the job is snoozed,
// which uses up no attempt) while an OPEN of the same kind for the
// incident is still pending, so a quick resolve cannot overtake the open;
// with no OPEN on its way it succeeds with "no ticket for this incident".
//
// A refusal a retry cannot mend (401, 403, 404, a response the client
// cannot read, a workflow with no transition to the state, an address the
// tenant may not reach) fails the action at once with the remote's
// message, which never holds the credential; a rate limit, a timeout, a
// 5xx or a broken connection that outlasts the client's own retries is
// retried by River.
//
// Check refuses, when the action is requested, a ticket action of a kind
// the tenant has no integration with.
package ticketjob
