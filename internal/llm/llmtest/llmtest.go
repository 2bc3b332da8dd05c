// Package llmtest is a stand-in for an OpenAI-compatible chat completions
// server, for tests of code that calls a model through internal/llm. It
// speaks the documented wire format: chat.completion objects with usage on
// success, {"error": {...}} bodies with Retry-After on failure, and it can
// hang until the client gives up.
package llmtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Message is one turn of a request's conversation.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Request is what the server read of one chat completions request.
type Request struct {
	Model          string          `json:"model"`
	Messages       []Message       `json:"messages"`
	ResponseFormat json.RawMessage `json:"response_format"`
	// Authorization is the request's Authorization header.
	Authorization string `json:"-"`
}

// Reply is how the server answers one request.
type Reply struct {
	// Content is the assistant message of a 200 answer.
	Content string
	// Status, when not 0 or 200, answers with an OpenAI error body of
	// that status instead.
	Status int
	// RetryAfter, when set, is sent as Retry-After (whole seconds).
	RetryAfter time.Duration
	// Hang holds the request open until the client gives up.
	Hang bool
	// PromptTokens and CompletionTokens are reported as usage (defaults
	// 100 and 20).
	PromptTokens, CompletionTokens int
}

// Answer is a 200 reply with content.
func Answer(content string) Reply { return Reply{Content: content} }

// JSON is a 200 reply whose content is v as JSON.
func JSON(v any) Reply {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("llmtest: marshal reply: %v", err))
	}
	return Reply{Content: string(b)}
}

// Server is a fake chat completions server. Its URL is the base URL to
// configure ("<url>/v1").
type Server struct {
	*httptest.Server
	respond func(call int, req Request) Reply

	mu   sync.Mutex
	reqs []Request
}

// New starts a server answering the n'th request (from 1) with respond, and
// closes it when the test ends.
func New(t testing.TB, respond func(call int, req Request) Reply) *Server {
	t.Helper()
	s := &Server{respond: respond}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// BaseURL is the API root to give a client.
func (s *Server) BaseURL() string { return s.URL + "/v1" }

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		writeError(w, http.StatusNotFound, "invalid_request_error", "unknown_url", "Unknown request URL: "+r.Method+" "+r.URL.Path)
		return
	}
	var req Request
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", "We could not parse the JSON body of your request.")
		return
	}
	req.Authorization = r.Header.Get("Authorization")
	s.mu.Lock()
	s.reqs = append(s.reqs, req)
	call := len(s.reqs)
	s.mu.Unlock()

	rep := s.respond(call, req)
	if rep.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(rep.RetryAfter.Round(time.Second)/time.Second)))
	}
	switch {
	case rep.Hang:
		<-r.Context().Done()
		return
	case rep.Status == http.StatusTooManyRequests:
		writeError(w, rep.Status, "requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again later.")
		return
	case rep.Status != 0 && rep.Status != http.StatusOK:
		writeError(w, rep.Status, "server_error", "", "The server had an error while processing your request.")
		return
	}
	pt, ct := rep.PromptTokens, rep.CompletionTokens
	if pt == 0 {
		pt = 100
	}
	if ct == 0 {
		ct = 20
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id":      "chatcmpl-" + strconv.Itoa(call),
		"object":  "chat.completion",
		"created": time.Now().Unix(),
		"model":   req.Model,
		"choices": []any{map[string]any{
			"index":         0,
			"message":       map[string]any{"role": "assistant", "content": rep.Content},
			"finish_reason": "stop",
		}},
		"usage": map[string]int{"prompt_tokens": pt, "completion_tokens": ct, "total_tokens": pt + ct},
	})
}

func writeError(w http.ResponseWriter, status int, typ, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	var c any
	if code != "" {
		c = code
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": c}})
}
