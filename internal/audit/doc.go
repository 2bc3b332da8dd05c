// Package audit is the one writer of audit_log rows. The action plane
// audits every action and outcome with it, and provisioning audits tenant,
// webhook target and integration token changes, so every entry has the same
// shape and the same actor rule whichever code wrote it.
//
// An entry is appended inside the caller's tenant transaction, so it is
// written if and only if the change it records is. The application role may
// only SELECT and INSERT audit rows; nothing updates or deletes one. Reading
// the log is the action plane's ListAuditLog (services/actions/audit).
package audit
