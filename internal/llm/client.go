package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/alexus-platform/alexus/internal/openaiapi"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// Usage is the token use the server reported for one call. A server that
// reports none (some local ones) yields zeros.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// Meter is told the token use of every call that got an answer from the
// server, including answers that then fail as refused, malformed or off
// schema: those tokens were spent all the same. Record must be safe for
// concurrent use and should not block; ctx is the caller's.
type Meter interface {
	Record(ctx context.Context, t tenant.ID, u Usage)
}

// Budgeter is an optional extension of Meter: if the Config's Meter
// implements it, Allow is asked before each call, and an error fails the
// call with ErrBudget before anything is sent. It is how a per-tenant token
// budget kept by the Meter is enforced.
type Budgeter interface {
	Allow(ctx context.Context, t tenant.ID) error
}

// Roles a Message may have.
const (
	RoleSystem    = "system"
	RoleDeveloper = "developer"
	RoleUser      = "user"
	RoleAssistant = "assistant"
)

// Message is one turn of the conversation.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Request is one chat completion.
type Request struct {
	// Messages is the conversation, at least one message.
	Messages []Message
	// Schema, if set, asks for structured output: it is sent as
	// response_format {"type":"json_schema",...,"strict":true}, and
	// CompleteJSON checks the answer against it.
	Schema *Schema
	// JSONMode sends response_format {"type":"json_object"} instead, for
	// servers without json_schema; a Schema, if set, is then only checked
	// locally. OpenAI requires the word "JSON" in the messages in this mode.
	JSONMode bool
	// MaxTokens is this call's completion budget. Zero or more than the
	// tenant's MaxTokens means the tenant's.
	MaxTokens int
	// Temperature, if set, overrides Config.Temperature.
	Temperature *float64

	// Model, APIKey and Timeout, when set, replace the tenant's settings
	// (Config.Tenants, else the Config's own) for this call only: they
	// carry settings a caller keeps elsewhere, such as a tenant's own
	// model and key stored by the reasoning plane. Zero values leave the
	// client's settings alone. APIKey is checked as Config.APIKey is and,
	// like it, never appears in an error; Timeout bounds each request as
	// Config.Timeout does.
	Model   string
	APIKey  string
	Timeout time.Duration
}

// Response is the answer to one call.
type Response struct {
	// Content is the assistant's message.
	Content string
	// FinishReason is the server's, e.g. "stop" or "length" (cut short by
	// the token budget).
	FinishReason string
	// Model is the model the server says answered, which may differ from
	// the one asked for behind a proxy.
	Model string
	Usage Usage
	// Attempts is how many requests the call took.
	Attempts int
	// Latency runs from the first request to the last response, backoff
	// included, and excludes the wait for a tenant slot.
	Latency time.Duration
}

// Client is a client of the OpenAI-compatible chat completions API. It is
// safe for concurrent use.
type Client struct {
	cfg      Config
	endpoint string
	keys     []string // every configured key, for redaction
	limiter  *limiter
}

// New validates cfg and returns a client. It makes no request.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	// The client keeps its own copies, so a caller changing its config
	// later changes nothing here (and races with nothing).
	cfg.Tenants = maps.Clone(cfg.Tenants)
	if cfg.Temperature != nil {
		cfg.Temperature = new(*cfg.Temperature)
	}
	keys := []string{cfg.APIKey}
	for _, t := range cfg.Tenants {
		keys = append(keys, t.APIKey)
	}
	return &Client{
		cfg:      cfg,
		endpoint: strings.TrimRight(cfg.BaseURL, "/") + "/chat/completions",
		keys:     keys,
		limiter:  newLimiter(cfg.MaxQueueWait),
	}, nil
}

// Model returns the model calls for tenant t are sent to.
func (c *Client) Model(t tenant.ID) string { return c.cfg.settingsFor(t).model }

