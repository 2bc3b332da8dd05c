package signature

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	// crypto.SHA1 and crypto.SHA256 must be linked in for Hash.New.
	_ "crypto/sha1"
	_ "crypto/sha256"
)

// SNS message types, as in the Type member of the message.
const (
	SNSNotification             = "Notification"
	SNSSubscriptionConfirmation = "SubscriptionConfirmation"
	SNSUnsubscribeConfirmation  = "UnsubscribeConfirmation"
)

// SNSConfig defaults.
const (
	DefaultSNSTimeout    = 5 * time.Second
	DefaultSNSCacheSize  = 64
	DefaultSNSCacheTTL   = time.Hour
	DefaultSNSFailureTTL = 10 * time.Second
	DefaultSNSMaxFetches = 8
)

// Read limits. An SNS certificate is about 2 KiB and a confirmation answer
// smaller still, so anything much larger is not what SNS sends.
const (
	maxSNSCertBytes        = 64 << 10
	maxSNSConfirmReadBytes = 64 << 10
	// maxSNSHostInError bounds an attacker-chosen host quoted in an error.
	maxSNSHostInError = 64
)

// snsHostPattern is the host of every SNS endpoint that serves signing
// certificates and subscription confirmations: sns.<region>.amazonaws.com,
// and sns.<region>.amazonaws.com.cn in the China partition. It is the
// pattern AWS's own message validators use, anchored, and without a port.
var snsHostPattern = regexp.MustCompile(`^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$`)

// DefaultSNSHost is the default SNSConfig.AllowedHost: it allows
// sns.<region>.amazonaws.com and sns.<region>.amazonaws.com.cn, for any
// region, and nothing with an explicit port.
func DefaultSNSHost(host string) bool {
	return snsHostPattern.MatchString(host)
}

// SNSMessage is the JSON envelope SNS POSTs to HTTP(S) subscribers, for
// Notification, SubscriptionConfirmation and UnsubscribeConfirmation
// messages. It mirrors normalise.SNSMessage, which the ingest plane decodes
// from the same bytes; decoding is case-insensitive, so the SigningCertUrl
// spelling some AWS tools use reads too.
type SNSMessage struct {
	Type             string `json:"Type"`
	MessageID        string `json:"MessageId"`
	Token            string `json:"Token,omitempty"`
	TopicArn         string `json:"TopicArn"`
	Subject          string `json:"Subject,omitempty"`
	Message          string `json:"Message"`
	Timestamp        string `json:"Timestamp"`
	SignatureVersion string `json:"SignatureVersion"`
	Signature        string `json:"Signature"`
	SigningCertURL   string `json:"SigningCertURL"`
	SubscribeURL     string `json:"SubscribeURL,omitempty"`
	UnsubscribeURL   string `json:"UnsubscribeURL,omitempty"`

	// verifiedSubscribeURL is SubscribeURL as it was signed, set only by
	// SNSVerifier.Verify, so that ConfirmSubscription can refuse a message
	// that was not verified, or whose SubscribeURL was changed since.
	verifiedSubscribeURL string
	verified             bool
}

// SNSConfig configures an SNSVerifier. The zero value is the production
// configuration.
type SNSConfig struct {
	// AllowedHost reports whether a SigningCertURL or SubscribeURL may be
	// fetched from host, which is the URL's host lower-cased, with its port
	// when the URL names one (url.URL.Host). Nil means DefaultSNSHost.
	// Tests allow their TLS server's host here.
	AllowedHost func(host string) bool

	// Client fetches certificates and subscription confirmations. Nil
	// means a client with Timeout as its timeout. Redirects are never
	// followed, whatever the client says, because the target's host would
	// escape AllowedHost.
	Client *http.Client

	// Timeout bounds each fetch, whatever the client's own timeout and
	// however long the caller's context lasts. Zero means
	// DefaultSNSTimeout.
	Timeout time.Duration

	// CacheSize is how many certificates (by URL) are kept, the least
	// recently used going first. Zero means DefaultSNSCacheSize.
	CacheSize int

	// CacheTTL is how long a fetched certificate is used before it is
	// fetched again. Zero means DefaultSNSCacheTTL.
	CacheTTL time.Duration

	// FailureTTL is how long a failed fetch is remembered and its error
	// returned without fetching again, so that a flood of messages naming
	// a failing URL does not become a flood of fetches, each waiting for
	// the timeout. Zero means DefaultSNSFailureTTL; negative means failures
	// are not remembered.
	FailureTTL time.Duration

	// MaxFetches bounds the certificate fetches under way at once; a
	// message that needs one more is refused with ErrUnavailable, so that
	// messages naming many different certificate URLs cannot make the
	// gateway open connections without limit. Zero means
	// DefaultSNSMaxFetches.
	MaxFetches int

	// Now is the clock for certificate validity and the cache. Nil means
	// time.Now.
	Now func() time.Time
}

