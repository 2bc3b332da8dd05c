package embed_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/embed"
	"github.com/alexus-platform/alexus/internal/embed/embedtest"
)

// testKey is the API key every test client sends; no error may contain it.
const testKey = "sk-test-5f0c2d9e8b7a41f3a6c1secret"

// inputPrefix starts every generated input; no error may contain it.
const inputPrefix = "confidential incident note"

const testDim = 64

// wireRequest is the OpenAI embeddings request as the fake server reads it.
type wireRequest struct {
	Model          string   `json:"model"`
	Input          []string `json:"input"`
	EncodingFormat string   `json:"encoding_format"`
	Dimensions     *int     `json:"dimensions"`
}

type wireDatum struct {
	Object    string    `json:"object"`
	Index     int       `json:"index"`
	Embedding []float32 `json:"embedding"`
}

type wireResponse struct {
	Object string      `json:"object"`
	Data   []wireDatum `json:"data"`
	Model  string      `json:"model"`
	Usage  struct {
		PromptTokens int `json:"prompt_tokens"`
		TotalTokens  int `json:"total_tokens"`
	} `json:"usage"`
}

// recorded is one request the fake server received.
type recorded struct {
	header http.Header
	path   string
	body   wireRequest
}

// bundle is a fake OpenAI-compatible server and the requests it saw.
type bundle struct {
	srv   *httptest.Server
	local *embed.Local // what the fake "model" computes

	mu   sync.Mutex
	reqs []recorded
}

// handler answers the call'th (1-based) request to the fake server.
type handler func(b *bundle, w http.ResponseWriter, r *http.Request, call int, req wireRequest)

// setup starts a fake embeddings server that records each request and
// passes it to h.
func setup(t *testing.T, h handler) *bundle {
	t.Helper()
	b := &bundle{}
	var err error
	b.local, err = embed.NewLocal(testDim)
	require.NoError(t, err)
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
		h(b, w, r, call, req)
	}))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *bundle) requests() []recorded {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]recorded(nil), b.reqs...)
}

// client returns an OpenAI client of the fake server with fast retries;
// mods change its config.
func (b *bundle) client(t *testing.T, mods ...func(*embed.OpenAIConfig)) *embed.OpenAI {
	t.Helper()
	cfg := embed.OpenAIConfig{
		BaseURL:        b.srv.URL + "/v1",
		APIKey:         testKey,
		Model:          "text-embedding-3-small",
		Dimension:      testDim,
		Timeout:        2 * time.Second,
		InitialBackoff: time.Millisecond,
		MaxBackoff:     5 * time.Millisecond,
		HTTPClient:     b.srv.Client(),
	}
	for _, m := range mods {
		m(&cfg)
	}
	c, err := embed.NewOpenAI(cfg)
	require.NoError(t, err)
	return c
}

// ok answers with the fake model's vectors, in shuffled order when
// shuffle is set (each keeps its index).
func (b *bundle) ok(w http.ResponseWriter, req wireRequest, shuffle bool) {
	vecs, _ := b.local.Embed(context.Background(), req.Input)
	resp := wireResponse{Object: "list", Model: req.Model}
	for i, v := range vecs {
		resp.Data = append(resp.Data, wireDatum{Object: "embedding", Index: i, Embedding: v})
	}
	if shuffle {
		rand.Shuffle(len(resp.Data), func(i, j int) { resp.Data[i], resp.Data[j] = resp.Data[j], resp.Data[i] })
	}
	resp.Usage.PromptTokens = 3 * len(req.Input)
	resp.Usage.TotalTokens = resp.Usage.PromptTokens
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

func apiError(w http.ResponseWriter, status int, message, typ, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"error": map[string]any{"message": message, "type": typ, "param": nil, "code": code},
	})
}

func inputs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s %d: replication lag on db-%d is %d seconds", inputPrefix, i, i%7, i*3)
	}
	return out
}

