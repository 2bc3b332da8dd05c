package llm_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/llm"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// testKey is the API key every test client sends; no error may contain it.
const testKey = "sk-test-9a1c2d9e8b7a41f3a6c1secret"

// promptText is in every test prompt; no error may contain it.
const promptText = "confidential incident note: db-3 replication lag"

// wireRequest is the chat completions request as the fake server reads it.
type wireRequest struct {
	Model               string          `json:"model"`
	Messages            []llm.Message   `json:"messages"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	Temperature         *float64        `json:"temperature"`
	ResponseFormat      json.RawMessage `json:"response_format"`
	Stream              bool            `json:"stream"`
}

// recorded is one request the fake server received.
type recorded struct {
	header http.Header
	path   string
	body   wireRequest
}

// bundle is a fake chat completions server and the requests it saw.
type bundle struct {
	srv *httptest.Server

	mu   sync.Mutex
	reqs []recorded
}

// handler answers the call'th (1-based) request to the fake server.
type handler func(w http.ResponseWriter, r *http.Request, call int, req wireRequest)

// setup starts a fake chat completions server that records each request
// and passes it to h.
func setup(t *testing.T, h handler) *bundle {
	t.Helper()
	b := &bundle{}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req wireRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, `{"error":{"message":"bad json"}}`, http.StatusBadRequest)
			return
		}
		b.mu.Lock()
		b.reqs = append(b.reqs, recorded{header: r.Header.Clone(), path: r.URL.Path, body: req})
		call := len(b.reqs)
		b.mu.Unlock()
		h(w, r, call, req)
	}))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *bundle) requests() []recorded {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]recorded(nil), b.reqs...)
}

// client returns a client of the fake server with fast retries; mods
// change its config.
func (b *bundle) client(t *testing.T, mods ...func(*llm.Config)) *llm.Client {
	t.Helper()
	cfg := llm.Config{
		BaseURL:        b.srv.URL + "/v1",
		APIKey:         testKey,
		Model:          "gpt-4o-mini",
		Timeout:        2 * time.Second,
		InitialBackoff: time.Millisecond,
		MaxBackoff:     5 * time.Millisecond,
		HTTPClient:     b.srv.Client(),
	}
	for _, m := range mods {
		m(&cfg)
	}
	c, err := llm.New(cfg)
	require.NoError(t, err)
	return c
}

// forTenant returns a context carrying a verified identity of tenant id.
func forTenant(id string) context.Context {
	return tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: tenant.ID(id), Subject: "reasoning"})
}

// answer writes a chat completion whose message is content.
func answer(w http.ResponseWriter, model, content, finish string) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id":      "chatcmpl-1",
		"object":  "chat.completion",
		"created": 1767225600,
		"model":   model,
		"choices": []any{map[string]any{
			"index":         0,
			"message":       map[string]any{"role": "assistant", "content": content, "refusal": nil},
			"finish_reason": finish,
		}},
		"usage": map[string]any{"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150},
	})
}

// ok answers every request with content.
func ok(content string) handler {
	return func(w http.ResponseWriter, _ *http.Request, _ int, req wireRequest) {
		answer(w, req.Model, content, "stop")
	}
}

func apiError(w http.ResponseWriter, status int, message, typ, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"error": map[string]any{"message": message, "type": typ, "param": nil, "code": code},
	})
}

// triage is the structured answer the tests ask for.
type triage struct {
	Severity   string   `json:"severity"`
	Confidence float64  `json:"confidence"`
	Services   []string `json:"services"`
	Page       bool     `json:"page"`
}

var triageSchema = llm.MustSchema("triage", `{
	"type": "object",
	"properties": {
		"severity":   {"type": "string", "enum": ["sev1", "sev2", "sev3"]},
		"confidence": {"type": "number", "minimum": 0, "maximum": 1},
		"services":   {"type": "array", "items": {"type": "string"}, "maxItems": 5},
		"page":       {"type": "boolean"}
	},
	"required": ["severity", "confidence", "services", "page"],
	"additionalProperties": false
}`)

const goodAnswer = `{"severity":"sev2","confidence":0.8,"services":["db-3","api"],"page":true}`

func triageRequest() llm.Request {
	return llm.Request{
		Messages: []llm.Message{
			{Role: llm.RoleSystem, Content: "You triage incidents. Answer in JSON."},
			{Role: llm.RoleUser, Content: promptText},
		},
		Schema: triageSchema,
	}
}

// requireClean fails if err carries the API key or the prompt's text.
func requireClean(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	require.NotContains(t, err.Error(), testKey)
	require.NotContains(t, err.Error(), promptText)
}

// meter records usage per tenant and refuses tenants in deny.
type meter struct {
	mu    sync.Mutex
	usage map[tenant.ID][]llm.Usage
	deny  map[tenant.ID]bool
}

func newMeter() *meter {
	return &meter{usage: map[tenant.ID][]llm.Usage{}, deny: map[tenant.ID]bool{}}
}

func (m *meter) Record(_ context.Context, t tenant.ID, u llm.Usage) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.usage[t] = append(m.usage[t], u)
}

func (m *meter) Allow(_ context.Context, t tenant.ID) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.deny[t] {
		return errors.New("monthly budget of 1000000 tokens spent")
	}
	return nil
}

func (m *meter) recorded(t tenant.ID) []llm.Usage {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]llm.Usage(nil), m.usage[t]...)
}

func TestCompleteJSONHappyPath(t *testing.T) {
	t.Parallel()
	b := setup(t, ok(goodAnswer))
	m := newMeter()
	c := b.client(t, func(c *llm.Config) { c.Meter = m })

	var got triage
	resp, err := llm.CompleteJSON(forTenant("acme"), c, triageRequest(), &got)
	require.NoError(t, err)
	require.Equal(t, triage{Severity: "sev2", Confidence: 0.8, Services: []string{"db-3", "api"}, Page: true}, got)
	require.Equal(t, goodAnswer, resp.Content)
	require.Equal(t, "stop", resp.FinishReason)
	require.Equal(t, "gpt-4o-mini", resp.Model)
	require.Equal(t, llm.Usage{PromptTokens: 120, CompletionTokens: 30, TotalTokens: 150}, resp.Usage)
	require.Equal(t, 1, resp.Attempts)
	require.Positive(t, resp.Latency)
	require.Equal(t, []llm.Usage{resp.Usage}, m.recorded("acme"))

	reqs := b.requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	require.Equal(t, "/v1/chat/completions", r.path)
	require.Equal(t, "Bearer "+testKey, r.header.Get("Authorization"))
	require.Equal(t, "application/json", r.header.Get("Content-Type"))
	require.Equal(t, "gpt-4o-mini", r.body.Model)
	require.Equal(t, triageRequest().Messages, r.body.Messages)
	require.NotNil(t, r.body.MaxTokens)
	require.Equal(t, llm.DefaultMaxTokens, *r.body.MaxTokens)
	require.Nil(t, r.body.MaxCompletionTokens)
	require.Nil(t, r.body.Temperature, "left to the server unless set")
	require.False(t, r.body.Stream)

	var rf struct {
		Type       string `json:"type"`
		JSONSchema struct {
			Name   string          `json:"name"`
			Schema json.RawMessage `json:"schema"`
			Strict bool            `json:"strict"`
		} `json:"json_schema"`
	}
	require.NoError(t, json.Unmarshal(r.body.ResponseFormat, &rf))
	require.Equal(t, "json_schema", rf.Type)
	require.Equal(t, "triage", rf.JSONSchema.Name)
	require.True(t, rf.JSONSchema.Strict)
	var schema map[string]any
	require.NoError(t, json.Unmarshal(rf.JSONSchema.Schema, &schema))
	require.Equal(t, "object", schema["type"])
	require.Equal(t, false, schema["additionalProperties"])
}

func TestCompletePlainText(t *testing.T) {
	t.Parallel()
	b := setup(t, ok("Replication lag on db-3 is the likely cause."))
	c := b.client(t)
	req := triageRequest()
	req.Schema = nil
	resp, err := c.Complete(forTenant("acme"), req)
	require.NoError(t, err)
	require.Equal(t, "Replication lag on db-3 is the likely cause.", resp.Content)
	reqs := b.requests()
	require.Len(t, reqs, 1)
	require.Empty(t, reqs[0].body.ResponseFormat, "no response_format without a schema")
}

func TestCompleteTenantSettings(t *testing.T) {
	t.Parallel()
	const globexKey = "sk-globex-77aa33bb99cc11dd"
	b := setup(t, ok(goodAnswer))
	c := b.client(t, func(c *llm.Config) {
		c.MaxTokens = 500
		c.Temperature = new(0.2)
		c.Tenants = map[tenant.ID]llm.TenantConfig{
			"globex": {Model: "llama3.1:70b", APIKey: globexKey, MaxTokens: 200, Timeout: time.Second},
		}
	})
	require.Equal(t, "gpt-4o-mini", c.Model("acme"))
	require.Equal(t, "llama3.1:70b", c.Model("globex"))

	for _, tc := range []struct {
		tenant    string
		maxTokens int
		temp      *float64
		wantModel string
		wantKey   string
		wantMax   int
		wantTemp  float64
	}{
		{"acme", 0, nil, "gpt-4o-mini", testKey, 500, 0.2},
		{"acme", 100, new(0.0), "gpt-4o-mini", testKey, 100, 0},
		{"acme", 9000, nil, "gpt-4o-mini", testKey, 500, 0.2}, // capped at the tenant's budget
		{"globex", 0, nil, "llama3.1:70b", globexKey, 200, 0.2},
		{"globex", 300, nil, "llama3.1:70b", globexKey, 200, 0.2},
	} {
		req := triageRequest()
		req.MaxTokens = tc.maxTokens
		req.Temperature = tc.temp
		var out triage
		_, err := llm.CompleteJSON(forTenant(tc.tenant), c, req, &out)
		require.NoError(t, err)
		reqs := b.requests()
		r := reqs[len(reqs)-1]
		require.Equal(t, tc.wantModel, r.body.Model)
		require.Equal(t, "Bearer "+tc.wantKey, r.header.Get("Authorization"))
		require.Equal(t, tc.wantMax, *r.body.MaxTokens)
		require.NotNil(t, r.body.Temperature)
		require.Equal(t, tc.wantTemp, *r.body.Temperature)
	}
}

func TestCompleteMaxCompletionTokens(t *testing.T) {
	t.Parallel()
	b := setup(t, ok(goodAnswer))
	c := b.client(t, func(c *llm.Config) { c.UseMaxCompletionTokens = true; c.MaxTokens = 64 })
	_, err := c.Complete(forTenant("acme"), triageRequest())
	require.NoError(t, err)
	r := b.requests()[0]
	require.Nil(t, r.body.MaxTokens)
	require.NotNil(t, r.body.MaxCompletionTokens)
	require.Equal(t, 64, *r.body.MaxCompletionTokens)
}

func TestCompleteJSONMode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		configMode bool
		reqMode    bool
	}{
		{"per request", false, true},
		{"per client", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// The server ignores the schema it was not sent; the local
			// check still applies.
			b := setup(t, ok(`{"severity":"sev9","confidence":0.5,"services":[],"page":false}`))
			c := b.client(t, func(c *llm.Config) { c.JSONMode = tc.configMode })
			req := triageRequest()
			req.JSONMode = tc.reqMode
			var out triage
			_, err := llm.CompleteJSON(forTenant("acme"), c, req, &out)
			require.ErrorIs(t, err, llm.ErrSchema)
			require.JSONEq(t, `{"type":"json_object"}`, string(b.requests()[0].body.ResponseFormat))
		})
	}
}

func TestCompleteJSONFenced(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, content string
		ok            bool
	}{
		{"json fence", "```json\n" + goodAnswer + "\n```", true},
		{"upper-case fence", "```JSON\n" + goodAnswer + "\n```\n", true},
		{"bare fence", "\n```\n" + goodAnswer + "\n```", true},
		{"surrounding whitespace", "  \n" + goodAnswer + "\n\n", true},
		{"prose before", "Here is the triage:\n```json\n" + goodAnswer + "\n```", false},
		{"prose after", goodAnswer + "\nLet me know if you need more.", false},
		{"other language", "```yaml\n" + goodAnswer + "\n```", false},
		{"unclosed fence", "```json\n" + goodAnswer, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, ok(tc.content))
			var out triage
			_, err := llm.CompleteJSON(forTenant("acme"), b.client(t), triageRequest(), &out)
			if tc.ok {
				require.NoError(t, err)
				require.Equal(t, "sev2", out.Severity)
				return
			}
			require.ErrorIs(t, err, llm.ErrMalformed)
		})
	}
}

