// Package ticketsync keeps an incident and its tickets in step in the
// direction the action plane does not drive itself: a change made in Jira
// or ServiceNow.
//
// Receive takes one inbound change (a Jira webhook, a ServiceNow outbound
// message) as the gateway received it. A change to a ticket Alexus did not
// open is UNKNOWN_TICKET; Alexus's own write coming back is an ECHO
// (ticket.IsEcho with the integration's accounts and what the tickets row
// says Alexus last wrote); a change that did not touch the status, or
// moved it to a status that maps to no incident state, is UNMAPPED. Any
// other is settled by the conflict rule, ticket.Decide, between the
// incident's state as the plane last learnt it and the ticket's: when the
// ticket wins the incident is moved through the orchestrator's
// SetIncidentStatus (APPLIED); when the incident wins a SET_STATE action
// writes its state back to the ticket (LOCAL_WON); when they agree nothing
// moves (IN_SYNC). Each outcome about a known ticket is recorded as an
// inbound sync event and audited as "ticket.synced".
//
// Reconcile, a River periodic job on the leader, repairs missed webhooks:
// for every tenant with tickets not resolved on both sides it reads a
// bounded batch of them, least recently synced first, from the remote and
// applies the same rule, writing the remote itself when the incident
// wins.
package ticketsync
