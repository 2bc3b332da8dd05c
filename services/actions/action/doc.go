// Package action is the action plane's domain: what an action request is,
// how it is recorded exactly once per idempotency key together with its
// audit entry and its job, and how an executor's outcome moves an action
// from pending to succeeded or failed.
//
// It takes and returns plain Go values; the gRPC handler converts them, and
// the executors (packages webhook, notify, runbook and ticketjob) are
// plugged in as an Enqueuer and Checks, so that this package knows nothing
// of the job queue or of the executors' targets.
package action
