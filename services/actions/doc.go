// Package actions is the action plane: it serves
// alexus.actions.v1.ActionService (ExecuteAction, ListAuditLog) over gRPC and
// runs the River workers that execute actions as durable jobs on the same
// Postgres.
//
// An action, its audit entry and its job are written in one tenant-scoped
// transaction, so a request is either wholly recorded and queued or not at
// all, and the same idempotency key performs the action once. The domain
// logic lives in the subpackages action (records and outcomes), audit (the
// audit log) and webhook (the executor); this package wires them together
// and converts between proto and domain values.
package actions