// requireClean fails if err carries the API key or an input's text.
func requireClean(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	require.NotContains(t, err.Error(), testKey)
	require.NotContains(t, err.Error(), inputPrefix)
}

func TestOpenAIConformance(t *testing.T) {
	t.Parallel()
	b := setup(t, func(b *bundle, w http.ResponseWriter, _ *http.Request, _ int, req wireRequest) {
		b.ok(w, req, true)
	})
	embedtest.Run(t, func(t *testing.T) embed.Embedder {
		return b.client(t, func(c *embed.OpenAIConfig) { c.BatchSize = 16 })
	})
}

func TestOpenAIBatchesPreserveOrder(t *testing.T) {
	t.Parallel()
	b := setup(t, func(b *bundle, w http.ResponseWriter, _ *http.Request, _ int, req wireRequest) {
		b.ok(w, req, true)
	})
	c := b.client(t)
	texts := inputs(150)

	vecs, err := c.Embed(context.Background(), texts)
	require.NoError(t, err)
	want, err := b.local.Embed(context.Background(), texts)
	require.NoError(t, err)
	require.Equal(t, want, vecs, "ordered by index, not by position in data")

	reqs := b.requests()
	require.Len(t, reqs, 3)
	var sent []string
	for i, r := range reqs {
		require.Equal(t, "/v1/embeddings", r.path)
		require.Equal(t, "Bearer "+testKey, r.header.Get("Authorization"))
		require.Equal(t, "application/json", r.header.Get("Content-Type"))
		require.Equal(t, "text-embedding-3-small", r.body.Model)
		require.Equal(t, "float", r.body.EncodingFormat)
		require.Nil(t, r.body.Dimensions, "dimensions is sent only when asked")
		require.Len(t, r.body.Input, []int{64, 64, 22}[i])
		sent = append(sent, r.body.Input...)
	}
	require.Equal(t, texts, sent, "batches in order")
}

func TestOpenAIModelAndDimension(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	c := b.client(t, func(c *embed.OpenAIConfig) { c.Model = "nomic-embed-text" })
	require.Equal(t, "nomic-embed-text", c.Model())
	require.Equal(t, testDim, c.Dimension())
}

func TestOpenAINoTextsNoRequest(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	vecs, err := b.client(t).Embed(context.Background(), nil)
	require.NoError(t, err)
	require.Empty(t, vecs)
	require.Empty(t, b.requests())
}

func TestOpenAISendDimensions(t *testing.T) {
	t.Parallel()
	b := setup(t, func(b *bundle, w http.ResponseWriter, _ *http.Request, _ int, req wireRequest) {
		b.ok(w, req, false)
	})
	_, err := b.client(t, func(c *embed.OpenAIConfig) { c.SendDimensions = true }).Embed(context.Background(), inputs(2))
	require.NoError(t, err)
	reqs := b.requests()
	require.Len(t, reqs, 1)
	require.NotNil(t, reqs[0].body.Dimensions)
	require.Equal(t, testDim, *reqs[0].body.Dimensions)
}

func TestOpenAINoKeyNoAuthorization(t *testing.T) {
	t.Parallel()
	b := setup(t, func(b *bundle, w http.ResponseWriter, _ *http.Request, _ int, req wireRequest) {
		b.ok(w, req, false)
	})
	// A trailing slash on the base URL is as good as none.
	c := b.client(t, func(c *embed.OpenAIConfig) { c.APIKey = ""; c.BaseURL = b.srv.URL + "/v1/" })
	_, err := c.Embed(context.Background(), inputs(1))
	require.NoError(t, err)
	reqs := b.requests()
	require.Len(t, reqs, 1)
	require.Empty(t, reqs[0].header.Values("Authorization"))
	require.Equal(t, "/v1/embeddings", reqs[0].path)
}

func TestOpenAIRateLimitHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		header string
		value  string
		cap    time.Duration
		atLeast,
		below time.Duration
	}{
		// Retry-After: 1 is capped at MaxRetryAfter, far above the backoff.
		{name: "seconds capped", header: "Retry-After", value: "1", cap: 150 * time.Millisecond, atLeast: 140 * time.Millisecond, below: 900 * time.Millisecond},
		{name: "milliseconds", header: "Retry-After-Ms", value: "120", cap: time.Minute, atLeast: 110 * time.Millisecond, below: 900 * time.Millisecond},
		{name: "http date capped", header: "Retry-After", value: time.Now().Add(time.Hour).UTC().Format(http.TimeFormat), cap: 100 * time.Millisecond, atLeast: 90 * time.Millisecond, below: 900 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, func(b *bundle, w http.ResponseWriter, _ *http.Request, call int, req wireRequest) {
				if call == 1 {
					w.Header().Set(tc.header, tc.value)
					apiError(w, http.StatusTooManyRequests, "Rate limit reached for requests", "requests", "rate_limit_exceeded")
					return
				}
				b.ok(w, req, false)
			})
			c := b.client(t, func(c *embed.OpenAIConfig) { c.MaxRetryAfter = tc.cap })
			start := time.Now()
			vecs, err := c.Embed(context.Background(), inputs(3))
			elapsed := time.Since(start)
			require.NoError(t, err)
			require.Len(t, vecs, 3)
			require.Len(t, b.requests(), 2)
			require.GreaterOrEqual(t, elapsed, tc.atLeast, "waited as asked")
			require.Less(t, elapsed, tc.below, "wait capped")
		})
	}
}

func TestOpenAIServerErrorsRetried(t *testing.T) {
	t.Parallel()
	b := setup(t, func(b *bundle, w http.ResponseWriter, _ *http.Request, call int, req wireRequest) {
		if call <= 2 {
			apiError(w, http.StatusInternalServerError, "The server had an error", "server_error", "")
			return
		}
		b.ok(w, req, false)
	})
	vecs, err := b.client(t).Embed(context.Background(), inputs(5))
	require.NoError(t, err)
	require.Len(t, vecs, 5)
	require.Len(t, b.requests(), 3)
}

func TestOpenAIRetriesExhausted(t *testing.T) {
	t.Parallel()
	b := setup(t, func(_ *bundle, w http.ResponseWriter, _ *http.Request, _ int, _ wireRequest) {
		apiError(w, http.StatusServiceUnavailable, "overloaded", "server_error", "")
	})
	_, err := b.client(t, func(c *embed.OpenAIConfig) { c.MaxRetries = 2 }).Embed(context.Background(), inputs(3))
	requireClean(t, err)
	require.Len(t, b.requests(), 3, "one attempt and two retries")
	var apiErr *embed.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusServiceUnavailable, apiErr.StatusCode)
	require.Contains(t, err.Error(), "HTTP 503")
	require.Contains(t, err.Error(), "overloaded")
	require.Contains(t, err.Error(), "3 attempt(s)")
}

func TestOpenAINegativeMaxRetriesMeansOneAttempt(t *testing.T) {
	t.Parallel()
	b := setup(t, func(_ *bundle, w http.ResponseWriter, _ *http.Request, _ int, _ wireRequest) {
		apiError(w, http.StatusBadGateway, "upstream down", "", "")
	})
	_, err := b.client(t, func(c *embed.OpenAIConfig) { c.MaxRetries = -1 }).Embed(context.Background(), inputs(1))
	requireClean(t, err)
	require.Len(t, b.requests(), 1)
}