// Validate names the first field with an impossible value.
func (c SNSConfig) Validate() error {
	switch {
	case c.Timeout < 0:
		return fmt.Errorf("SNSConfig.Timeout %s is negative", c.Timeout)
	case c.CacheSize < 0:
		return fmt.Errorf("SNSConfig.CacheSize %d is negative", c.CacheSize)
	case c.CacheTTL < 0:
		return fmt.Errorf("SNSConfig.CacheTTL %s is negative", c.CacheTTL)
	case c.MaxFetches < 0:
		return fmt.Errorf("SNSConfig.MaxFetches %d is negative", c.MaxFetches)
	}
	return nil
}

// SNSVerifier verifies the signatures of AWS SNS HTTP(S) deliveries with
// the certificates SNS names in them, and confirms subscriptions. It is
// safe for concurrent use.
//
// Trust rests on the host check and on TLS: a certificate is used only if
// it was fetched over HTTPS, with the client's root CAs, from a host that
// AllowedHost accepts. The certificate itself is not chain-verified, since
// SNS serves the leaf alone; it is checked to be within its validity
// period and to hold an RSA key.
type SNSVerifier struct {
	allowed func(host string) bool
	client  *http.Client
	timeout time.Duration
	now     func() time.Time
	certs   *certCache
}

// NewSNSVerifier returns a verifier for cfg, with defaults for its zero
// fields.
func NewSNSVerifier(cfg SNSConfig) (*SNSVerifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	v := &SNSVerifier{
		allowed: cfg.AllowedHost,
		timeout: cfg.Timeout,
		now:     cfg.Now,
	}
	if v.allowed == nil {
		v.allowed = DefaultSNSHost
	}
	if v.timeout == 0 {
		v.timeout = DefaultSNSTimeout
	}
	if v.now == nil {
		v.now = time.Now
	}
	client := http.Client{Timeout: v.timeout}
	if cfg.Client != nil {
		client = *cfg.Client
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	v.client = &client

	size, ttl, failureTTL, maxFetches := cfg.CacheSize, cfg.CacheTTL, cfg.FailureTTL, cfg.MaxFetches
	if size == 0 {
		size = DefaultSNSCacheSize
	}
	if ttl == 0 {
		ttl = DefaultSNSCacheTTL
	}
	if failureTTL == 0 {
		failureTTL = DefaultSNSFailureTTL
	}
	if maxFetches == 0 {
		maxFetches = DefaultSNSMaxFetches
	}
	v.certs = newCertCache(size, ttl, failureTTL, maxFetches, v.now, v.fetchCert)
	return v, nil
}

// Verify checks the signature of the SNS message in body and returns the
// message. The cheap checks come first, so that nothing is fetched for a
// message that cannot be genuine: the body must be a Notification,
// SubscriptionConfirmation or UnsubscribeConfirmation with every signed
// member, SignatureVersion "1" (SHA1withRSA) or "2" (SHA256withRSA), a
// base64 Signature, and an https SigningCertURL to a .pem file on an
// allowed host. Then the certificate is taken from the cache or fetched,
// checked to be valid now, and the signature is verified over the
// canonical string to sign.
//
// The error wraps ErrBadSignature when the message must be refused (HTTP
// 401) and ErrUnavailable when the certificate could not be fetched (503,
// so that SNS retries). A genuine message can be replayed: the caller's
// deduplication by MessageId is what makes a replay harmless.
func (v *SNSVerifier) Verify(ctx context.Context, body []byte) (*SNSMessage, error) {
	var m SNSMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("%w: not a JSON SNS message: %v", ErrBadSignature, err)
	}
	toSign, err := snsStringToSign(&m)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	hash, err := snsHash(m.SignatureVersion)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil || len(sig) == 0 {
		return nil, fmt.Errorf("%w: SNS Signature is not base64", ErrBadSignature)
	}
	if _, err := v.checkURL("SigningCertURL", m.SigningCertURL, true); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSignature, err)
	}

	cert, err := v.certs.get(ctx, m.SigningCertURL)
	if err != nil {
		return nil, err
	}
	if now := v.now(); now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return nil, fmt.Errorf("%w: SNS signing certificate is valid from %s to %s, not now", ErrBadSignature,
			cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339))
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: SNS signing certificate holds a %T, not an RSA key", ErrBadSignature, cert.PublicKey)
	}
	h := hash.New()
	h.Write([]byte(toSign))
	if err := rsa.VerifyPKCS1v15(pub, hash, h.Sum(nil), sig); err != nil {
		return nil, fmt.Errorf("%w: SNS %s signature does not match", ErrBadSignature, m.Type)
	}
	m.verified, m.verifiedSubscribeURL = true, m.SubscribeURL
	return &m, nil
}