type chatRequest struct {
	Model               string          `json:"model"`
	Messages            []Message       `json:"messages"`
	MaxTokens           int             `json:"max_tokens,omitempty"`
	MaxCompletionTokens int             `json:"max_completion_tokens,omitempty"`
	Temperature         *float64        `json:"temperature,omitempty"`
	ResponseFormat      *responseFormat `json:"response_format,omitempty"`
	Stream              bool            `json:"stream"`
}

type responseFormat struct {
	Type       string      `json:"type"`
	JSONSchema *jsonSchema `json:"json_schema,omitempty"`
}

type jsonSchema struct {
	Name   string          `json:"name"`
	Schema json.RawMessage `json:"schema"`
	Strict bool            `json:"strict"`
}

type chatResponse struct {
	Model   string `json:"model"`
	Choices []struct {
		Index   int `json:"index"`
		Message struct {
			Role    string  `json:"role"`
			Content *string `json:"content"`
			Refusal *string `json:"refusal"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage *Usage `json:"usage"`
}

// Complete sends req for the tenant in ctx. It waits at most MaxQueueWait
// for one of the tenant's slots (ErrBusy otherwise), retries under the
// backoff policy, reports the usage of any answer to the Meter, and fails
// with ErrRefused if the model refused. The error names the tenant, model
// and attempts, never the messages.
func (c *Client) Complete(ctx context.Context, req Request) (*Response, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return nil, fmt.Errorf("llm: %w", err)
	}
	s, overrideErr := c.cfg.settingsFor(t).with(req)
	fail := func(attempts int, err error) error {
		return fmt.Errorf("llm: tenant %q, model %q, %d attempt(s): %w", t, s.model, attempts, err)
	}
	if overrideErr != nil {
		return nil, fail(0, overrideErr)
	}
	body, err := c.encode(req, s)
	if err != nil {
		return nil, fail(0, err)
	}
	if b, ok := c.cfg.Meter.(Budgeter); ok {
		if err := b.Allow(ctx, t); err != nil {
			return nil, fail(0, fmt.Errorf("%w: %w", ErrBudget, err))
		}
	}
	release, err := c.limiter.acquire(ctx, t, s.maxConcurrent)
	if err != nil {
		return nil, fail(0, err)
	}
	defer release()

	policy := openaiapi.Backoff(c.cfg.InitialBackoff, c.cfg.MaxBackoff)
	attempts := 0
	start := time.Now()
	wire, err := backoff.Retry(ctx, func() (*chatResponse, error) {
		attempts++
		return c.post(ctx, body, s)
	},
		backoff.WithBackOff(policy),
		backoff.WithMaxTries(uint(c.cfg.MaxRetries)+1),
		// MaxRetries and the caps on each wait bound the call; the
		// library's default 15-minute budget would be a second, hidden
		// limit.
		backoff.WithMaxElapsedTime(0),
	)
	latency := time.Since(start)
	if err != nil {
		return nil, fail(attempts, openaiapi.Unwrap(err))
	}

	resp := &Response{Model: wire.Model, Attempts: attempts, Latency: latency}
	if wire.Usage != nil {
		resp.Usage = *wire.Usage
		if resp.Usage.TotalTokens == 0 {
			resp.Usage.TotalTokens = resp.Usage.PromptTokens + resp.Usage.CompletionTokens
		}
	}
	if c.cfg.Meter != nil {
		c.cfg.Meter.Record(ctx, t, resp.Usage)
	}
	if len(wire.Choices) == 0 {
		return nil, fail(attempts, fmt.Errorf("%w: no choices", ErrBadResponse))
	}
	choice := wire.Choices[0]
	resp.FinishReason = choice.FinishReason
	switch {
	case choice.Message.Refusal != nil && *choice.Message.Refusal != "":
		// The refusal's text may quote the prompt, so it is not repeated.
		return nil, fail(attempts, fmt.Errorf("%w: refusal in answer", ErrRefused))
	case choice.FinishReason == "content_filter":
		return nil, fail(attempts, fmt.Errorf("%w: finish reason content_filter", ErrRefused))
	}
	if choice.Message.Content != nil {
		resp.Content = *choice.Message.Content
	}
	return resp, nil
}

// encode checks req and builds the request body with the tenant's
// settings.
func (c *Client) encode(req Request, s settings) ([]byte, error) {
	if len(req.Messages) == 0 {
		return nil, errors.New("request: no messages")
	}
	for i, m := range req.Messages {
		switch m.Role {
		case RoleSystem, RoleDeveloper, RoleUser, RoleAssistant:
		default:
			return nil, fmt.Errorf("request: message %d: unknown role %q", i, clip(m.Role, 32))
		}
	}
	if req.MaxTokens < 0 {
		return nil, fmt.Errorf("request: max tokens %d must not be negative", req.MaxTokens)
	}
	if err := validateTemperature(req.Temperature); err != nil {
		return nil, fmt.Errorf("request: %w", err)
	}
	maxTokens := s.maxTokens
	if req.MaxTokens > 0 {
		maxTokens = min(req.MaxTokens, s.maxTokens)
	}
	w := chatRequest{Model: s.model, Messages: req.Messages, Temperature: c.cfg.Temperature}
	if req.Temperature != nil {
		w.Temperature = req.Temperature
	}
	if c.cfg.UseMaxCompletionTokens {
		w.MaxCompletionTokens = maxTokens
	} else {
		w.MaxTokens = maxTokens
	}
	switch {
	case req.JSONMode || (c.cfg.JSONMode && req.Schema != nil):
		w.ResponseFormat = &responseFormat{Type: "json_object"}
	case req.Schema != nil:
		w.ResponseFormat = &responseFormat{Type: "json_schema", JSONSchema: &jsonSchema{
			Name: req.Schema.name, Schema: req.Schema.raw, Strict: true,
		}}
	}
	body, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("encoding request: %w", err)
	}
	return body, nil
}

// post makes one attempt. Errors worth retrying are returned as they are
// (with a retryAfterError when the server said how long to wait); the rest
// are wrapped in backoff.Permanent.
func (c *Client) post(ctx context.Context, body []byte, s settings) (*chatResponse, error) {
	rctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, backoff.Permanent(fmt.Errorf("building request: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if s.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+s.apiKey)
	}
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, c.transportError(ctx, rctx, err, s.timeout)
	}
	defer resp.Body.Close()

	limit := int64(openaiapi.MaxErrorBody)
	if resp.StatusCode/100 == 2 {
		limit = c.cfg.MaxResponseBytes
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, c.transportError(ctx, rctx, err, s.timeout)
	}
	if resp.StatusCode/100 != 2 {
		// s.apiKey may be a request's own key, which c.keys lacks.
		apiErr := openaiapi.ParseError(resp.StatusCode, data, append([]string{s.apiKey}, c.keys...)...)
		if !openaiapi.RetryableStatus(resp.StatusCode) {
			return nil, backoff.Permanent(apiErr)
		}
		return nil, openaiapi.Retry(apiErr, resp.Header, c.cfg.MaxRetryAfter)
	}
	if int64(len(data)) > limit {
		return nil, backoff.Permanent(fmt.Errorf("%w: larger than %d bytes", ErrBadResponse, limit))
	}
	var wire chatResponse
	if err := json.Unmarshal(data, &wire); err != nil {
		return nil, backoff.Permanent(fmt.Errorf("%w: %w", ErrBadResponse, err))
	}
	return &wire, nil
}

// transportError classifies a failure to send or to read a response: the
// caller's cancellation and certificate errors are final; a timeout or a
// broken connection is worth another attempt.
func (c *Client) transportError(ctx, rctx context.Context, err error, timeout time.Duration) error {
	return openaiapi.TransportError(ctx, rctx, err, ErrTimeout, timeout)
}