func TestOpenAIClientErrorsNotRetried(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status  int
		message string
		code    string
	}{
		// OpenAI quotes a mistyped key; a proxy might quote it whole.
		{http.StatusUnauthorized, "Incorrect API key provided: " + testKey + ". You can find your API key at https://platform.openai.com/account/api-keys.", "invalid_api_key"},
		{http.StatusBadRequest, "This model's maximum context length is 8192 tokens, however you requested 9100 tokens.", ""},
		{http.StatusForbidden, "You are not allowed to sample from this model", ""},
		{http.StatusNotFound, "The model `text-embedding-4` does not exist", "model_not_found"},
	} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			t.Parallel()
			b := setup(t, func(_ *bundle, w http.ResponseWriter, _ *http.Request, _ int, _ wireRequest) {
				apiError(w, tc.status, tc.message, "invalid_request_error", tc.code)
			})
			_, err := b.client(t).Embed(context.Background(), inputs(2))
			requireClean(t, err)
			require.Len(t, b.requests(), 1, "not retried")
			var apiErr *embed.APIError
			require.ErrorAs(t, err, &apiErr)
			require.Equal(t, tc.status, apiErr.StatusCode)
			require.Contains(t, err.Error(), fmt.Sprintf("HTTP %d", tc.status))
			require.Contains(t, err.Error(), strings.Split(tc.message, testKey)[0])
			if tc.code != "" {
				require.Equal(t, tc.code, apiErr.Code)
			}
		})
	}
}

func TestOpenAIErrorMessageVariants(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body, want string
	}{
		{"ollama", `{"error":"model \"nomic\" not found, try pulling it first"}`, `model "nomic" not found`},
		{"vllm", `{"object":"error","message":"The model does not exist.","type":"NotFoundError","param":null,"code":404}`, "The model does not exist."},
		{"html", `<html><body>404 page not found</body></html>`, "HTTP 404 Not Found"},
		{"long", `{"error":{"message":"` + strings.Repeat("x", 5000) + `"}}`, "xxx…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, func(_ *bundle, w http.ResponseWriter, _ *http.Request, _ int, _ wireRequest) {
				w.WriteHeader(http.StatusNotFound)
				_, _ = w.Write([]byte(tc.body))
			})
			_, err := b.client(t).Embed(context.Background(), inputs(1))
			requireClean(t, err)
			require.Contains(t, err.Error(), tc.want)
			require.Less(t, len(err.Error()), 600, "message shortened")
		})
	}
}

