// Package ticketapi holds what the Jira and ServiceNow clients do the same
// way: one attempt of a JSON call with the tenant's credentials, the retry
// policy around it (internal/openaiapi's backoff and Retry-After
// handling, so every outbound client of Alexus retries alike), the
// mapping of a response to the errors of internal/ticket, and FindOrCreate,
// which makes creating a ticket idempotent at the remote end.
//
// Credentials stay in the Authorization header: errors never quote it,
// and a remote message that echoes a secret has it redacted.
package ticketapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/alexus-platform/alexus/internal/openaiapi"
	"github.com/alexus-platform/alexus/internal/ticket"
)

// Defaults of Options, used where a field is zero.
const (
	// DefaultTimeout bounds one attempt, including reading the response.
	DefaultTimeout = 15 * time.Second
	// DefaultMaxRetries is how many times a failed attempt is retried.
	DefaultMaxRetries = 3
	// DefaultInitialBackoff is the first wait between attempts. It is a
	// second rather than less because Jira's search index trails a
	// create: the search before a retried create must give it time.
	DefaultInitialBackoff = time.Second
	// DefaultMaxBackoff caps the exponential wait between attempts.
	DefaultMaxBackoff = 15 * time.Second
	// DefaultMaxRetryAfter caps the wait a 429 or 5xx asks for.
	DefaultMaxRetryAfter = time.Minute
	// DefaultMaxResponseBytes caps the size of a response body.
	DefaultMaxResponseBytes = 4 << 20
)

// Options are the knobs of the retry policy and transport, shared by the
// Jira and ServiceNow configurations (which embed them). Zero fields take
// the defaults above.
type Options struct {
	// Timeout bounds each attempt (default 15s). The caller's context
	// bounds the whole call.
	Timeout time.Duration
	// MaxRetries is how many times an attempt is retried after a 408,
	// 429, 5xx, timeout or broken connection (default 3; negative for
	// none).
	MaxRetries int
	// InitialBackoff is the first wait between attempts; later waits
	// double up to MaxBackoff, with ±50% jitter (default 1s).
	InitialBackoff time.Duration
	// MaxBackoff caps the exponential wait (default 15s).
	MaxBackoff time.Duration
	// MaxRetryAfter caps the wait a response asks for with Retry-After
	// (default 1m).
	MaxRetryAfter time.Duration
	// MaxResponseBytes caps a response body (default 4 MiB).
	MaxResponseBytes int64
	// HTTPClient sends the requests (default: a client on
	// http.DefaultTransport). The action plane passes one whose dialer
	// applies internal/egress.
	HTTPClient *http.Client
	// OnRetry, when set, is told of every retry before its wait: the
	// failed attempt's error and how long the call waits (the server's
	// Retry-After, capped, or the backoff). Tests read the waits from it
	// instead of timing the call.
	OnRetry func(err error, wait time.Duration)
}

// WithDefaults fills the zero fields.
func (o Options) WithDefaults() Options {
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = DefaultMaxRetries
	}
	if o.MaxRetries < 0 {
		o.MaxRetries = 0
	}
	if o.InitialBackoff == 0 {
		o.InitialBackoff = DefaultInitialBackoff
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.MaxRetryAfter == 0 {
		o.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if o.MaxResponseBytes == 0 {
		o.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Transport: http.DefaultTransport}
	}
	return o
}

// Validate names the first bad field.
func (o Options) Validate() error {
	d := o.WithDefaults()
	switch {
	case o.Timeout < 0:
		return fmt.Errorf("timeout %s must not be negative", o.Timeout)
	case o.InitialBackoff < 0:
		return fmt.Errorf("initial backoff %s must not be negative", o.InitialBackoff)
	case o.MaxBackoff < 0:
		return fmt.Errorf("max backoff %s must not be negative", o.MaxBackoff)
	case d.InitialBackoff > d.MaxBackoff:
		return fmt.Errorf("initial backoff %s must not exceed max backoff %s", d.InitialBackoff, d.MaxBackoff)
	case o.MaxRetryAfter < 0:
		return fmt.Errorf("max retry-after %s must not be negative", o.MaxRetryAfter)
	case o.MaxResponseBytes < 0:
		return fmt.Errorf("max response bytes %d must not be negative", o.MaxResponseBytes)
	}
	return nil
}

