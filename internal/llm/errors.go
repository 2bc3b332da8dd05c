package llm

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cenkalti/backoff/v5"
)

// The causes a call can fail with, for errors.Is. Each is wrapped with
// detail that names the tenant, model and attempts, never a message's or
// an answer's text.
var (
	// ErrMalformed: the answer to a structured request is not one JSON
	// value (optionally inside a ```json fence). Not retried.
	ErrMalformed = errors.New("llm: answer is not valid JSON")
	// ErrSchema: the answer is JSON but violates the request's schema. The
	// error is a *SchemaError naming each path. Not retried.
	ErrSchema = errors.New("llm: answer violates the schema")
	// ErrRefused: the model refused (the message's "refusal" field) or the
	// provider's content filter stopped it. Not retried.
	ErrRefused = errors.New("llm: model refused")
	// ErrTimeout: a request got no complete response within the timeout;
	// it is retried until MaxRetries is spent.
	ErrTimeout = errors.New("llm: chat request timed out")
	// ErrBusy: all of the tenant's slots stayed taken for MaxQueueWait.
	// Nothing was sent.
	ErrBusy = errors.New("llm: tenant's concurrent calls at limit")
	// ErrBudget: the Meter's Budgeter refused the call. Nothing was sent.
	ErrBudget = errors.New("llm: tenant's token budget spent")
	// ErrBadResponse: a 2xx response this client cannot use: not the chat
	// completions format, no choices, or larger than MaxResponseBytes. Not
	// retried.
	ErrBadResponse = errors.New("llm: bad chat completions response")
)

// maxErrorBody bounds how much of an error response is read for its
// message.
const maxErrorBody = 64 << 10

// maxMessage bounds the API's message quoted in an error, so a server that
// echoes its input cannot put a whole prompt into our errors.
const maxMessage = 300

// APIError is a response with a non-2xx status. Message is the API's
// {"error":{"message":...}} (or the variants vLLM and Ollama send),
// shortened, with every configured API key redacted should the server echo
// one.
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

func newAPIError(status int, body []byte, keys []string) *APIError {
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
	e.Type = clip(redact(e.Type, keys), 64)
	e.Code = clip(redact(e.Code, keys), 64)
	e.Message = clip(redact(e.Message, keys), maxMessage)
	return e
}

// redact removes every API key from s, should a proxy echo one.
func redact(s string, keys []string) string {
	for _, k := range keys {
		if k != "" {
			s = strings.ReplaceAll(s, k, "[redacted]")
		}
	}
	return s
}

// clip shortens s to at most n bytes on a rune boundary and flattens it to
// one line.
func clip(s string, n int) string {
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

// retryableStatus reports whether a status is worth another attempt:
// request timeout, rate limit and server errors.
func retryableStatus(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500
}

// retryAfterError carries the server's requested wait to backoff.Retry,
// which finds the *backoff.RetryAfterError with errors.As; Complete
// unwraps it again so callers see only err.
type retryAfterError struct {
	err error
	ra  *backoff.RetryAfterError
}

func (e *retryAfterError) Error() string   { return e.err.Error() }
func (e *retryAfterError) Unwrap() []error { return []error{e.err, e.ra} }

// retryAfter reads the wait a response asks for: OpenAI's retry-after-ms
// (milliseconds) first, then Retry-After in seconds or as an HTTP date,
// capped at limit. A missing, malformed or non-positive value reports
// false, leaving the wait to the backoff policy.
func retryAfter(h http.Header, now time.Time, limit time.Duration) (time.Duration, bool) {
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
