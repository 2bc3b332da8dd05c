package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sources whose vendors define their own signature; every other source uses
// the Alexus scheme (see the package documentation).
const (
	SourceSentry    = "sentry"
	SourcePagerDuty = "pagerduty"
	SourceGrafana   = "grafana"
	// SourceJira is the inbound side of the Jira integration: webhooks an
	// admin registered with a secret are signed WebSub-style.
	SourceJira = "jira"
	// SourceSNS is verified by SNSVerifier with AWS's certificates, not by
	// Verify with a shared secret.
	SourceSNS = "sns"
)

// Signature headers, spelt as their vendors document them; http.Header
// lookups canonicalise names, so the spelling does not matter to Verify.
const (
	HeaderAlexus    = "X-Alexus-Signature"
	HeaderSentry    = "Sentry-Hook-Signature"
	HeaderPagerDuty = "X-PagerDuty-Signature"
	// HeaderGrafana is the default signature header of Grafana Alerting's
	// webhook contact point.
	HeaderGrafana = "X-Grafana-Alerting-Signature"
	// HeaderJira carries "sha256=<hex HMAC-SHA256 of the body>" on a Jira
	// Cloud admin webhook registered with a secret (WebSub's
	// method=signature).
	HeaderJira = "X-Hub-Signature"
	// HeaderGrafanaTimestamp is the timestamp header Alexus tells users to
	// configure in the contact point; Grafana itself has no default name.
	HeaderGrafanaTimestamp = "X-Grafana-Alerting-Timestamp"
)

// grafanaSignatureHeaders are read in order. Grafana's documentation and UI
// give X-Grafana-Alerting-Signature as the default, but the first version of
// its signing transport (grafana/alerting http/hmac.go) defaulted to
// X-Grafana-Alert-Signature, so a contact point saved then may still send
// that name. Which header carries the MAC does not weaken it.
var grafanaSignatureHeaders = []string{HeaderGrafana, "X-Grafana-Alert-Signature"}

// grafanaTimestampHeaders are read in order. Grafana sends a timestamp only
// when the contact point names a timestamp header, and has no default name:
// Alexus documents X-Grafana-Alerting-Timestamp, and Grafana's provisioning
// example uses X-Grafana-Alerting-Signature-Timestamp, so both are read.
var grafanaTimestampHeaders = []string{HeaderGrafanaTimestamp, "X-Grafana-Alerting-Signature-Timestamp"}

// DefaultTolerance is how far a signed timestamp may be from the
// verifier's clock, in either direction, before the request is ErrStale:
// long enough for clock skew and a sender's retry delays, short enough that
// a captured request soon stops working.
const DefaultTolerance = 5 * time.Minute

// maxTimestampDigits bounds a Unix-seconds timestamp so it parses without
// overflow; real ones have 10 digits until the year 2286.
const maxTimestampDigits = 18

// HMACVerifier verifies the shared-secret schemes. The zero value is ready
// to use, with DefaultTolerance; it holds no state and is safe for
// concurrent use.
type HMACVerifier struct {
	// Tolerance is how far a signed timestamp may be from now, either way.
	// Zero or negative means DefaultTolerance.
	Tolerance time.Duration
}

// Verify checks the signature of a webhook from source, with the
// integration's secret, over the raw body bytes exactly as received, using
// DefaultTolerance. See HMACVerifier.Verify.
func Verify(source string, secret []byte, header http.Header, body []byte, now time.Time) error {
	return HMACVerifier{}.Verify(source, secret, header, body, now)
}

// Verify checks the signature of a webhook from source with the
// integration's secret, over the raw body bytes exactly as received (a
// re-encoded body will not match). The scheme is chosen by source: sentry,
// pagerduty and grafana use their vendor's; every other source uses the
// Alexus scheme. now is the verifier's clock, for schemes with a timestamp.
//
// The error wraps ErrMissingSignature, ErrBadSignature or ErrStale when the
// request must be refused (HTTP 401), and ErrNoSecret when secret is empty.
// Source "sns" has no shared secret and is refused: use SNSVerifier.
func (v HMACVerifier) Verify(source string, secret []byte, header http.Header, body []byte, now time.Time) error {
	if source == SourceSNS {
		return fmt.Errorf("source %q is verified with AWS certificates by SNSVerifier, not with a shared secret", source)
	}
	if len(secret) == 0 {
		return fmt.Errorf("%w for source %q", ErrNoSecret, source)
	}
	switch source {
	case SourceSentry:
		return verifySentry(secret, header, body)
	case SourcePagerDuty:
		return verifyPagerDuty(secret, header, body)
	case SourceGrafana:
		return verifyGrafana(secret, header, body, now, v.tolerance())
	case SourceJira:
		return verifyJira(secret, header, body)
	default:
		return verifyAlexus(secret, header, body, now, v.tolerance())
	}
}

func (v HMACVerifier) tolerance() time.Duration {
	if v.Tolerance <= 0 {
		return DefaultTolerance
	}
	return v.Tolerance
}