// ParseBaseURL checks a remote's base URL: http or https, a host, no
// credentials, query or fragment. Its errors never quote a URL that may
// hold credentials.
func ParseBaseURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("base URL is required")
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		// url.Parse's error quotes the URL, which may hold credentials.
		return nil, errors.New("base URL is not a valid URL")
	case u.User != nil:
		return nil, errors.New("base URL must not carry credentials; set them in their own fields")
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("base URL %q must be http or https", raw)
	case u.Host == "":
		return nil, fmt.Errorf("base URL %q has no host", raw)
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("base URL %q must not have a query or fragment", raw)
	}
	return u, nil
}

// Config configures a Caller.
type Config struct {
	// System names the remote in errors: "jira" or "servicenow".
	System string
	// BaseURL is the checked root the request paths are joined to.
	BaseURL *url.URL
	// Authorization is the Authorization header sent with every request
	// (Basic or Bearer). It never appears in an error.
	Authorization string
	// Secrets are redacted from every message a remote sends back
	// (the token, the password), beside Authorization's credentials.
	Secrets []string
	// ErrorMessage reads the remote's message from an error body; nil
	// keeps none.
	ErrorMessage func(body []byte) string
	Options
}

// Caller makes JSON calls to one tenant's remote.
type Caller struct {
	cfg     Config
	secrets []string
}

// New returns a Caller for cfg, with Options' defaults filled.
func New(cfg Config) *Caller {
	cfg.Options = cfg.Options.WithDefaults()
	secrets := append([]string(nil), cfg.Secrets...)
	if _, cred, ok := cutScheme(cfg.Authorization); ok {
		secrets = append(secrets, cred)
	}
	return &Caller{cfg: cfg, secrets: secrets}
}

// Credentials are a tenant's credentials for its remote: a bearer token,
// or else a user and a secret (an API token, a password) sent as Basic.
type Credentials struct {
	User, Secret string
	BearerToken  string
}

// Authorization is the Authorization header the credentials make.
func (c Credentials) Authorization() string {
	if c.BearerToken != "" {
		return "Bearer " + c.BearerToken
	}
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(c.User+":"+c.Secret))
}

// NewClient returns a Caller for a client of system at baseURL, which
// the client's Config.Validate has checked with ParseBaseURL. It sends
// cred's Authorization and redacts the secret and the bearer token from
// remote messages; errorMessage reads the remote's error bodies.
func NewClient(system, baseURL string, cred Credentials, errorMessage func(body []byte) string, opts Options) *Caller {
	base, _ := ParseBaseURL(baseURL)
	return New(Config{
		System:        system,
		BaseURL:       base,
		Authorization: cred.Authorization(),
		Secrets:       []string{cred.Secret, cred.BearerToken},
		ErrorMessage:  errorMessage,
		Options:       opts,
	})
}

func cutScheme(h string) (string, string, bool) {
	for i := 0; i < len(h); i++ {
		if h[i] == ' ' {
			return h[:i], h[i+1:], h[i+1:] != ""
		}
	}
	return "", "", false
}

// Request is one JSON call.
type Request struct {
	// Method is the HTTP method.
	Method string
	// Path is joined to the base URL, unescaped (e.g.
	// "rest/api/3/issue/OPS-1/comment"); callers check the keys they put
	// into it.
	Path string
	// Query is the request's query string.
	Query url.Values
	// Body, when not nil, is sent as JSON.
	Body any
	// Out, when not nil, receives a 2xx response's JSON body.
	Out any
}

func (r Request) String() string { return r.Method + " /" + r.Path }

// Do makes r with the retry policy: a 408, 429, 5xx, timeout or broken
// connection is retried up to MaxRetries times, after the wait the
// response asks for with Retry-After or else exponential backoff. It must
// only be used for calls that are safe to repeat (reads, PATCHes that set
// fields, transitions guarded by a read); creation goes through
// FindOrCreate.
func (c *Caller) Do(ctx context.Context, r Request) error {
	attempts := 0
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		attempts++
		return struct{}{}, c.Once(ctx, r)
	}, c.retryOptions()...)
	if err != nil {
		return c.fail(r.String(), attempts, err)
	}
	return nil
}

// FindOrCreate returns the ticket find finds, or else the one Create
// makes, and whether this call made it (a ticket found again after a lost
// create response counts as made by this call).
func FindOrCreate[T any](ctx context.Context, c *Caller, find func(context.Context) (T, bool, error), create func(context.Context) (T, error)) (T, bool, error) {
	if t, ok, err := find(ctx); err != nil || ok {
		return t, false, err
	}
	t, err := Create(ctx, c, find, create)
	return t, err == nil, err
}

