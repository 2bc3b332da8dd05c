// Package audit is the action plane's view of the tenant's append-only audit
// log: it appends entries inside the caller's tenant transaction, so an
// audit row is written if and only if the change it records is, and it pages
// through the log newest first with an opaque keyset token.
//
// The application role may only SELECT and INSERT audit rows; nothing here
// updates or deletes one.
package audit