func TestCompleteJSONMalformed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, content, finish, want string
	}{
		{"prose", "The severity is " + promptText, "stop", "not valid JSON"},
		{"truncated", `{"severity":"sev2","confidence":0.`, "length", "cut short at the token budget"},
		{"two values", goodAnswer + goodAnswer, "stop", "data after the JSON value"},
		{"empty", "", "stop", "empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, func(w http.ResponseWriter, _ *http.Request, _ int, req wireRequest) {
				answer(w, req.Model, tc.content, tc.finish)
			})
			m := newMeter()
			var out triage
			resp, err := llm.CompleteJSON(forTenant("acme"), b.client(t, func(c *llm.Config) { c.Meter = m }), triageRequest(), &out)
			requireClean(t, err)
			require.ErrorIs(t, err, llm.ErrMalformed)
			require.NotErrorIs(t, err, llm.ErrSchema)
			require.Contains(t, err.Error(), tc.want)
			require.NotNil(t, resp, "the discarded answer's response is returned")
			require.Equal(t, 150, resp.Usage.TotalTokens)
			require.Len(t, m.recorded("acme"), 1, "spent tokens are recorded")
			require.Len(t, b.requests(), 1, "not retried")
		})
	}
}

func TestCompleteJSONSchemaViolations(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, content, path, reason string
	}{
		{"missing required", `{"severity":"sev2","confidence":0.8,"services":[]}`, "$.page", "required property missing"},
		{"wrong type", `{"severity":"sev2","confidence":"high","services":[],"page":true}`, "$.confidence", "want number, got string"},
		{"wrong item type", `{"severity":"sev2","confidence":0.1,"services":["a",7],"page":true}`, "$.services[1]", "want string, got number"},
		{"enum", `{"severity":"critical","confidence":0.8,"services":[],"page":true}`, "$.severity", `value not in enum ["sev1","sev2","sev3"]`},
		{"extra property", `{"severity":"sev2","confidence":0.8,"services":[],"page":true,"notes":"x"}`, "$.notes", "additional property not allowed"},
		{"above maximum", `{"severity":"sev2","confidence":1.5,"services":[],"page":true}`, "$.confidence", "above maximum 1"},
		{"not an object", `["sev2"]`, "$", "want object, got array"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, ok(tc.content))
			var out triage
			resp, err := llm.CompleteJSON(forTenant("acme"), b.client(t), triageRequest(), &out)
			requireClean(t, err)
			require.ErrorIs(t, err, llm.ErrSchema)
			require.NotNil(t, resp)
			var se *llm.SchemaError
			require.ErrorAs(t, err, &se)
			require.Equal(t, []llm.Violation{{Path: tc.path, Reason: tc.reason}}, se.Violations)
			require.Contains(t, err.Error(), tc.path+": "+tc.reason)
			require.Contains(t, err.Error(), `schema "triage"`)
			require.Zero(t, out, "out is untouched")
		})
	}
}

