package llm

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/alexus-platform/alexus/internal/tenant"
)

// Defaults of Config, used where a field is zero.
const (
	// DefaultTimeout bounds one request, not a whole Complete call. Chat
	// completions are slow next to embeddings, so it is generous.
	DefaultTimeout = 60 * time.Second
	// DefaultMaxRetries is how many times a failed request is retried. It
	// is lower than the embedder's: a caller of the reasoning plane has a
	// rule-based fallback and would rather use it than wait.
	DefaultMaxRetries = 2
	// DefaultInitialBackoff is the first wait between attempts, before
	// jitter.
	DefaultInitialBackoff = 500 * time.Millisecond
	// DefaultMaxBackoff caps the exponential wait between attempts.
	DefaultMaxBackoff = 10 * time.Second
	// DefaultMaxRetryAfter caps the wait a server asks for with
	// Retry-After, so a rate-limited provider cannot stall a caller for
	// minutes.
	DefaultMaxRetryAfter = 30 * time.Second
	// DefaultMaxConcurrentPerTenant is how many calls of one tenant may be
	// in flight at once.
	DefaultMaxConcurrentPerTenant = 4
	// DefaultMaxQueueWait is how long a call waits for one of its tenant's
	// slots before it fails with ErrBusy.
	DefaultMaxQueueWait = 100 * time.Millisecond
	// DefaultMaxTokens caps the completion tokens of one call.
	DefaultMaxTokens = 1024
	// DefaultMaxResponseBytes caps the size of a response body.
	DefaultMaxResponseBytes = 1 << 20
)

// Config configures a Client. Zero values of the optional fields take the
// defaults above.
type Config struct {
	// BaseURL is the API root that "/chat/completions" is appended to,
	// e.g. https://api.openai.com/v1, a LiteLLM proxy, vLLM's
	// http://host:8000/v1 or Ollama's http://localhost:11434/v1. It must
	// not carry credentials, a query or a fragment.
	BaseURL string
	// APIKey, if set, is sent as "Authorization: Bearer <key>". It never
	// appears in an error.
	APIKey string
	// Model names the chat model, e.g. gpt-4o-mini or llama3.1:8b.
	Model string
	// Timeout bounds each request, including reading its response
	// (default 60s). The caller's context bounds the whole call.
	Timeout time.Duration
	// MaxRetries is how many times a request is retried after a 408, 429,
	// 5xx, timeout or connection error (default 2 when zero; negative for
	// no retries).
	MaxRetries int
	// InitialBackoff is the first wait between attempts; each later wait
	// doubles, up to MaxBackoff, with ±50% jitter (default 500ms).
	InitialBackoff time.Duration
	// MaxBackoff caps the exponential wait (default 10s).
	MaxBackoff time.Duration
	// MaxRetryAfter caps the wait a 429 or 5xx response asks for with
	// Retry-After or retry-after-ms (default 30s).
	MaxRetryAfter time.Duration
	// MaxConcurrentPerTenant is how many calls of one tenant may be in
	// flight at once, retries and backoff included (default 4).
	MaxConcurrentPerTenant int
	// MaxQueueWait is how long a call waits for a slot when all of its
	// tenant's are taken before failing with ErrBusy (default 100ms;
	// negative for no wait at all).
	MaxQueueWait time.Duration
	// MaxTokens caps the completion tokens of one call (default 1024). A
	// Request may ask for fewer, never for more.
	MaxTokens int
	// UseMaxCompletionTokens sends the cap as "max_completion_tokens", which
	// OpenAI's reasoning models require, instead of "max_tokens", which
	// every compatible server accepts.
	UseMaxCompletionTokens bool
	// Temperature, if set, is sent with every request unless the Request
	// sets its own; nil leaves it to the server (some reasoning models
	// reject any value but their default).
	Temperature *float64
	// JSONMode sends every schema request with response_format
	// {"type":"json_object"} instead of {"type":"json_schema"}, for servers
	// without structured outputs. The schema is still checked locally.
	JSONMode bool
	// MaxResponseBytes caps the size of a response body (default 1 MiB).
	MaxResponseBytes int64
	// Tenants overrides settings per tenant; a zero field of a TenantConfig
	// takes the value above.
	Tenants map[tenant.ID]TenantConfig
	// Meter, if set, is told the tokens used by every call that got an
	// answer. If it also implements Budgeter, it is asked before each call.
	Meter Meter
	// HTTPClient sends the requests (default: a client on
	// http.DefaultTransport). Its own Timeout, if any, also applies.
	HTTPClient *http.Client
}