func TestOpenAITimeoutRetriedThenFails(t *testing.T) {
	t.Parallel()
	b := setup(t, func(_ *bundle, _ http.ResponseWriter, r *http.Request, _ int, _ wireRequest) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	c := b.client(t, func(c *embed.OpenAIConfig) {
		c.Timeout = 50 * time.Millisecond
		c.MaxRetries = 2
	})
	start := time.Now()
	_, err := c.Embed(context.Background(), inputs(4))
	requireClean(t, err)
	require.Less(t, time.Since(start), 2*time.Second)
	require.ErrorIs(t, err, embed.ErrTimeout)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Contains(t, err.Error(), "timed out")
	require.Len(t, b.requests(), 3)
}

func TestOpenAIConnectionErrorRetried(t *testing.T) {
	t.Parallel()
	b := setup(t, func(b *bundle, w http.ResponseWriter, _ *http.Request, call int, req wireRequest) {
		if call == 1 {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
			return
		}
		b.ok(w, req, false)
	})
	vecs, err := b.client(t).Embed(context.Background(), inputs(2))
	require.NoError(t, err)
	require.Len(t, vecs, 2)
	require.Len(t, b.requests(), 2)
}

func TestOpenAIConnectionRefused(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	c := b.client(t, func(c *embed.OpenAIConfig) { c.MaxRetries = 2 })
	b.srv.Close()
	_, err := c.Embed(context.Background(), inputs(1))
	requireClean(t, err)
	require.Contains(t, err.Error(), "3 attempt(s)")
	require.Contains(t, err.Error(), "connection")
}

func TestOpenAIWrongDimension(t *testing.T) {
	t.Parallel()
	b := setup(t, func(b *bundle, w http.ResponseWriter, _ *http.Request, _ int, req wireRequest) {
		b.ok(w, req, false) // 64-long vectors
	})
	_, err := b.client(t, func(c *embed.OpenAIConfig) { c.Dimension = 1536 }).Embed(context.Background(), inputs(3))
	requireClean(t, err)
	require.ErrorIs(t, err, embed.ErrDimension)
	require.Contains(t, err.Error(), "got 64, want 1536")
	require.Len(t, b.requests(), 1, "not retried")
}

func TestOpenAIBadResponses(t *testing.T) {
	t.Parallel()
	vec := func() []float32 { return make([]float32, testDim) }
	for _, tc := range []struct {
		name string
		// body writes the response to a request of three inputs.
		body func(w http.ResponseWriter)
		want string
	}{
		{"too few", func(w http.ResponseWriter) {
			_ = json.NewEncoder(w).Encode(wireResponse{Data: []wireDatum{{Index: 0, Embedding: vec()}, {Index: 1, Embedding: vec()}}})
		}, "2 vectors for 3 inputs"},
		{"too many", func(w http.ResponseWriter) {
			_ = json.NewEncoder(w).Encode(wireResponse{Data: []wireDatum{{Index: 0, Embedding: vec()}, {Index: 1, Embedding: vec()}, {Index: 2, Embedding: vec()}, {Index: 3, Embedding: vec()}}})
		}, "4 vectors for 3 inputs"},
		{"repeated index", func(w http.ResponseWriter) {
			_ = json.NewEncoder(w).Encode(wireResponse{Data: []wireDatum{{Index: 0, Embedding: vec()}, {Index: 1, Embedding: vec()}, {Index: 1, Embedding: vec()}}})
		}, "index 1 repeated"},
		{"index out of range", func(w http.ResponseWriter) {
			_ = json.NewEncoder(w).Encode(wireResponse{Data: []wireDatum{{Index: 0, Embedding: vec()}, {Index: 1, Embedding: vec()}, {Index: 3, Embedding: vec()}}})
		}, "index 3 out of range"},
		{"malformed json", func(w http.ResponseWriter) {
			_, _ = w.Write([]byte(`{"data":[{"index":0,"embedding":[0.1,`))
		}, "bad embeddings response"},
		{"base64 embedding", func(w http.ResponseWriter) {
			_, _ = w.Write([]byte(`{"data":[{"index":0,"embedding":"AAAA"},{"index":1,"embedding":"AAAA"},{"index":2,"embedding":"AAAA"}]}`))
		}, "bad embeddings response"},
		{"float32 overflow", func(w http.ResponseWriter) {
			_, _ = w.Write([]byte(`{"data":[{"index":0,"embedding":[1e39]}]}`))
		}, "bad embeddings response"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, func(_ *bundle, w http.ResponseWriter, _ *http.Request, _ int, _ wireRequest) {
				w.Header().Set("Content-Type", "application/json")
				tc.body(w)
			})
			_, err := b.client(t).Embed(context.Background(), inputs(3))
			requireClean(t, err)
			require.ErrorIs(t, err, embed.ErrBadResponse)
			require.Contains(t, err.Error(), tc.want)
			require.Len(t, b.requests(), 1, "not retried")
		})
	}
}

func TestOpenAIFailedBatchStopsTheCall(t *testing.T) {
	t.Parallel()
	b := setup(t, func(b *bundle, w http.ResponseWriter, _ *http.Request, call int, req wireRequest) {
		if call == 2 {
			apiError(w, http.StatusBadRequest, "input too long", "invalid_request_error", "")
			return
		}
		b.ok(w, req, false)
	})
	vecs, err := b.client(t, func(c *embed.OpenAIConfig) { c.BatchSize = 10 }).Embed(context.Background(), inputs(30))
	requireClean(t, err)
	require.Nil(t, vecs)
	require.Contains(t, err.Error(), "inputs 10-19")
	require.Len(t, b.requests(), 2, "the third batch is not sent")
}