func TestCompleteJSONNeedsSchema(t *testing.T) {
	t.Parallel()
	b := setup(t, ok(goodAnswer))
	req := triageRequest()
	req.Schema = nil
	var out triage
	_, err := llm.CompleteJSON(forTenant("acme"), b.client(t), req, &out)
	require.ErrorContains(t, err, "needs a request with a schema")
	require.Empty(t, b.requests())
}

func TestCompleteRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		body string
		want string
	}{
		{"refusal field", `{"object":"chat.completion","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":"I can't help with ` + promptText + `"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}`, "refusal in answer"},
		{"content filter", `{"object":"chat.completion","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":""},"finish_reason":"content_filter"}],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}`, "content_filter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, func(w http.ResponseWriter, _ *http.Request, _ int, _ wireRequest) {
				_, _ = w.Write([]byte(tc.body))
			})
			m := newMeter()
			var out triage
			_, err := llm.CompleteJSON(forTenant("acme"), b.client(t, func(c *llm.Config) { c.Meter = m }), triageRequest(), &out)
			requireClean(t, err)
			require.ErrorIs(t, err, llm.ErrRefused)
			require.Contains(t, err.Error(), tc.want)
			require.Equal(t, []llm.Usage{{PromptTokens: 10, CompletionTokens: 5, TotalTokens: 15}}, m.recorded("acme"))
			require.Len(t, b.requests(), 1, "not retried")
		})
	}
}

func TestCompleteRateLimitHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, header, value string
		cap, atLeast        time.Duration
	}{
		// Retry-After: 1 is capped at MaxRetryAfter, far above the backoff.
		{"seconds capped", "Retry-After", "1", 150 * time.Millisecond, 140 * time.Millisecond},
		{"milliseconds", "Retry-After-Ms", "120", time.Minute, 110 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, func(w http.ResponseWriter, _ *http.Request, call int, req wireRequest) {
				if call == 1 {
					w.Header().Set(tc.header, tc.value)
					apiError(w, http.StatusTooManyRequests, "Rate limit reached for gpt-4o-mini", "requests", "rate_limit_exceeded")
					return
				}
				answer(w, req.Model, goodAnswer, "stop")
			})
			c := b.client(t, func(c *llm.Config) { c.MaxRetryAfter = tc.cap })
			start := time.Now()
			resp, err := c.Complete(forTenant("acme"), triageRequest())
			elapsed := time.Since(start)
			require.NoError(t, err)
			require.Equal(t, 2, resp.Attempts)
			require.Len(t, b.requests(), 2)
			require.GreaterOrEqual(t, elapsed, tc.atLeast, "waited as asked")
			require.Less(t, elapsed, 900*time.Millisecond, "wait capped")
		})
	}
}

