// Package audit is the action plane's reading of the tenant's append-only
// audit log, behind ListAuditLog: it pages through the log newest first with
// an opaque keyset token. Entries are written by internal/audit, the one
// writer of audit rows, inside the transaction of the change they record.
package audit
