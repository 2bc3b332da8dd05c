// Package runbook executes runbook actions as River jobs on their own
// queue: its worker triggers one of the tenant's registered runbooks, a
// Rundeck job (POST /api/<v>/job/<id>/run with the X-Rundeck-Auth-Token
// header and {"options": {...}}), an AWX job template (POST
// /api/v2/job_templates/<id>/launch/ with a Bearer token and
// {"extra_vars": {...}}) or a generic endpoint (a JSON body with the
// parameters, HMAC-signed like a webhook with the runbook's key), through
// the same egress policy as every other executor, and records the remote
// execution's ID in the action's result.
//
// A runbook declares a JSON schema for its parameters. Check, plugged into
// the action store, refuses a request whose parameters break it before
// anything is stored, so a job never starts with parameters the runbook
// would not accept. A runbook's credential is stored sealed
// (internal/secretbox) and opened only for the trigger.
//
// A 2xx answer is a success; 429 waits for Retry-After; 408, 5xx, timeouts
// and connection failures are retried with River's backoff; any other
// answer (401, 403, 404, AWX's 400 for a missing variable, ...) fails the
// action at once. Rundeck and AWX do not deduplicate launches, so every
// launch carries the action's ID (MarkerVar) and a retried one first looks
// for a launch carrying it (an earlier attempt's whose answer was lost to a
// timeout or a killed process) and records that instead of launching
// again; a generic endpoint gets the action's idempotency key in
// X-Alexus-Idempotency-Key to drop such a repeat itself.
package runbook