// ConfirmSubscription visits the SubscribeURL of a SubscriptionConfirmation
// that Verify returned, which is how an HTTP(S) endpoint accepts an SNS
// subscription. It refuses any other message, an UnsubscribeConfirmation
// included (visiting its SubscribeURL would subscribe again), a message
// whose SubscribeURL changed after Verify, and a SubscribeURL that is not
// https on a host the SigningCertURL rule allows. The error wraps
// ErrUnavailable when SNS could not be reached or answered 408, 429 or 5xx,
// so the caller can answer 503 and have SNS send the confirmation again.
func (v *SNSVerifier) ConfirmSubscription(ctx context.Context, msg *SNSMessage) error {
	switch {
	case msg == nil || !msg.verified:
		return fmt.Errorf("SNS message was not returned by SNSVerifier.Verify; only a verified SubscriptionConfirmation is confirmed")
	case msg.Type != SNSSubscriptionConfirmation:
		return fmt.Errorf("SNS %s is not a SubscriptionConfirmation; only those are confirmed", msg.Type)
	case msg.SubscribeURL != msg.verifiedSubscribeURL:
		return fmt.Errorf("%w: SubscribeURL changed after the message was verified", ErrBadSignature)
	}
	if _, err := v.checkURL("SubscribeURL", msg.SubscribeURL, false); err != nil {
		return fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	ctx, cancel := context.WithTimeout(ctx, v.timeout)
	defer cancel()
	// The URL is requested exactly as signed, not as re-encoded by url.URL.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, msg.SubscribeURL, nil)
	if err != nil {
		return fmt.Errorf("build SNS subscription confirmation request: %w", err)
	}
	resp, err := v.client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: confirming SNS subscription to %s: %w", ErrUnavailable, msg.TopicArn, err)
	}
	defer resp.Body.Close()
	// Reading what is left lets the connection be reused; SNS's answer
	// (the subscription ARN, in XML) is not needed.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxSNSConfirmReadBytes))
	if err := responseError("SNS SubscribeURL", resp.StatusCode); err != nil {
		return fmt.Errorf("confirming SNS subscription to %s: %w", msg.TopicArn, err)
	}
	return nil
}

// checkURL parses a URL named in a message and checks that it may be
// fetched: https, no user info, an allowed host, and, for a certificate, a
// path ending in .pem (as every SNS certificate URL does).
func (v *SNSVerifier) checkURL(field, raw string, wantPEM bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || raw == "" {
		return nil, fmt.Errorf("SNS %s is not a URL", field)
	}
	host := strings.ToLower(u.Host)
	switch {
	case u.Scheme != "https":
		return nil, fmt.Errorf("SNS %s is not https", field)
	case u.User != nil:
		return nil, fmt.Errorf("SNS %s has user info", field)
	case host == "" || !v.allowed(host):
		return nil, fmt.Errorf("SNS %s host %.*q is not an allowed SNS host", field, maxSNSHostInError, host)
	case wantPEM && !strings.HasSuffix(u.Path, ".pem"):
		return nil, fmt.Errorf("SNS %s does not name a .pem file", field)
	}
	return u, nil
}