// TenantConfig overrides a Config for one tenant. Zero fields inherit.
type TenantConfig struct {
	// Model replaces Config.Model, e.g. for a tenant on a larger model.
	Model string
	// APIKey replaces Config.APIKey, e.g. a LiteLLM virtual key that
	// carries the tenant's spend limits. It never appears in an error.
	APIKey string
	// Timeout replaces Config.Timeout.
	Timeout time.Duration
	// MaxTokens replaces Config.MaxTokens: the tenant's per-call budget.
	MaxTokens int
	// MaxConcurrent replaces Config.MaxConcurrentPerTenant.
	MaxConcurrent int
}

// Validate names the first bad field. Zero optional fields are valid: they
// take their defaults.
func (c Config) Validate() error {
	if c.BaseURL == "" {
		return errors.New("llm: base URL is required")
	}
	u, err := url.Parse(c.BaseURL)
	switch {
	case err != nil:
		// url.Parse's error quotes the URL, which may hold credentials.
		return errors.New("llm: base URL is not a valid URL")
	case u.User != nil:
		return errors.New("llm: base URL must not carry credentials; set the API key instead")
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("llm: base URL %q must be http or https", c.BaseURL)
	case u.Host == "":
		return fmt.Errorf("llm: base URL %q has no host", c.BaseURL)
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("llm: base URL %q must not have a query or fragment", c.BaseURL)
	}
	if err := validateKey(c.APIKey); err != nil {
		return fmt.Errorf("llm: %w", err)
	}
	d := c.withDefaults()
	switch {
	case strings.TrimSpace(c.Model) == "":
		return errors.New("llm: model is required")
	case c.Timeout < 0:
		return fmt.Errorf("llm: timeout %s must not be negative", c.Timeout)
	case c.InitialBackoff < 0:
		return fmt.Errorf("llm: initial backoff %s must not be negative", c.InitialBackoff)
	case c.MaxBackoff < 0:
		return fmt.Errorf("llm: max backoff %s must not be negative", c.MaxBackoff)
	case d.InitialBackoff > d.MaxBackoff:
		return fmt.Errorf("llm: initial backoff %s must not exceed max backoff %s", d.InitialBackoff, d.MaxBackoff)
	case c.MaxRetryAfter < 0:
		return fmt.Errorf("llm: max retry-after %s must not be negative", c.MaxRetryAfter)
	case c.MaxConcurrentPerTenant < 0:
		return fmt.Errorf("llm: max concurrent per tenant %d must not be negative", c.MaxConcurrentPerTenant)
	case c.MaxTokens < 0:
		return fmt.Errorf("llm: max tokens %d must not be negative", c.MaxTokens)
	case c.MaxResponseBytes < 0:
		return fmt.Errorf("llm: max response bytes %d must not be negative", c.MaxResponseBytes)
	}
	if err := validateTemperature(c.Temperature); err != nil {
		return fmt.Errorf("llm: %w", err)
	}
	// Sorted, so the same bad config always names the same tenant.
	for _, id := range slices.Sorted(maps.Keys(c.Tenants)) {
		if err := c.Tenants[id].validate(id); err != nil {
			return err
		}
	}
	return nil
}