// Sign returns the X-Alexus-Signature header value for body, signed with
// secret at time t (truncated to whole seconds), for integrators' tests and
// for Alexus's own senders. See the package documentation for the scheme.
func Sign(secret, body []byte, t time.Time) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(computeMAC(secret, []byte(ts), []byte("."), body))
}

// computeMAC is HMAC-SHA256 with key secret over the parts, concatenated.
func computeMAC(secret []byte, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, secret)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// anyEqual reports whether any candidate equals want. Each comparison is
// constant-time (hmac.Equal), and the loop does not stop at a match, so the
// time taken says nothing about which candidate matched.
func anyEqual(want []byte, candidates [][]byte) bool {
	ok := false
	for _, c := range candidates {
		if hmac.Equal(want, c) {
			ok = true
		}
	}
	return ok
}

// verifySentry checks Sentry's integration-platform signature: the hex
// HMAC-SHA256 of the body with the integration's client secret, in
// Sentry-Hook-Signature. Sentry-Hook-Timestamp is sent too but not signed,
// so it cannot protect against replay and is not read.
func verifySentry(secret []byte, header http.Header, body []byte) error {
	value := strings.TrimSpace(header.Get(HeaderSentry))
	if value == "" {
		return fmt.Errorf("%w: no %s header", ErrMissingSignature, HeaderSentry)
	}
	got, err := hex.DecodeString(value)
	if err != nil {
		return fmt.Errorf("%w: %s is not hex", ErrBadSignature, HeaderSentry)
	}
	if !hmac.Equal(got, computeMAC(secret, body)) {
		return fmt.Errorf("%w: %s does not match the body", ErrBadSignature, HeaderSentry)
	}
	return nil
}

// verifyJira checks a Jira admin webhook's X-Hub-Signature:
// "sha256=<hex HMAC-SHA256 of the body>", keyed with the webhook's secret.
// Jira signs no timestamp, so a replay is not refused here; an inbound
// ticket change replayed is harmless, as the action plane compares it with
// what the ticket and incident already say.
func verifyJira(secret []byte, header http.Header, body []byte) error {
	value := strings.TrimSpace(header.Get(HeaderJira))
	if value == "" {
		return fmt.Errorf("%w: no %s header", ErrMissingSignature, HeaderJira)
	}
	method, hexSig, ok := strings.Cut(value, "=")
	if !ok || !strings.EqualFold(method, "sha256") {
		return fmt.Errorf("%w: %s must be sha256=<hex>", ErrBadSignature, HeaderJira)
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return fmt.Errorf("%w: %s is not hex", ErrBadSignature, HeaderJira)
	}
	if !hmac.Equal(got, computeMAC(secret, body)) {
		return fmt.Errorf("%w: %s does not match the body", ErrBadSignature, HeaderJira)
	}
	return nil
}

// verifyPagerDuty checks a v3 webhook: X-PagerDuty-Signature holds one or
// more comma-separated "v1=<hex HMAC-SHA256 of the body>", one per signing
// secret while PagerDuty rotates them; one match is enough.
func verifyPagerDuty(secret []byte, header http.Header, body []byte) error {
	value := strings.TrimSpace(strings.Join(header.Values(HeaderPagerDuty), ","))
	if value == "" {
		return fmt.Errorf("%w: no %s header", ErrMissingSignature, HeaderPagerDuty)
	}
	sigs, err := parsePagerDuty(value)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrBadSignature, HeaderPagerDuty, err)
	}
	if !anyEqual(computeMAC(secret, body), sigs) {
		return fmt.Errorf("%w: no v1 signature in %s matches the body", ErrBadSignature, HeaderPagerDuty)
	}
	return nil
}

// parsePagerDuty returns the decoded v1 signatures of an
// X-PagerDuty-Signature value. Signatures of other versions are skipped,
// so that a future version sent beside v1 does not break verification;
// empty elements (a stray comma) are skipped too. A v1 that is not hex, or
// no v1 at all, is an error.
func parsePagerDuty(value string) ([][]byte, error) {
	var sigs [][]byte
	for elem := range strings.SplitSeq(value, ",") {
		elem = strings.TrimSpace(elem)
		hexSig, ok := strings.CutPrefix(elem, "v1=")
		if !ok {
			continue
		}
		sig, err := hex.DecodeString(hexSig)
		if err != nil || len(sig) == 0 {
			return nil, fmt.Errorf("v1 signature is not hex")
		}
		sigs = append(sigs, sig)
	}
	if len(sigs) == 0 {
		return nil, fmt.Errorf("no v1 signature")
	}
	return sigs, nil
}

