package tickettest

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Route names an endpoint, for faults and recorded requests.
type Route string

// Fault is how the server answers one request instead of serving it.
type Fault struct {
	// Status answers with the remote's error body of that status (401,
	// 429, 500, 503, ...).
	Status int
	// RetryAfter, when set, is sent as Retry-After in whole seconds.
	RetryAfter time.Duration
	// Hang holds the request open until the client gives up.
	Hang bool
	// LoseResponse serves the request — a create creates, an update
	// updates — and then drops the connection without answering.
	LoseResponse bool
}

// Request is one request the server received.
type Request struct {
	Route         Route
	Method, Path  string
	Query         string
	Body          []byte
	Authorization string
}

// Remote is one remote's side of a stand-in.
type Remote struct {
	// Username and Password are the Basic credentials accepted.
	Username, Password string
	// Route names the endpoint of r and the key its path carries; ""
	// for an endpoint the remote does not speak.
	Route func(r *http.Request) (rt Route, key string)
	// Error writes the remote's error body for status: 401 for a bad
	// credential, or a fault's status.
	Error func(w http.ResponseWriter, status int)
	// NoRoute writes the remote's answer to an endpoint it does not
	// speak.
	NoRoute func(w http.ResponseWriter, r *http.Request)
	// Serve serves an authenticated request to a known route as user.
	Serve func(w http.ResponseWriter, r *http.Request, rt Route, key, user string, body []byte)
}

// Server is a stand-in remote. Its URL is the base URL to configure.
type Server struct {
	*httptest.Server
	remote Remote
	done   chan struct{}

	mu     sync.Mutex
	faults map[Route][]Fault
	reqs   []Request
	bearer string
}

// New starts a server for remote and closes it when the test ends.
func New(t testing.TB, remote Remote) *Server {
	t.Helper()
	s := &Server{remote: remote, done: make(chan struct{}), faults: map[Route][]Fault{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	// Cleanups run last-first: hanging handlers are released before
	// Close waits for them.
	t.Cleanup(func() { close(s.done) })
	return s
}

// AcceptBearer makes the server accept token as an OAuth 2.0 bearer
// token as well, acting as the Basic credentials' user.
func (s *Server) AcceptBearer(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bearer = token
}

// Fail queues faults for the next requests to route, one per request.
func (s *Server) Fail(route Route, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[route] = append(s.faults[route], faults...)
}

// Requests returns the requests received so far, those to routes if any
// are given.
func (s *Server) Requests(routes ...Route) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.reqs {
		if len(routes) == 0 || slices.Contains(routes, r.Route) {
			out = append(out, r)
		}
	}
	return out
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	rt, key := s.remote.Route(r)
	s.mu.Lock()
	s.reqs = append(s.reqs, Request{Route: rt, Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Body: body, Authorization: r.Header.Get("Authorization")})
	var fault Fault
	if q := s.faults[rt]; len(q) > 0 {
		fault, s.faults[rt] = q[0], q[1:]
	}
	user, authorized := s.user(r.Header.Get("Authorization"))
	s.mu.Unlock()

	if fault.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(fault.RetryAfter.Round(time.Second)/time.Second)))
	}
	switch {
	case fault.Hang:
		select {
		case <-r.Context().Done():
		case <-s.done:
		}
		return
	case fault.Status == http.StatusUnauthorized || !authorized:
		s.remote.Error(w, http.StatusUnauthorized)
		return
	case fault.Status != 0:
		s.remote.Error(w, fault.Status)
		return
	case rt == "":
		s.remote.NoRoute(w, r)
		return
	}
	if fault.LoseResponse {
		s.remote.Serve(httptest.NewRecorder(), r, rt, key, user, body)
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
			}
		}
		return
	}
	s.remote.Serve(w, r, rt, key, user, body)
}

// user is the user an Authorization header authenticates.
func (s *Server) user(h string) (string, bool) {
	if s.bearer != "" && h == "Bearer "+s.bearer {
		return s.remote.Username, true
	}
	if h == "Basic "+base64.StdEncoding.EncodeToString([]byte(s.remote.Username+":"+s.remote.Password)) {
		return s.remote.Username, true
	}
	return "", false
}
