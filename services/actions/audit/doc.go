// Package audit is the action plane's reading of the tenant's append-only
// audit log, behind ListAuditLog: it pages through the log newest first with
// an opaque keyset token, filtered by subject, actor, event (exact or by
// prefix) and time, and returns each entry with its place in the tenant's
// hash chain (seq, hash, prev_hash), or 0 and empty hashes for an entry not
// chained yet. Entries are written by internal/audit,
// the one writer of audit rows, inside the transaction of the change they
// record; internal/audit also verifies the chain.
package audit