// verifyGrafana checks Grafana Alerting's webhook HMAC: the hex
// HMAC-SHA256, in X-Grafana-Alerting-Signature, of "<timestamp>:<body>"
// when the contact point is configured with a timestamp header (the
// timestamp, in Unix seconds, is then in that header), and of the body alone
// when it is not. Both forms are documented; which one applies is decided
// by whether a timestamp header is present. Dropping the header from a
// timestamped request does not help an attacker, since a MAC over the body
// alone is then required, and only a timestamped request is protected
// against replay, so users are told to configure one.
func verifyGrafana(secret []byte, header http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	value := strings.TrimSpace(firstHeader(header, grafanaSignatureHeaders))
	if value == "" {
		return fmt.Errorf("%w: no %s header", ErrMissingSignature, HeaderGrafana)
	}
	got, err := hex.DecodeString(value)
	if err != nil {
		return fmt.Errorf("%w: %s is not hex", ErrBadSignature, HeaderGrafana)
	}
	tsValue := strings.TrimSpace(firstHeader(header, grafanaTimestampHeaders))
	if tsValue == "" {
		if !hmac.Equal(got, computeMAC(secret, body)) {
			return fmt.Errorf("%w: %s does not match the body (no timestamp header was sent)", ErrBadSignature, HeaderGrafana)
		}
		return nil
	}
	ts, err := parseUnixSeconds(tsValue)
	if err != nil {
		return fmt.Errorf("%w: Grafana timestamp header: %w", ErrBadSignature, err)
	}
	if !hmac.Equal(got, computeMAC(secret, []byte(tsValue), []byte(":"), body)) {
		return fmt.Errorf("%w: %s does not match the timestamp and body", ErrBadSignature, HeaderGrafana)
	}
	return checkFresh(ts, now, tolerance)
}

// firstHeader returns the value of the first of names that is present.
func firstHeader(header http.Header, names []string) string {
	for _, name := range names {
		if v := header.Get(name); v != "" {
			return v
		}
	}
	return ""
}

// alexusHeader is a parsed X-Alexus-Signature value.
type alexusHeader struct {
	timestamp int64
	// rawTimestamp is the t value as sent, which is what was signed.
	rawTimestamp string
	signatures   [][]byte
}

// verifyAlexus checks the Alexus scheme (see the package documentation).
// The MAC is checked before the timestamp, so ErrStale is only ever said of
// a request that was genuinely signed: a likely replay, worth logging as
// such.
func verifyAlexus(secret []byte, header http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	value := strings.TrimSpace(strings.Join(header.Values(HeaderAlexus), ","))
	if value == "" {
		return fmt.Errorf("%w: no %s header", ErrMissingSignature, HeaderAlexus)
	}
	h, err := parseAlexus(value)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrBadSignature, HeaderAlexus, err)
	}
	if !anyEqual(computeMAC(secret, []byte(h.rawTimestamp), []byte("."), body), h.signatures) {
		return fmt.Errorf("%w: no v1 signature in %s matches the timestamp and body", ErrBadSignature, HeaderAlexus)
	}
	return checkFresh(h.timestamp, now, tolerance)
}

// parseAlexus parses "t=<unix seconds>,v1=<hex>[,v1=<hex>...]". Elements
// may be in any order and surrounded by spaces; empty elements are
// skipped; keys other than t and v1 are skipped, so the scheme can grow
// (a v2 beside v1) without breaking verifiers. Exactly one t and at least
// one v1 are required, and every element must be key=value.
func parseAlexus(value string) (alexusHeader, error) {
	var h alexusHeader
	seenT := false
	for elem := range strings.SplitSeq(value, ",") {
		elem = strings.TrimSpace(elem)
		if elem == "" {
			continue
		}
		key, val, ok := strings.Cut(elem, "=")
		if !ok {
			return alexusHeader{}, fmt.Errorf("element %.16q is not key=value", elem)
		}
		switch key {
		case "t":
			if seenT {
				return alexusHeader{}, fmt.Errorf("more than one t")
			}
			seenT = true
			ts, err := parseUnixSeconds(val)
			if err != nil {
				return alexusHeader{}, fmt.Errorf("t: %w", err)
			}
			h.timestamp, h.rawTimestamp = ts, val
		case "v1":
			sig, err := hex.DecodeString(val)
			if err != nil || len(sig) == 0 {
				return alexusHeader{}, fmt.Errorf("v1 signature is not hex")
			}
			h.signatures = append(h.signatures, sig)
		}
	}
	switch {
	case !seenT:
		return alexusHeader{}, fmt.Errorf("no t timestamp")
	case len(h.signatures) == 0:
		return alexusHeader{}, fmt.Errorf("no v1 signature")
	}
	return h, nil
}

// parseUnixSeconds parses a timestamp of decimal digits only: no sign,
// spaces or fraction, which strconv.ParseInt alone would let through (a
// sign), so that exactly one spelling of each time is valid.
func parseUnixSeconds(s string) (int64, error) {
	if s == "" || len(s) > maxTimestampDigits {
		return 0, fmt.Errorf("timestamp %.24q is not Unix seconds", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("timestamp %.24q is not Unix seconds", s)
		}
	}
	return strconv.ParseInt(s, 10, 64)
}

// checkFresh refuses a signed timestamp more than tolerance away from now,
// in either direction: a timestamp far in the future would otherwise stay
// valid for longer than the window.
func checkFresh(ts int64, now time.Time, tolerance time.Duration) error {
	signed := time.Unix(ts, 0)
	if skew := now.Sub(signed); skew > tolerance || skew < -tolerance {
		return fmt.Errorf("%w: signed at %s, %s from now, tolerance %s",
			ErrStale, signed.UTC().Format(time.RFC3339), skew.Round(time.Second), tolerance)
	}
	return nil
}
