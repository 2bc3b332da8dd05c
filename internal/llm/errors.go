package llm

import (
	"errors"

	"github.com/alexus-platform/alexus/internal/openaiapi"
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

// APIError is a response with a non-2xx status; see openaiapi.APIError.
type APIError = openaiapi.APIError

// clip shortens s for quoting in an error; see openaiapi.Clip.
func clip(s string, n int) string { return openaiapi.Clip(s, n) }
