package limit

import (
	"fmt"
	"time"
)

// Reasons a call is refused, used as google.rpc.ErrorInfo reasons (domain
// "alexus.ingest"). Callers such as the gateway match on them, so they never
// change.
const (
	// ReasonRateLimited: the tenant sent more payloads than its rate allows.
	ReasonRateLimited = "RATE_LIMITED"
	// ReasonIngestBusy: the replica is working on as many calls as it may.
	ReasonIngestBusy = "INGEST_BUSY"
	// ReasonTenantBusy: the replica is working on as many of the tenant's
	// calls as one tenant may hold.
	ReasonTenantBusy = "TENANT_BUSY"
)

// Refusal is a call turned away by a limit. It is an answer, not a failure:
// nothing was done for the call, and the caller may retry after RetryAfter.
type Refusal struct {
	// Reason is one of the Reason constants.
	Reason string
	// RetryAfter is how long the caller should wait before trying again.
	RetryAfter time.Duration
	// Detail says which limit was reached, for the caller and the log.
	Detail string
}

func (r *Refusal) Error() string {
	return fmt.Sprintf("%s: %s; retry in %s", r.Reason, r.Detail, r.RetryAfter.Round(time.Millisecond))
}
