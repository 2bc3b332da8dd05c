// Package openaiapi holds what every client of an OpenAI-compatible HTTP
// API (OpenAI, a LiteLLM proxy, vLLM, Ollama) needs the same way: reading
// the error a server answers with, deciding whether a status is worth a
// retry, and honouring the wait it asks for. The embeddings client
// (internal/embed) and the chat client (internal/llm) share it.
package openaiapi

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cenkalti/backoff/v5"
)

// MaxErrorBody bounds how much of an error response is read for its
// message.
const MaxErrorBody = 64 << 10

// maxMessage bounds the API's message quoted in an error, so a server that
// echoes its input cannot put a whole text into our errors.
const maxMessage = 300

// APIError is a response with a non-2xx status. Message is the API's
// {"error":{"message":...}} (or the variants vLLM and Ollama send),
// shortened, with the API keys redacted should the server echo one.
type APIError struct {
	StatusCode int
	// Type and Code are the API's error type and code, when it sent them
	// (e.g. "invalid_request_error", "invalid_api_key").
	Type, Code string
	Message    string
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Code != "" {
		fmt.Fprintf(&b, " (%s)", e.Code)
	} else if e.Type != "" {
		fmt.Fprintf(&b, " (%s)", e.Type)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// ParseError reads the error body of a response with status, redacting
// keys from everything it keeps.
func ParseError(status int, body []byte, keys ...string) *APIError {
	e := &APIError{StatusCode: status}
	// OpenAI and LiteLLM: {"error":{"message","type","code"}}; Ollama:
	// {"error":"..."}; vLLM: {"object":"error","message","type","code"}.
	var wire struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Type    string          `json:"type"`
	}
	if json.Unmarshal(body, &wire) == nil {
		var obj struct {
			Message string          `json:"message"`
			Type    string          `json:"type"`
			Code    json.RawMessage `json:"code"`
		}
		var str string
		switch {
		case json.Unmarshal(wire.Error, &obj) == nil && obj.Message != "":
			e.Message, e.Type = obj.Message, obj.Type
			var code string
			if json.Unmarshal(obj.Code, &code) == nil {
				e.Code = code
			}
		case json.Unmarshal(wire.Error, &str) == nil:
			e.Message = str
		default:
			e.Message, e.Type = wire.Message, wire.Type
		}
	}
	e.Type = Clip(Redact(e.Type, keys...), 64)
	e.Code = Clip(Redact(e.Code, keys...), 64)
	e.Message = Clip(Redact(e.Message, keys...), maxMessage)
	return e
}

// Redact removes every key from s, should a proxy echo one.
func Redact(s string, keys ...string) string {
	for _, k := range keys {
		if k != "" {
			s = strings.ReplaceAll(s, k, "[redacted]")
		}
	}
	return s
}

// Clip shortens s to at most n bytes on a rune boundary and flattens it to
// one line.
func Clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// RetryableStatus reports whether a status is worth another attempt:
// request timeout, rate limit and server errors.
func RetryableStatus(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500
}

// retryAfterError carries the server's requested wait to backoff.Retry,
// which finds the *backoff.RetryAfterError with errors.As; Unwrap gives
// the caller the error itself back.
type retryAfterError struct {
	err error
	ra  *backoff.RetryAfterError
}

func (e *retryAfterError) Error() string   { return e.err.Error() }
func (e *retryAfterError) Unwrap() []error { return []error{e.err, e.ra} }

// Retry marks err, from a response with header h, for backoff.Retry: with
// the wait the response asks for (capped at limit) when it asks for one.
func Retry(err error, h http.Header, limit time.Duration) error {
	if wait, ok := RetryAfter(h, time.Now(), limit); ok {
		return &retryAfterError{err: err, ra: &backoff.RetryAfterError{Duration: wait}}
	}
	return err
}

// Unwrap returns err without the wait Retry attached to it.
func Unwrap(err error) error {
	var ra *retryAfterError
	if errors.As(err, &ra) {
		return ra.err
	}
	return err
}

// RetryAfter reads the wait a response asks for: OpenAI's retry-after-ms
// (milliseconds) first, then Retry-After in seconds or as an HTTP date,
// capped at limit. A missing, malformed or non-positive value reports
// false, leaving the wait to the backoff policy.
func RetryAfter(h http.Header, now time.Time, limit time.Duration) (time.Duration, bool) {
	var wait time.Duration
	if v := strings.TrimSpace(h.Get("Retry-After-Ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 && !math.IsInf(ms, 0) {
			wait = time.Duration(min(ms/1e3, limit.Seconds()) * float64(time.Second))
		}
	}
	if v := strings.TrimSpace(h.Get("Retry-After")); wait <= 0 && v != "" {
		if s, err := strconv.ParseFloat(v, 64); err == nil {
			if s > 0 && !math.IsInf(s, 0) {
				wait = time.Duration(min(s, limit.Seconds()) * float64(time.Second))
			}
		} else if t, err := http.ParseTime(v); err == nil {
			wait = t.Sub(now)
		}
	}
	if wait <= 0 {
		return 0, false
	}
	return min(wait, limit), true
}

// TransportError classifies a failure to send a request or to read its
// response, for backoff.Retry: the caller's cancellation (ctx) and
// certificate errors are final; a timeout of the attempt (rctx, or the
// network's) is errTimeout, worth another attempt, and so is a broken
// connection.
func TransportError(ctx, rctx context.Context, err, errTimeout error, timeout time.Duration) error {
	if cause := context.Cause(ctx); cause != nil {
		return backoff.Permanent(cause)
	}
	var netErr net.Error
	if errors.Is(rctx.Err(), context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()) {
		return fmt.Errorf("%w after %s: %w", errTimeout, timeout, err)
	}
	var (
		unknownAuthority x509.UnknownAuthorityError
		hostname         x509.HostnameError
		invalid          x509.CertificateInvalidError
		verify           *tls.CertificateVerificationError
	)
	if errors.As(err, &unknownAuthority) || errors.As(err, &hostname) || errors.As(err, &invalid) || errors.As(err, &verify) {
		return backoff.Permanent(fmt.Errorf("TLS: %w", err))
	}
	return fmt.Errorf("connection: %w", err)
}

// Backoff is the retry policy both clients use: exponential from initial
// to max with ±50% jitter. ExponentialBackOff keeps state, so each call
// (or batch) needs its own.
func Backoff(initial, max time.Duration) *backoff.ExponentialBackOff {
	return &backoff.ExponentialBackOff{InitialInterval: initial, RandomizationFactor: 0.5, Multiplier: 2, MaxInterval: max}
}