// Create runs create, retrying it with the policy. create must make
// one attempt (with Caller.Once). When an attempt fails in a way worth
// retrying — and a timeout or a 5xx may have come after the remote
// performed the write — find runs before the next attempt, so a lost
// response never yields a second ticket, comment or transition. find does
// its own retries; when it fails, create is not retried.
func Create[T any](ctx context.Context, c *Caller, find func(context.Context) (T, bool, error), create func(context.Context) (T, error)) (T, error) {
	var zero T
	attempts := 0
	t, err := backoff.Retry(ctx, func() (T, error) {
		if attempts > 0 {
			t, ok, err := find(ctx)
			if err != nil {
				return zero, backoff.Permanent(fmt.Errorf("looking for what an earlier attempt may have written: %w", err))
			}
			if ok {
				return t, nil
			}
		}
		attempts++
		return create(ctx)
	}, c.retryOptions()...)
	if err != nil {
		return zero, c.fail("write", attempts, err)
	}
	return t, nil
}

func (c *Caller) retryOptions() []backoff.RetryOption {
	opts := []backoff.RetryOption{
		backoff.WithBackOff(openaiapi.Backoff(c.cfg.InitialBackoff, c.cfg.MaxBackoff)),
		backoff.WithMaxTries(uint(c.cfg.MaxRetries) + 1),
		// MaxRetries and the caps on each wait bound the call; the
		// library's 15-minute default would be a second, hidden limit.
		backoff.WithMaxElapsedTime(0),
	}
	if c.cfg.OnRetry != nil {
		opts = append(opts, backoff.WithNotify(c.cfg.OnRetry))
	}
	return opts
}

// fail wraps the final error of a call with the system, call and
// attempts.
func (c *Caller) fail(what string, attempts int, err error) error {
	err = openaiapi.Unwrap(err)
	var perm *backoff.PermanentError
	if errors.As(err, &perm) {
		err = perm.Err
	}
	return fmt.Errorf("%s: %s, %d attempt(s): %w", c.cfg.System, what, attempts, err)
}

// Once makes one attempt of r. Its error is classified for backoff.Retry:
// worth retrying as it is (carrying the wait a response asked for), or
// wrapped in backoff.Permanent. Use Do unless the call is a create.
func (c *Caller) Once(ctx context.Context, r Request) error {
	var body io.Reader
	if r.Body != nil {
		b, err := json.Marshal(r.Body)
		if err != nil {
			return backoff.Permanent(fmt.Errorf("encoding request: %w", err))
		}
		body = bytes.NewReader(b)
	}
	u := c.cfg.BaseURL.JoinPath(r.Path)
	if len(r.Query) > 0 {
		u.RawQuery = r.Query.Encode()
	}
	rctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, r.Method, u.String(), body)
	if err != nil {
		return backoff.Permanent(fmt.Errorf("building request: %w", err))
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.cfg.Authorization != "" {
		req.Header.Set("Authorization", c.cfg.Authorization)
	}
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return openaiapi.TransportError(ctx, rctx, err, ticket.ErrTimeout, c.cfg.Timeout)
	}
	defer resp.Body.Close()

	limit := int64(openaiapi.MaxErrorBody)
	if resp.StatusCode/100 == 2 {
		limit = c.cfg.MaxResponseBytes
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return openaiapi.TransportError(ctx, rctx, err, ticket.ErrTimeout, c.cfg.Timeout)
	}
	if resp.StatusCode/100 != 2 {
		apiErr := &ticket.APIError{System: c.cfg.System, StatusCode: resp.StatusCode}
		if c.cfg.ErrorMessage != nil {
			apiErr.Message = openaiapi.Clip(openaiapi.Redact(c.cfg.ErrorMessage(data), c.secrets...), 300)
		}
		if !openaiapi.RetryableStatus(resp.StatusCode) {
			return backoff.Permanent(apiErr)
		}
		return openaiapi.Retry(apiErr, resp.Header, c.cfg.MaxRetryAfter)
	}
	if int64(len(data)) > limit {
		return backoff.Permanent(fmt.Errorf("%w: larger than %d bytes", ticket.ErrBadResponse, limit))
	}
	if r.Out != nil && len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, r.Out); err != nil {
			return backoff.Permanent(fmt.Errorf("%w: %w", ticket.ErrBadResponse, err))
		}
	}
	return nil
}
