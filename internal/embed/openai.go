package embed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/alexus-platform/alexus/internal/openaiapi"
)

// Defaults of OpenAIConfig, used where a field is zero.
const (
	// DefaultBatchSize is how many inputs go in one request.
	DefaultBatchSize = 64
	// DefaultTimeout bounds one request, not a whole Embed call.
	DefaultTimeout = 30 * time.Second
	// DefaultMaxRetries is how many times a failed request is retried.
	DefaultMaxRetries = 4
	// DefaultInitialBackoff is the first wait between attempts, before
	// jitter.
	DefaultInitialBackoff = 500 * time.Millisecond
	// DefaultMaxBackoff caps the exponential wait between attempts.
	DefaultMaxBackoff = 30 * time.Second
	// DefaultMaxRetryAfter caps the wait a server asks for with
	// Retry-After, so a rate-limited provider cannot stall a caller for
	// minutes.
	DefaultMaxRetryAfter = 60 * time.Second
)

// ErrDimension is returned (wrapped, naming the input and the lengths got
// and wanted) when the server returns a vector whose length is not the
// configured Dimension. The dimension is checked end to end: a model
// changed behind a proxy fails here, not later in the graph's index.
var ErrDimension = errors.New("embed: vector dimension mismatch")

// ErrBadResponse is returned (wrapped) when a successful response cannot
// be used: malformed JSON, a count of vectors other than the count of
// inputs, an index out of range or repeated, or a value that is NaN or
// infinite. It is not retried: the server answered, just not in a form
// this client understands.
var ErrBadResponse = errors.New("embed: bad embeddings response")

// ErrTimeout is returned (wrapped) when a request got no complete response
// within OpenAIConfig.Timeout; it is retried until MaxRetries is spent.
var ErrTimeout = errors.New("embed: embeddings request timed out")

// OpenAIConfig configures OpenAI. Zero values of the optional fields take
// the defaults above.
type OpenAIConfig struct {
	// BaseURL is the API root that "/embeddings" is appended to, e.g.
	// https://api.openai.com/v1, a LiteLLM proxy, vLLM's
	// http://host:8000/v1 or Ollama's http://localhost:11434/v1. It must
	// not carry credentials, a query or a fragment.
	BaseURL string
	// APIKey, if set, is sent as "Authorization: Bearer <key>". It never
	// appears in an error.
	APIKey string
	// Model names the embedding model, e.g. text-embedding-3-small.
	Model string
	// Dimension is the length every returned vector must have.
	Dimension int
	// SendDimensions sends Dimension as the request's "dimensions", for
	// models that can shorten their vectors (OpenAI's text-embedding-3-*).
	// Leave it false for models that reject the parameter.
	SendDimensions bool
	// BatchSize is the most inputs sent in one request (default 64).
	BatchSize int
	// Timeout bounds each request, including reading its response
	// (default 30s). The caller's context bounds the whole call.
	Timeout time.Duration
	// MaxRetries is how many times a request is retried after a 408, 429,
	// 5xx, timeout or connection error (default 4 when zero; negative for
	// no retries).
	MaxRetries int
	// InitialBackoff is the first wait between attempts; each later wait
	// doubles, up to MaxBackoff, with ±50% jitter (default 500ms).
	InitialBackoff time.Duration
	// MaxBackoff caps the exponential wait (default 30s).
	MaxBackoff time.Duration
	// MaxRetryAfter caps the wait a 429 or 5xx response asks for with
	// Retry-After or retry-after-ms (default 60s).
	MaxRetryAfter time.Duration
	// HTTPClient sends the requests (default: a client on
	// http.DefaultTransport). Its own Timeout, if any, also applies.
	HTTPClient *http.Client
}