func (t TenantConfig) validate(id tenant.ID) error {
	if _, err := tenant.Parse(string(id)); err != nil {
		return fmt.Errorf("llm: tenants: %w", err)
	}
	if err := validateKey(t.APIKey); err != nil {
		return fmt.Errorf("llm: tenant %q: %w", id, err)
	}
	switch {
	case t.Model != "" && strings.TrimSpace(t.Model) == "":
		return fmt.Errorf("llm: tenant %q: model must not be blank", id)
	case t.Timeout < 0:
		return fmt.Errorf("llm: tenant %q: timeout %s must not be negative", id, t.Timeout)
	case t.MaxTokens < 0:
		return fmt.Errorf("llm: tenant %q: max tokens %d must not be negative", id, t.MaxTokens)
	case t.MaxConcurrent < 0:
		return fmt.Errorf("llm: tenant %q: max concurrent %d must not be negative", id, t.MaxConcurrent)
	}
	return nil
}

func validateKey(key string) error {
	for _, r := range key {
		if r <= ' ' || r >= 0x7f {
			return errors.New("API key must be printable ASCII without spaces")
		}
	}
	return nil
}

// validateTemperature accepts the range OpenAI documents; other servers
// accept the same or less.
func validateTemperature(t *float64) error {
	if t != nil && !(*t >= 0 && *t <= 2) {
		return fmt.Errorf("temperature %v must be between 0 and 2", *t)
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	switch {
	case c.MaxRetries == 0:
		c.MaxRetries = DefaultMaxRetries
	case c.MaxRetries < 0:
		c.MaxRetries = 0
	}
	if c.InitialBackoff == 0 {
		c.InitialBackoff = DefaultInitialBackoff
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = max(DefaultMaxBackoff, c.InitialBackoff)
	}
	if c.MaxRetryAfter == 0 {
		c.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if c.MaxConcurrentPerTenant == 0 {
		c.MaxConcurrentPerTenant = DefaultMaxConcurrentPerTenant
	}
	switch {
	case c.MaxQueueWait == 0:
		c.MaxQueueWait = DefaultMaxQueueWait
	case c.MaxQueueWait < 0:
		c.MaxQueueWait = 0
	}
	if c.MaxTokens == 0 {
		c.MaxTokens = DefaultMaxTokens
	}
	if c.MaxResponseBytes == 0 {
		c.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{}
	}
	return c
}

// settings are the effective values for one tenant.
type settings struct {
	model         string
	apiKey        string
	timeout       time.Duration
	maxTokens     int
	maxConcurrent int
}

// settingsFor merges the tenant's overrides into the defaulted config.
func (c Config) settingsFor(id tenant.ID) settings {
	s := settings{
		model:         c.Model,
		apiKey:        c.APIKey,
		timeout:       c.Timeout,
		maxTokens:     c.MaxTokens,
		maxConcurrent: c.MaxConcurrentPerTenant,
	}
	t, ok := c.Tenants[id]
	if !ok {
		return s
	}
	if t.Model != "" {
		s.model = t.Model
	}
	if t.APIKey != "" {
		s.apiKey = t.APIKey
	}
	if t.Timeout != 0 {
		s.timeout = t.Timeout
	}
	if t.MaxTokens != 0 {
		s.maxTokens = t.MaxTokens
	}
	if t.MaxConcurrent != 0 {
		s.maxConcurrent = t.MaxConcurrent
	}
	return s
}

// with applies a Request's own Model, APIKey and Timeout over s. On a bad
// value it returns s unchanged and an error that names the field but never
// the key.
func (s settings) with(req Request) (settings, error) {
	if err := validateKey(req.APIKey); err != nil {
		return s, fmt.Errorf("request: %w", err)
	}
	switch {
	case req.Model != "" && strings.TrimSpace(req.Model) == "":
		return s, errors.New("request: model must not be blank")
	case req.Timeout < 0:
		return s, fmt.Errorf("request: timeout %s must not be negative", req.Timeout)
	}
	if req.Model != "" {
		s.model = req.Model
	}
	if req.APIKey != "" {
		s.apiKey = req.APIKey
	}
	if req.Timeout != 0 {
		s.timeout = req.Timeout
	}
	return s, nil
}
