// Package signature verifies the signatures vendors put on the webhooks
// the gateway receives at POST /v1/webhooks/{source}, so that a payload is
// known to come from the integration it claims before anything reads it.
//
// It knows nothing of tenants, tokens or HTTP handlers: the caller looks up
// the integration's secret, hands over the raw body bytes exactly as
// received (a re-encoded body will not verify) with the request headers,
// and maps the error to a status with HTTPStatus.
//
// # Shared-secret schemes
//
// Verify (or HMACVerifier.Verify, to change the tolerance) picks the scheme
// by source, and compares MACs with hmac.Equal, in constant time:
//
//   - sentry: Sentry-Hook-Signature is the hex HMAC-SHA256 of the body,
//     keyed with the integration's client secret.
//   - pagerduty (v3 webhooks): X-PagerDuty-Signature is one or more
//     comma-separated v1=<hex HMAC-SHA256 of the body>, one per secret
//     while PagerDuty rotates them; one match passes.
//   - grafana (Grafana Alerting's webhook contact point, HMAC Signature
//     settings): X-Grafana-Alerting-Signature is the hex HMAC-SHA256 of
//     "<timestamp>:<body>" when the contact point sets a Timestamp Header,
//     and of the body alone when it does not. Set the Timestamp Header to
//     X-Grafana-Alerting-Timestamp (X-Grafana-Alerting-Signature-Timestamp
//     is read too): only then is a replay refused.
//   - jira (the inbound side of the Jira integration, an admin webhook
//     registered with a secret): X-Hub-Signature is sha256=<hex
//     HMAC-SHA256 of the body>.
//   - every other source (generic, cloudevents, datadog, tenant mapping
//     rules, ...): the Alexus scheme below, for senders that can compute
//     one.
//
// # The Alexus scheme
//
// A sender signs each request with the integration's signing secret and
// sends
//
//	X-Alexus-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>
//
// where body is the exact bytes of the request body, t is the time of
// signing in whole Unix seconds (decimal digits only) and the hex is
// lower-case (upper-case is accepted). For example, with secret
// "alexus-example-secret", t 1767225600 and body {"title":"disk full"},
// the MAC is over the bytes 1767225600.{"title":"disk full"}:
//
//	X-Alexus-Signature: t=1767225600,v1=f661e9a4694f965d0e34a14b38331ade57bd22890ca908e6656d3442020405e6
//
// In a shell:
//
//	t=$(date +%s)
//	v1=$(printf '%s.%s' "$t" "$body" | openssl dgst -sha256 -hmac "$secret" -hex | sed 's/^.* //')
//	curl -H "X-Alexus-Signature: t=$t,v1=$v1" --data-binary "$body" ...
//
// The request is refused when t is more than five minutes (DefaultTolerance)
// before or after the gateway's clock, so a captured request cannot be
// replayed later; within the window, ingest's deduplication makes a replay
// harmless. To rotate a secret without downtime, send one v1= per secret
// (t=...,v1=<new>,v1=<old>); one match passes. Elements are comma-separated
// and may come in any order; unknown keys are ignored, so a future v2 can
// be sent beside v1. Sign returns the header value, for tests and Go
// senders.
//
// # AWS SNS
//
// Source sns has no shared secret: SNSVerifier checks every message with
// the X.509 certificate SNS names in SigningCertURL, which must be https on
// a host like sns.<region>.amazonaws.com (or .amazonaws.com.cn), checked
// before anything is fetched. Certificates are cached by URL (bounded, one
// hour by default). SignatureVersion 1 is SHA1withRSA and 2 is
// SHA256withRSA, over the canonical string to sign of a Notification,
// SubscriptionConfirmation or UnsubscribeConfirmation.
// ConfirmSubscription then visits a verified SubscriptionConfirmation's
// SubscribeURL, under the same host rule.
//
// # Errors and HTTP statuses
//
// Match errors with errors.Is, or let HTTPStatus map them:
//
//	ErrMissingSignature  401  no signature header
//	ErrBadSignature      401  malformed or wrong signature; an SNS message,
//	                          certificate URL or certificate that cannot be trusted
//	ErrStale             401  genuine signature, timestamp outside the window
//	ErrUnavailable       503  SNS certificate or SubscribeURL unreachable
//	                          (network, timeout, 408, 429, 5xx): retryable
//	anything else        500  a fault of Alexus, e.g. ErrNoSecret
//
// A 401 tells the vendor not to retry a request that will never verify; a
// 503 (with Retry-After) tells SNS to retry a message that may well be
// genuine once AWS answers again.
//
// # Sources
//
// The formats follow the vendors' documentation, and, for Grafana, the code
// that signs:
//
//   - Sentry: https://docs.sentry.io/integrations/integration-platform/webhooks/
//   - PagerDuty: https://github.com/PagerDuty/developer-docs/blob/main/docs/webhooks/04-Signatures.md
//   - Grafana: https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/integrations/webhook-notifier/
//     and https://github.com/grafana/alerting/blob/main/http/hmac.go
//   - AWS SNS: https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html
//     and https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message-verify-message-signature.html
//     (the default host rule is the one in https://github.com/aws/aws-js-sns-message-validator)
package signature