func TestOpenAICancelDuringBackoff(t *testing.T) {
	t.Parallel()
	hit := make(chan struct{}, 10)
	b := setup(t, func(_ *bundle, w http.ResponseWriter, _ *http.Request, _ int, _ wireRequest) {
		apiError(w, http.StatusInternalServerError, "boom", "server_error", "")
		hit <- struct{}{}
	})
	c := b.client(t, func(c *embed.OpenAIConfig) {
		c.InitialBackoff = 10 * time.Second
		c.MaxBackoff = 10 * time.Second
	})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-hit
		time.Sleep(20 * time.Millisecond) // into the backoff
		cancel()
	}()
	start := time.Now()
	_, err := c.Embed(ctx, inputs(2))
	requireClean(t, err)
	require.Less(t, time.Since(start), time.Second, "returned promptly")
	require.ErrorIs(t, err, context.Canceled)
	require.Len(t, b.requests(), 1)
}

func TestOpenAICancelDuringRequest(t *testing.T) {
	t.Parallel()
	b := setup(t, func(_ *bundle, _ http.ResponseWriter, r *http.Request, _ int, _ wireRequest) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := b.client(t).Embed(ctx, inputs(2))
	requireClean(t, err)
	require.Less(t, time.Since(start), time.Second, "returned promptly")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NotErrorIs(t, err, embed.ErrTimeout, "the caller's deadline, not the request's")
	require.Len(t, b.requests(), 1, "not retried")
}

func TestOpenAICancelledBeforeStart(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := b.client(t).Embed(ctx, inputs(2))
	requireClean(t, err)
	require.ErrorIs(t, err, context.Canceled)
	require.Empty(t, b.requests())
}

func TestOpenAIConfigValidate(t *testing.T) {
	t.Parallel()
	good := embed.OpenAIConfig{BaseURL: "https://api.openai.com/v1", APIKey: testKey, Model: "text-embedding-3-small", Dimension: 1536}
	require.NoError(t, good.Validate())
	for _, tc := range []struct {
		name string
		mod  func(*embed.OpenAIConfig)
		want string
	}{
		{"no base URL", func(c *embed.OpenAIConfig) { c.BaseURL = "" }, "base URL is required"},
		{"bad scheme", func(c *embed.OpenAIConfig) { c.BaseURL = "ftp://example.com/v1" }, "must be http or https"},
		{"relative", func(c *embed.OpenAIConfig) { c.BaseURL = "/v1" }, "base URL"},
		{"no host", func(c *embed.OpenAIConfig) { c.BaseURL = "http:///v1" }, "has no host"},
		{"query", func(c *embed.OpenAIConfig) { c.BaseURL = "http://localhost:8000/v1?x=1" }, "query or fragment"},
		{"credentials in URL", func(c *embed.OpenAIConfig) { c.BaseURL = "https://user:" + testKey + "@proxy.internal/v1" }, "must not carry credentials"},
		{"key with space", func(c *embed.OpenAIConfig) { c.APIKey = testKey + " \n" }, "API key must be printable"},
		{"no model", func(c *embed.OpenAIConfig) { c.Model = " " }, "model is required"},
		{"no dimension", func(c *embed.OpenAIConfig) { c.Dimension = 0 }, "dimension 0"},
		{"negative batch", func(c *embed.OpenAIConfig) { c.BatchSize = -1 }, "batch size -1"},
		{"negative timeout", func(c *embed.OpenAIConfig) { c.Timeout = -time.Second }, "timeout -1s"},
		{"negative initial backoff", func(c *embed.OpenAIConfig) { c.InitialBackoff = -time.Second }, "initial backoff -1s"},
		{"negative max backoff", func(c *embed.OpenAIConfig) { c.MaxBackoff = -time.Second }, "max backoff -1s"},
		{"initial above max", func(c *embed.OpenAIConfig) { c.InitialBackoff = time.Second; c.MaxBackoff = time.Millisecond }, "must not exceed max backoff"},
		{"negative max retry-after", func(c *embed.OpenAIConfig) { c.MaxRetryAfter = -time.Second }, "max retry-after -1s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := good
			tc.mod(&cfg)
			err := cfg.Validate()
			requireClean(t, err)
			require.Contains(t, err.Error(), tc.want)
			c, err := embed.NewOpenAI(cfg)
			require.Error(t, err)
			require.Nil(t, c)
		})
	}
}
