// Package actions is the action plane: it serves
// alexus.actions.v1.ActionService (ExecuteAction, GetAction, ListActions,
// ListAuditLog, ReceiveTicketEvent, ListTickets) over gRPC and runs the
// River workers that execute actions as durable jobs on the same
// Postgres, one queue per action kind.
//
// An action, its audit entry and its job are written in one tenant-scoped
// transaction, so a request is either wholly recorded and queued or not at
// all, and the same idempotency key performs the action once. The domain
// logic lives in the subpackages action (records and outcomes), audit (the
// audit log), job (what the executors share about River jobs), the
// executors webhook, notify (Slack and Microsoft Teams), runbook
// (Rundeck, AWX, generic automation endpoints) and ticketjob (Jira and
// ServiceNow, through ticketremote, recording tickets in ticketstore),
// ticketsync (inbound ticket changes and the periodic reconcile of
// tickets), sweep (a periodic job that fails actions whose job River
// discarded or cancelled without an outcome) and chain (a periodic job
// that links new audit entries of every tenant into its hash chain); this
// package wires them together and converts between proto and domain
// values.
package actions
