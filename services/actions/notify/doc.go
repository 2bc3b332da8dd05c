// Package notify executes notify actions as River jobs on their own queue:
// its worker posts a message to one of the tenant's registered notify
// targets, a Slack incoming webhook (text with Block Kit blocks) or a
// Microsoft Teams incoming webhook (a message with an Adaptive Card),
// through the same egress policy as webhooks, and records the receiver's
// answer on the action.
//
// A target's URL is the channel's credential, so it is stored sealed
// (internal/secretbox) and opened only for the delivery. A 2xx answer is a
// success; 429 is retried after the receiver's Retry-After; 408 and 5xx,
// timeouts and connection failures are retried with River's backoff; any
// other answer (Slack's 400 invalid_payload, 404 no_service, ...) fails the
// action at once with the receiver's text, as a retry would be refused
// again.
package notify
