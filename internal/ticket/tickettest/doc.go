// Package tickettest is the machinery the stand-ins of internal/ticket's
// remotes (jira/jiratest, servicenow/sntest) share: an httptest server
// that records every request, checks its credentials (Basic, or a bearer
// token once accepted), and answers a request with a queued fault instead
// of serving it — an error status with Retry-After, a hang until the
// client gives up, or a lost response (the write is performed and the
// connection dropped before the answer). What each remote says on the
// wire, its error bodies included, stays in its own package.
//
// It also holds the fixtures the clients' tests share: Fast, a retry
// policy with tiny waits, and ReadFile for testdata.
package tickettest