func TestCompleteServerErrorsRetried(t *testing.T) {
	t.Parallel()
	b := setup(t, func(w http.ResponseWriter, _ *http.Request, call int, req wireRequest) {
		switch call {
		case 1:
			apiError(w, http.StatusInternalServerError, "The server had an error", "server_error", "")
		case 2:
			apiError(w, http.StatusBadGateway, "upstream down", "", "")
		default:
			answer(w, req.Model, goodAnswer, "stop")
		}
	})
	resp, err := b.client(t).Complete(forTenant("acme"), triageRequest())
	require.NoError(t, err)
	require.Equal(t, 3, resp.Attempts)
	require.Len(t, b.requests(), 3)
}

func TestCompleteRetriesExhausted(t *testing.T) {
	t.Parallel()
	b := setup(t, func(w http.ResponseWriter, _ *http.Request, _ int, _ wireRequest) {
		apiError(w, http.StatusServiceUnavailable, "overloaded", "server_error", "")
	})
	_, err := b.client(t, func(c *llm.Config) { c.MaxRetries = 3 }).Complete(forTenant("acme"), triageRequest())
	requireClean(t, err)
	require.Len(t, b.requests(), 4, "one attempt and three retries")
	var apiErr *llm.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusServiceUnavailable, apiErr.StatusCode)
	require.Contains(t, err.Error(), `tenant "acme", model "gpt-4o-mini", 4 attempt(s): HTTP 503`)
}

func TestCompleteClientErrorsNotRetried(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status        int
		message, code string
	}{
		// OpenAI quotes a mistyped key; a proxy might quote it whole.
		{http.StatusUnauthorized, "Incorrect API key provided: " + testKey + ".", "invalid_api_key"},
		{http.StatusBadRequest, "Invalid schema for response_format 'triage'", "invalid_json_schema"},
		{http.StatusNotFound, "The model `gpt-7` does not exist", "model_not_found"},
		{http.StatusUnprocessableEntity, "unprocessable", ""},
	} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			t.Parallel()
			b := setup(t, func(w http.ResponseWriter, _ *http.Request, _ int, _ wireRequest) {
				apiError(w, tc.status, tc.message, "invalid_request_error", tc.code)
			})
			_, err := b.client(t).Complete(forTenant("acme"), triageRequest())
			requireClean(t, err)
			require.Len(t, b.requests(), 1, "not retried")
			var apiErr *llm.APIError
			require.ErrorAs(t, err, &apiErr)
			require.Equal(t, tc.status, apiErr.StatusCode)
			require.Equal(t, tc.code, apiErr.Code)
			require.Equal(t, "invalid_request_error", apiErr.Type)
			require.Contains(t, err.Error(), strings.Split(tc.message, testKey)[0])
		})
	}
}

func TestCompleteTenantKeyRedacted(t *testing.T) {
	t.Parallel()
	const tenantKey = "sk-tenant-0123456789abcdef"
	b := setup(t, func(w http.ResponseWriter, r *http.Request, _ int, _ wireRequest) {
		apiError(w, http.StatusUnauthorized, "bad key "+strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), "", "invalid_api_key")
	})
	c := b.client(t, func(c *llm.Config) {
		c.Tenants = map[tenant.ID]llm.TenantConfig{"globex": {APIKey: tenantKey}}
	})
	_, err := c.Complete(forTenant("globex"), triageRequest())
	requireClean(t, err)
	require.NotContains(t, err.Error(), tenantKey)
	require.Contains(t, err.Error(), "bad key [redacted]")
}

func TestCompleteTimeoutRetriedThenFails(t *testing.T) {
	t.Parallel()
	b := setup(t, func(_ http.ResponseWriter, r *http.Request, _ int, _ wireRequest) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	c := b.client(t, func(c *llm.Config) {
		c.Timeout = 50 * time.Millisecond
		c.MaxRetries = 2
	})
	start := time.Now()
	_, err := c.Complete(forTenant("acme"), triageRequest())
	requireClean(t, err)
	require.Less(t, time.Since(start), 2*time.Second)
	require.ErrorIs(t, err, llm.ErrTimeout)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Contains(t, err.Error(), "3 attempt(s)")
	require.Len(t, b.requests(), 3)
}

func TestCompleteConnectionErrorRetried(t *testing.T) {
	t.Parallel()
	b := setup(t, func(w http.ResponseWriter, _ *http.Request, call int, req wireRequest) {
		if call == 1 {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
			return
		}
		answer(w, req.Model, goodAnswer, "stop")
	})
	resp, err := b.client(t).Complete(forTenant("acme"), triageRequest())
	require.NoError(t, err)
	require.Equal(t, 2, resp.Attempts)
}

func TestCompleteBadResponses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body, want string
	}{
		{"no choices", `{"object":"chat.completion","model":"m","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":0,"total_tokens":1}}`, "no choices"},
		{"not json", `<html>gateway</html>`, "bad chat completions response"},
		{"too large", `{"object":"chat.completion","model":"` + strings.Repeat("m", 4096) + `","choices":[]}`, "larger than 1024 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, func(w http.ResponseWriter, _ *http.Request, _ int, _ wireRequest) {
				_, _ = w.Write([]byte(tc.body))
			})
			_, err := b.client(t, func(c *llm.Config) { c.MaxResponseBytes = 1024 }).Complete(forTenant("acme"), triageRequest())
			requireClean(t, err)
			require.ErrorIs(t, err, llm.ErrBadResponse)
			require.Contains(t, err.Error(), tc.want)
			require.Len(t, b.requests(), 1, "not retried")
		})
	}
}