// Validate names the first bad field. Zero optional fields are valid: they
// take their defaults.
func (c OpenAIConfig) Validate() error {
	if c.BaseURL == "" {
		return errors.New("openai embedder: base URL is required")
	}
	u, err := url.Parse(c.BaseURL)
	switch {
	case err != nil:
		// url.Parse's error quotes the URL, which may hold credentials.
		return errors.New("openai embedder: base URL is not a valid URL")
	case u.User != nil:
		return errors.New("openai embedder: base URL must not carry credentials; set the API key instead")
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("openai embedder: base URL %q must be http or https", c.BaseURL)
	case u.Host == "":
		return fmt.Errorf("openai embedder: base URL %q has no host", c.BaseURL)
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("openai embedder: base URL %q must not have a query or fragment", c.BaseURL)
	}
	for _, r := range c.APIKey {
		if r <= ' ' || r >= 0x7f {
			return errors.New("openai embedder: API key must be printable ASCII without spaces")
		}
	}
	d := c.withDefaults()
	switch {
	case strings.TrimSpace(c.Model) == "":
		return errors.New("openai embedder: model is required")
	case c.Dimension < 1:
		return fmt.Errorf("openai embedder: dimension %d must be at least 1", c.Dimension)
	case c.BatchSize < 0:
		return fmt.Errorf("openai embedder: batch size %d must not be negative", c.BatchSize)
	case c.Timeout < 0:
		return fmt.Errorf("openai embedder: timeout %s must not be negative", c.Timeout)
	case c.InitialBackoff < 0:
		return fmt.Errorf("openai embedder: initial backoff %s must not be negative", c.InitialBackoff)
	case c.MaxBackoff < 0:
		return fmt.Errorf("openai embedder: max backoff %s must not be negative", c.MaxBackoff)
	case d.InitialBackoff > d.MaxBackoff:
		return fmt.Errorf("openai embedder: initial backoff %s must not exceed max backoff %s", d.InitialBackoff, d.MaxBackoff)
	case c.MaxRetryAfter < 0:
		return fmt.Errorf("openai embedder: max retry-after %s must not be negative", c.MaxRetryAfter)
	}
	return nil
}

func (c OpenAIConfig) withDefaults() OpenAIConfig {
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
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
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{}
	}
	return c
}

// OpenAI is an Embedder over the OpenAI-compatible embeddings API: it
// splits inputs into batches, sends each with retries, exponential
// backoff and a per-request timeout, and checks that every input got one
// finite vector of the configured dimension. It is safe for concurrent
// use; batches of one call are sent one after another, so one caller never
// holds more than one request open.
type OpenAI struct {
	cfg      OpenAIConfig
	endpoint string
}

var _ Embedder = (*OpenAI)(nil)

// NewOpenAI validates cfg and returns a client. It makes no request.
func NewOpenAI(cfg OpenAIConfig) (*OpenAI, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &OpenAI{cfg: cfg, endpoint: strings.TrimRight(cfg.BaseURL, "/") + "/embeddings"}, nil
}

// Dimension implements Embedder.
func (o *OpenAI) Dimension() int { return o.cfg.Dimension }

// Model implements Embedder.
func (o *OpenAI) Model() string { return o.cfg.Model }

// Embed implements Embedder. On error no vectors are returned; the error
// names the failing batch by input positions, never by content.
func (o *OpenAI) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, 0, len(texts))
	for start := 0; start < len(texts); start += o.cfg.BatchSize {
		end := min(start+o.cfg.BatchSize, len(texts))
		if err := context.Cause(ctx); err != nil {
			return nil, fmt.Errorf("openai embedder: inputs %d-%d not sent: %w", start, end-1, err)
		}
		vecs, err := o.embedBatch(ctx, texts[start:end], start)
		if err != nil {
			return nil, err
		}
		out = append(out, vecs...)
	}
	return out, nil
}

type embeddingsRequest struct {
	Model          string   `json:"model"`
	Input          []string `json:"input"`
	EncodingFormat string   `json:"encoding_format"`
	Dimensions     int      `json:"dimensions,omitempty"`
}

// embedBatch sends one batch, retrying under the backoff policy; offset is
// the batch's first position in the caller's texts, for errors.
func (o *OpenAI) embedBatch(ctx context.Context, batch []string, offset int) ([][]float32, error) {
	req := embeddingsRequest{Model: o.cfg.Model, Input: batch, EncodingFormat: "float"}
	if o.cfg.SendDimensions {
		req.Dimensions = o.cfg.Dimension
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("openai embedder: encoding request: %w", err)
	}
	policy := openaiapi.Backoff(o.cfg.InitialBackoff, o.cfg.MaxBackoff)
	attempts := 0
	vecs, err := backoff.Retry(ctx, func() ([][]float32, error) {
		attempts++
		return o.post(ctx, body, len(batch), offset)
	},
		backoff.WithBackOff(policy),
		backoff.WithMaxTries(uint(o.cfg.MaxRetries)+1),
		// MaxRetries and the caps on each wait bound the call; the
		// library's default 15-minute budget would be a second, hidden
		// limit.
		backoff.WithMaxElapsedTime(0),
	)
	if err != nil {
		err = openaiapi.Unwrap(err)
		return nil, fmt.Errorf("openai embedder: model %q, inputs %d-%d, %d attempt(s): %w",
			o.cfg.Model, offset, offset+len(batch)-1, attempts, err)
	}
	return vecs, nil
}

