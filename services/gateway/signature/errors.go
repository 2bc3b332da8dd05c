package signature

import (
	"errors"
	"net/http"
)

// The sentinel errors below are what callers match with errors.Is; every
// error this package returns wraps at most one of them, with detail that is
// safe to log (it never contains a secret or a computed MAC).
var (
	// ErrMissingSignature means the request carries no signature in the
	// header its source uses: the sender is not signing, or signs with
	// another scheme.
	ErrMissingSignature = errors.New("webhook signature missing")

	// ErrBadSignature means a signature is present but malformed or does
	// not match, or (for SNS) the message or its signing certificate cannot
	// be trusted: the request must not be processed.
	ErrBadSignature = errors.New("webhook signature invalid")

	// ErrStale means the signature matches but its timestamp is outside the
	// tolerance window, so the request may be a replay.
	ErrStale = errors.New("webhook signature timestamp outside the tolerance window")

	// ErrUnavailable means something this package needed from the network
	// (an SNS signing certificate, or SNS's SubscribeURL) could not be
	// fetched: a network error, a timeout, HTTP 408, 429 or 5xx. Nothing is
	// known to be wrong with the request, so the sender should retry.
	ErrUnavailable = errors.New("signature verification dependency unavailable")

	// ErrNoSecret means Verify was called with an empty secret. Anyone can
	// compute an HMAC with an empty key, so this is a configuration fault
	// of the caller, never a pass.
	ErrNoSecret = errors.New("webhook signing secret not configured")
)

// HTTPStatus maps an error of this package to the status the gateway should
// answer a vendor with: 200 for nil; 401 for a missing, bad or stale
// signature, which senders do not retry; 503 for ErrUnavailable, which they
// do; and 500 for anything else, which is a fault of Alexus (such as
// ErrNoSecret, or SNS refusing a subscription confirmation).
func HTTPStatus(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ErrMissingSignature), errors.Is(err, ErrBadSignature), errors.Is(err, ErrStale):
		return http.StatusUnauthorized
	case errors.Is(err, ErrUnavailable):
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}