// slowServer answers a request whose last message is "slow" only when
// release is closed, and every other request at once. started receives one
// value per slow request that arrived.
func slowServer(t *testing.T) (b *bundle, started chan struct{}, release chan struct{}) {
	started = make(chan struct{}, 10)
	release = make(chan struct{})
	b = setup(t, func(w http.ResponseWriter, r *http.Request, _ int, req wireRequest) {
		if req.Messages[len(req.Messages)-1].Content == "slow" {
			started <- struct{}{}
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
		}
		answer(w, req.Model, goodAnswer, "stop")
	})
	return b, started, release
}

func message(content string) llm.Request {
	return llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: content}}}
}

func TestCompleteTenantBoundReturnsBusy(t *testing.T) {
	t.Parallel()
	b, started, release := slowServer(t)
	c := b.client(t, func(c *llm.Config) {
		c.MaxConcurrentPerTenant = 1
		c.MaxQueueWait = 20 * time.Millisecond
	})

	first := make(chan error, 1)
	go func() {
		_, err := c.Complete(forTenant("acme"), message("slow"))
		first <- err
	}()
	<-started

	// acme's only slot is taken: its next call fails fast instead of
	// queueing behind the slow one.
	start := time.Now()
	_, err := c.Complete(forTenant("acme"), message("fast"))
	require.ErrorIs(t, err, llm.ErrBusy)
	require.Contains(t, err.Error(), `tenant "acme"`)
	require.Less(t, time.Since(start), 500*time.Millisecond)

	// Another tenant is not held up by acme's burst.
	resp, err := c.Complete(forTenant("globex"), message("fast"))
	require.NoError(t, err)
	require.Equal(t, goodAnswer, resp.Content)

	close(release)
	require.NoError(t, <-first)

	// The slot is free again.
	_, err = c.Complete(forTenant("acme"), message("fast"))
	require.NoError(t, err)
	require.Len(t, b.requests(), 3, "the busy call sent nothing")
}

func TestCompleteTenantBoundWaitsBriefly(t *testing.T) {
	t.Parallel()
	b, started, release := slowServer(t)
	c := b.client(t, func(c *llm.Config) {
		c.Tenants = map[tenant.ID]llm.TenantConfig{"acme": {MaxConcurrent: 1}}
		c.MaxQueueWait = 5 * time.Second
	})
	first := make(chan error, 1)
	go func() {
		_, err := c.Complete(forTenant("acme"), message("slow"))
		first <- err
	}()
	<-started
	go func() {
		time.Sleep(50 * time.Millisecond)
		close(release)
	}()
	// The second call waits for the first's slot rather than failing.
	_, err := c.Complete(forTenant("acme"), message("fast"))
	require.NoError(t, err)
	require.NoError(t, <-first)
}

