// Package ticket is what the Jira and ServiceNow integrations share: the
// Alexus incident states a remote ticket maps onto, the normalized Update
// an inbound webhook becomes, the marker that ties a remote ticket to an
// incident, the errors a client fails with, and the two rules that keep a
// two-way sync honest — the echo-loop rule and the conflict rule. The
// clients themselves live in internal/ticket/jira and
// internal/ticket/servicenow; the HTTP machinery they share lives in
// internal/ticket/ticketapi.
//
// # The marker
//
// Every ticket Alexus opens carries Marker(hash), "alexus-<incident hash>":
// as a label in Jira, as correlation_id in ServiceNow. Creation searches
// for the marker before it creates, and searches again before it retries a
// create whose response was lost, so a retried create never opens a
// second ticket. Should two tickets carry the same marker anyway (a
// human copied the label, or Jira's search index lagged behind a create),
// the oldest is the ticket of record.
//
// # Echo loops
//
// Alexus's own writes come back: Jira sends a webhook for the transition
// Alexus made, ServiceNow's business rule fires for the PATCH Alexus sent.
// IsEcho decides whether an Update is such an echo and must be ignored. An
// update is an echo when any of these holds:
//
//  1. it was made by one of the tenant's integration accounts (Self.Users:
//     the Jira accountId, the ServiceNow user_name Alexus authenticates
//     as);
//  2. it carries a version (ServiceNow's sys_mod_count) no newer than the
//     version Alexus's own last write produced (Written.Version);
//  3. it reports the state Alexus last wrote, stamped no later than
//     EchoWindow after that write — the same change seen again, whoever
//     the remote says made it (e.g. an integration account shared with
//     another tool).
//
// An update that is not an echo but maps to the incident's current state
// changes nothing either; Decide reports that as "in sync".
//
// # Conflicts
//
// When both sides changed since they last agreed — the periodic reconcile
// job finds the incident acknowledged in Alexus but resolved in Jira, or a
// webhook arrives for a change older than Alexus's — Decide picks the
// state both sides end in. The rule, in order:
//
//  1. Equal states are no conflict.
//  2. A resolution is sticky against acknowledgement: an acknowledgement
//     never undoes a resolution, whatever the timestamps, because
//     acknowledging is not reopening and a slow pipeline's late
//     acknowledgement must not reopen a closed ticket.
//  3. Otherwise the later change wins, by the time each side stamped it
//     (the remote's own timestamp for the remote, the incident's for
//     Alexus). A reopen newer than a resolution therefore wins.
//  4. A change without a timestamp counts as older than any stamped one.
//     On a tie the state further along wins (resolved, then acknowledged,
//     then open), since that loses no work: a reopen can be redone.
//
// The periodic reconcile job repairs missed webhooks with the same rule:
// it reads each open ticket's current state with the client's Get and
// feeds it, with the incident's state, to Decide, which says whether to
// move the incident, write the remote, or do nothing.
package ticket
