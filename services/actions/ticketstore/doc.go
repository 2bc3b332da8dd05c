// Package ticketstore keeps what the action plane knows of the tickets it
// opened: one row per incident and ticketing system in the tickets table
// (the remote's key, number and link, the remote's state as last seen, the
// incident's state as last learnt, and what Alexus last wrote, for the
// echo-loop rule), and the history of their comparisons in
// ticket_sync_events. Every read and write is scoped to the context's
// tenant through store.DB.WithTenant, and a change is written with its
// sync event (and, for inbound and reconcile changes, its audit entry) in
// one transaction.
//
// It stores; it does not decide. The rules (ticket.IsEcho, ticket.Decide)
// are applied by the executors (ticketjob) and the sync (ticketsync).
package ticketstore