func TestCompleteTenantBoundWaitRespectsContext(t *testing.T) {
	t.Parallel()
	b, started, release := slowServer(t)
	defer close(release)
	c := b.client(t, func(c *llm.Config) {
		c.MaxConcurrentPerTenant = 1
		c.MaxQueueWait = 10 * time.Second
	})
	go func() { _, _ = c.Complete(forTenant("acme"), message("slow")) }()
	<-started
	ctx, cancel := context.WithTimeout(forTenant("acme"), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Complete(ctx, message("fast"))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NotErrorIs(t, err, llm.ErrBusy)
	require.Less(t, time.Since(start), time.Second)
}

func TestCompleteUsageRecordedPerTenant(t *testing.T) {
	t.Parallel()
	b := setup(t, ok(goodAnswer))
	m := newMeter()
	c := b.client(t, func(c *llm.Config) { c.Meter = m })
	for _, id := range []string{"acme", "acme", "globex"} {
		_, err := c.Complete(forTenant(id), triageRequest())
		require.NoError(t, err)
	}
	want := llm.Usage{PromptTokens: 120, CompletionTokens: 30, TotalTokens: 150}
	require.Equal(t, []llm.Usage{want, want}, m.recorded("acme"))
	require.Equal(t, []llm.Usage{want}, m.recorded("globex"))
}

func TestCompleteUsageTotalFilledIn(t *testing.T) {
	t.Parallel()
	// Some servers report the parts but no total.
	b := setup(t, func(w http.ResponseWriter, _ *http.Request, _ int, _ wireRequest) {
		_, _ = w.Write([]byte(`{"object":"chat.completion","model":"llama3.1:8b","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":7,"completion_tokens":2}}`))
	})
	resp, err := b.client(t).Complete(forTenant("acme"), message("hi"))
	require.NoError(t, err)
	require.Equal(t, llm.Usage{PromptTokens: 7, CompletionTokens: 2, TotalTokens: 9}, resp.Usage)
}

func TestCompleteBudgetSpent(t *testing.T) {
	t.Parallel()
	b := setup(t, ok(goodAnswer))
	m := newMeter()
	m.deny["acme"] = true
	c := b.client(t, func(c *llm.Config) { c.Meter = m })
	_, err := c.Complete(forTenant("acme"), triageRequest())
	requireClean(t, err)
	require.ErrorIs(t, err, llm.ErrBudget)
	require.Contains(t, err.Error(), "monthly budget")
	require.Empty(t, b.requests(), "nothing sent")

	_, err = c.Complete(forTenant("globex"), triageRequest())
	require.NoError(t, err)
}

func TestCompleteCancelDuringBackoff(t *testing.T) {
	t.Parallel()
	hit := make(chan struct{}, 10)
	b := setup(t, func(w http.ResponseWriter, _ *http.Request, _ int, _ wireRequest) {
		apiError(w, http.StatusInternalServerError, "boom", "server_error", "")
		hit <- struct{}{}
	})
	c := b.client(t, func(c *llm.Config) {
		c.InitialBackoff = 10 * time.Second
		c.MaxBackoff = 10 * time.Second
	})
	ctx, cancel := context.WithCancel(forTenant("acme"))
	go func() {
		<-hit
		time.Sleep(20 * time.Millisecond) // into the backoff
		cancel()
	}()
	start := time.Now()
	_, err := c.Complete(ctx, triageRequest())
	requireClean(t, err)
	require.Less(t, time.Since(start), time.Second, "returned promptly")
	require.ErrorIs(t, err, context.Canceled)
	require.Len(t, b.requests(), 1)
}

func TestCompleteCancelDuringRequest(t *testing.T) {
	t.Parallel()
	b := setup(t, func(_ http.ResponseWriter, r *http.Request, _ int, _ wireRequest) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	ctx, cancel := context.WithTimeout(forTenant("acme"), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := b.client(t).Complete(ctx, triageRequest())
	requireClean(t, err)
	require.Less(t, time.Since(start), time.Second, "returned promptly")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NotErrorIs(t, err, llm.ErrTimeout, "the caller's deadline, not the request's")
	require.Len(t, b.requests(), 1, "not retried")
}

func TestCompleteNeedsTenant(t *testing.T) {
	t.Parallel()
	b := setup(t, ok(goodAnswer))
	_, err := b.client(t).Complete(context.Background(), triageRequest())
	require.ErrorContains(t, err, "no verified tenant")
	require.Empty(t, b.requests())
}

func TestCompleteBadRequests(t *testing.T) {
	t.Parallel()
	b := setup(t, ok(goodAnswer))
	c := b.client(t)
	for _, tc := range []struct {
		name string
		req  llm.Request
		want string
	}{
		{"no messages", llm.Request{}, "no messages"},
		{"unknown role", llm.Request{Messages: []llm.Message{{Role: "tool", Content: promptText}}}, `unknown role "tool"`},
		{"negative max tokens", llm.Request{Messages: []llm.Message{{Role: llm.RoleUser}}, MaxTokens: -1}, "max tokens -1"},
		{"temperature", llm.Request{Messages: []llm.Message{{Role: llm.RoleUser}}, Temperature: new(3.0)}, "temperature 3"},
	} {
		_, err := c.Complete(forTenant("acme"), tc.req)
		requireClean(t, err)
		require.Contains(t, err.Error(), tc.want, tc.name)
	}
	require.Empty(t, b.requests())
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	good := llm.Config{BaseURL: "https://api.openai.com/v1", APIKey: testKey, Model: "gpt-4o-mini"}
	require.NoError(t, good.Validate())
	for _, tc := range []struct {
		name string
		mod  func(*llm.Config)
		want string
	}{
		{"no base URL", func(c *llm.Config) { c.BaseURL = "" }, "base URL is required"},
		{"bad scheme", func(c *llm.Config) { c.BaseURL = "ftp://example.com/v1" }, "must be http or https"},
		{"no host", func(c *llm.Config) { c.BaseURL = "http:///v1" }, "has no host"},
		{"query", func(c *llm.Config) { c.BaseURL = "http://localhost:11434/v1?x=1" }, "query or fragment"},
		{"credentials in URL", func(c *llm.Config) { c.BaseURL = "https://user:" + testKey + "@litellm.internal/v1" }, "must not carry credentials"},
		{"key with space", func(c *llm.Config) { c.APIKey = testKey + " \n" }, "API key must be printable"},
		{"no model", func(c *llm.Config) { c.Model = " " }, "model is required"},
		{"negative timeout", func(c *llm.Config) { c.Timeout = -time.Second }, "timeout -1s"},
		{"negative initial backoff", func(c *llm.Config) { c.InitialBackoff = -time.Second }, "initial backoff -1s"},
		{"negative max backoff", func(c *llm.Config) { c.MaxBackoff = -time.Second }, "max backoff -1s"},
		{"initial above max", func(c *llm.Config) { c.InitialBackoff = time.Second; c.MaxBackoff = time.Millisecond }, "must not exceed max backoff"},
		{"negative max retry-after", func(c *llm.Config) { c.MaxRetryAfter = -time.Second }, "max retry-after -1s"},
		{"negative concurrency", func(c *llm.Config) { c.MaxConcurrentPerTenant = -1 }, "max concurrent per tenant -1"},
		{"negative max tokens", func(c *llm.Config) { c.MaxTokens = -1 }, "max tokens -1"},
		{"negative response cap", func(c *llm.Config) { c.MaxResponseBytes = -1 }, "max response bytes -1"},
		{"temperature", func(c *llm.Config) { c.Temperature = new(2.5) }, "temperature 2.5"},
		{"bad tenant ID", func(c *llm.Config) { c.Tenants = map[tenant.ID]llm.TenantConfig{"Acme Corp": {}} }, "tenant id"},
		{"tenant key", func(c *llm.Config) {
			c.Tenants = map[tenant.ID]llm.TenantConfig{"acme": {APIKey: testKey + " "}}
		}, `tenant "acme": API key must be printable`},
		{"tenant blank model", func(c *llm.Config) { c.Tenants = map[tenant.ID]llm.TenantConfig{"acme": {Model: " "}} }, `tenant "acme": model must not be blank`},
		{"tenant timeout", func(c *llm.Config) { c.Tenants = map[tenant.ID]llm.TenantConfig{"acme": {Timeout: -time.Second}} }, `tenant "acme": timeout -1s`},
		{"tenant max tokens", func(c *llm.Config) { c.Tenants = map[tenant.ID]llm.TenantConfig{"acme": {MaxTokens: -5}} }, `tenant "acme": max tokens -5`},
		{"tenant concurrency", func(c *llm.Config) { c.Tenants = map[tenant.ID]llm.TenantConfig{"acme": {MaxConcurrent: -2}} }, `tenant "acme": max concurrent -2`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := good
			tc.mod(&cfg)
			err := cfg.Validate()
			requireClean(t, err)
			require.Contains(t, err.Error(), tc.want)
			c, err := llm.New(cfg)
			require.Error(t, err)
			require.Nil(t, c)
		})
	}
}

// ExampleCompleteJSON shows the reasoning plane's use: ask for a verdict
// and fall back to rules, recording why, when the model cannot give one.
func ExampleCompleteJSON() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		answer(w, "gpt-4o-mini", "I think it is sev2.", "stop")
	}))
	defer srv.Close()
	c, err := llm.New(llm.Config{BaseURL: srv.URL + "/v1", Model: "gpt-4o-mini"})
	if err != nil {
		panic(err)
	}
	var verdict triage
	_, err = llm.CompleteJSON(forTenant("acme"), c, triageRequest(), &verdict)
	switch {
	case err == nil:
		fmt.Println("severity", verdict.Severity)
	case errors.Is(err, llm.ErrMalformed), errors.Is(err, llm.ErrSchema), errors.Is(err, llm.ErrRefused),
		errors.Is(err, llm.ErrTimeout), errors.Is(err, llm.ErrBusy), errors.Is(err, llm.ErrBudget):
		fmt.Println("falling back to rules:", errors.Is(err, llm.ErrMalformed))
	}
	// Output: falling back to rules: true
}