// post makes one attempt. Errors worth retrying are returned as they are
// (with a retryAfterError when the server said how long to wait); the rest
// are wrapped in backoff.Permanent.
func (o *OpenAI) post(ctx context.Context, body []byte, n, offset int) ([][]float32, error) {
	rctx, cancel := context.WithTimeout(ctx, o.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, o.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, backoff.Permanent(fmt.Errorf("building request: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if o.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+o.cfg.APIKey)
	}
	resp, err := o.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, o.transportError(ctx, rctx, err)
	}
	defer resp.Body.Close()

	limit := int64(openaiapi.MaxErrorBody)
	if resp.StatusCode/100 == 2 {
		// Generous for JSON floats, yet a bound on a runaway response.
		limit = 1<<20 + int64(n)*int64(o.cfg.Dimension)*32
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, o.transportError(ctx, rctx, err)
	}
	if resp.StatusCode/100 != 2 {
		apiErr := openaiapi.ParseError(resp.StatusCode, data, o.cfg.APIKey)
		if !openaiapi.RetryableStatus(resp.StatusCode) {
			return nil, backoff.Permanent(apiErr)
		}
		return nil, openaiapi.Retry(apiErr, resp.Header, o.cfg.MaxRetryAfter)
	}
	if int64(len(data)) > limit {
		return nil, backoff.Permanent(fmt.Errorf("%w: larger than %d bytes", ErrBadResponse, limit))
	}
	vecs, err := decodeEmbeddings(data, n, o.cfg.Dimension, offset)
	if err != nil {
		return nil, backoff.Permanent(err)
	}
	return vecs, nil
}

// transportError classifies a failure to send or to read a response: the
// caller's cancellation and certificate errors are final; a timeout or a
// broken connection is worth another attempt.
func (o *OpenAI) transportError(ctx, rctx context.Context, err error) error {
	return openaiapi.TransportError(ctx, rctx, err, ErrTimeout, o.cfg.Timeout)
}

// APIError is a response with a non-2xx status; see openaiapi.APIError.
type APIError = openaiapi.APIError

type embeddingsResponse struct {
	Data []struct {
		Index     int       `json:"index"`
		Embedding []float32 `json:"embedding"`
	} `json:"data"`
}

// decodeEmbeddings parses a 2xx body into n vectors of dim, ordered by the
// API's index rather than by position; offset names inputs in errors.
func decodeEmbeddings(body []byte, n, dim, offset int) ([][]float32, error) {
	var resp embeddingsResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadResponse, err)
	}
	if len(resp.Data) != n {
		return nil, fmt.Errorf("%w: %d vectors for %d inputs", ErrBadResponse, len(resp.Data), n)
	}
	out := make([][]float32, n)
	for _, d := range resp.Data {
		switch {
		case d.Index < 0 || d.Index >= n:
			return nil, fmt.Errorf("%w: index %d out of range for %d inputs", ErrBadResponse, d.Index, n)
		case out[d.Index] != nil:
			return nil, fmt.Errorf("%w: index %d repeated", ErrBadResponse, d.Index)
		case len(d.Embedding) != dim:
			return nil, fmt.Errorf("%w: input %d: got %d, want %d", ErrDimension, offset+d.Index, len(d.Embedding), dim)
		}
		if x, ok := finite(d.Embedding); !ok {
			return nil, fmt.Errorf("%w: input %d: vector holds %v", ErrBadResponse, offset+d.Index, x)
		}
		out[d.Index] = d.Embedding
	}
	return out, nil
}

// finite reports whether every value of v is finite, and if not the first
// that is not. JSON cannot spell NaN or an infinity and encoding/json
// refuses a number beyond float32, so this guards against a decoder change
// rather than a server.
func finite(v []float32) (float32, bool) {
	for _, x := range v {
		if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) {
			return x, false
		}
	}
	return 0, true
}