// fetchCert fetches and parses the PEM certificate at certURL, which
// checkURL has allowed.
func (v *SNSVerifier) fetchCert(ctx context.Context, certURL string) (*x509.Certificate, error) {
	ctx, cancel := context.WithTimeout(ctx, v.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, certURL, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: build SNS certificate request: %v", ErrBadSignature, err)
	}
	resp, err := v.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: fetching SNS signing certificate: %w", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	if err := responseError("SNS signing certificate URL", resp.StatusCode); err != nil {
		if errors.Is(err, ErrUnavailable) {
			return nil, err
		}
		// Any other answer (a 404, say) means the message names a
		// certificate SNS does not have.
		return nil, fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxSNSCertBytes+1))
	if err == nil {
		// A body cut short as the deadline passed can read as a clean,
		// empty or partial, answer; a timeout must never become a 401.
		err = ctx.Err()
	}
	if err != nil {
		return nil, fmt.Errorf("%w: reading SNS signing certificate: %w", ErrUnavailable, err)
	}
	if len(body) > maxSNSCertBytes {
		return nil, fmt.Errorf("%w: SNS signing certificate is over %d bytes", ErrBadSignature, maxSNSCertBytes)
	}
	block, _ := pem.Decode(body)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%w: SNS signing certificate URL did not serve a PEM certificate", ErrBadSignature)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: parsing SNS signing certificate: %v", ErrBadSignature, err)
	}
	return cert, nil
}

// responseError returns nil for a 2xx status, an ErrUnavailable for one
// worth retrying (408, 429, 5xx), and a plain error for any other.
func responseError(what string, status int) error {
	switch {
	case status >= 200 && status < 300:
		return nil
	case status == http.StatusRequestTimeout, status == http.StatusTooManyRequests, status >= 500:
		return fmt.Errorf("%w: %s answered HTTP %d", ErrUnavailable, what, status)
	default:
		return fmt.Errorf("%s answered HTTP %d", what, status)
	}
}

// snsHash returns the hash of an SNS signature version: SHA1withRSA for
// "1", SHA256withRSA for "2".
func snsHash(version string) (crypto.Hash, error) {
	switch version {
	case "1":
		return crypto.SHA1, nil
	case "2":
		return crypto.SHA256, nil
	default:
		return 0, fmt.Errorf("SNS SignatureVersion %.16q is not supported, want \"1\" or \"2\"", version)
	}
}

// snsStringToSign returns the canonical string SNS signs: for each signed
// member, in byte-wise order of name, the name, a newline, the value and a
// newline. A Notification signs Message, MessageId, Subject (only when the
// message has one), Timestamp, TopicArn and Type; a
// SubscriptionConfirmation or UnsubscribeConfirmation signs Message,
// MessageId, SubscribeURL, Timestamp, Token, TopicArn and Type. Values are
// the decoded JSON strings, escapes resolved. A signed member that is empty
// is an error: SNS always sends them, and signing "" would let a message
// that lacks one verify.
//
// It agrees with normalise.SNSStringToSign, which the ingest plane owns;
// the gateway keeps its own copy so that it does not depend on another
// plane's package.
func snsStringToSign(m *SNSMessage) (string, error) {
	type member struct{ name, value string }
	var members []member
	switch m.Type {
	case SNSNotification:
		members = []member{{"Message", m.Message}, {"MessageId", m.MessageID}}
		if m.Subject != "" {
			members = append(members, member{"Subject", m.Subject})
		}
		members = append(members, member{"Timestamp", m.Timestamp}, member{"TopicArn", m.TopicArn}, member{"Type", m.Type})
	case SNSSubscriptionConfirmation, SNSUnsubscribeConfirmation:
		members = []member{
			{"Message", m.Message}, {"MessageId", m.MessageID}, {"SubscribeURL", m.SubscribeURL},
			{"Timestamp", m.Timestamp}, {"Token", m.Token}, {"TopicArn", m.TopicArn}, {"Type", m.Type},
		}
	case "":
		return "", fmt.Errorf("SNS message has no Type (raw message delivery must be off: only the envelope is signed)")
	default:
		return "", fmt.Errorf("SNS message type %.32q is not %s, %s or %s",
			m.Type, SNSNotification, SNSSubscriptionConfirmation, SNSUnsubscribeConfirmation)
	}
	var b strings.Builder
	for _, mem := range members {
		if mem.value == "" {
			return "", fmt.Errorf("SNS %s message has no %s", m.Type, mem.name)
		}
		b.WriteString(mem.name)
		b.WriteByte('\n')
		b.WriteString(mem.value)
		b.WriteByte('\n')
	}
	return b.String(), nil
}
