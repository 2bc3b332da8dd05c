package egress

import (
	"net/http"
	"sync"
	"time"

	"github.com/alexus-platform/alexus/internal/tenant"
)

// idleConnTimeout bounds how long a kept-alive connection outlives the
// check made when it was dialled: a network removed from a tenant's
// allow-list stops being reachable within it.
const idleConnTimeout = 30 * time.Second

// maxIdlePerHost is how many kept-alive connections a tenant's pool keeps
// to one host: enough for every worker of a busy queue posting to the same
// receiver, so that none of them dials afresh (and is checked afresh) for
// every request. Idle connections close after idleConnTimeout.
const maxIdlePerHost = 256

// Clients sends the action plane's outbound requests. Each tenant gets its
// own connection pool, so a connection dialled (and checked) for one tenant
// is never reused for another tenant's request to the same host; no proxy
// from the environment is used, as it would connect for us, unchecked; and
// redirects are not followed, as they would turn a request into one to an
// address the tenant never registered. It is safe for concurrent use.
type Clients struct {
	policy  *Policy
	timeout time.Duration

	mu       sync.Mutex
	byTenant map[tenant.ID]*http.Client
	// override, set by tests, replaces every tenant's transport.
	override http.RoundTripper
}

// NewClients returns Clients dialling through policy (nil refuses every
// non-public address), each request bounded by timeout.
func NewClients(policy *Policy, timeout time.Duration) *Clients {
	if policy == nil {
		policy = &Policy{}
	}
	return &Clients{policy: policy, timeout: timeout, byTenant: map[tenant.ID]*http.Client{}}
}

// Do sends req with the client of the tenant in its context.
func (c *Clients) Do(req *http.Request) (*http.Response, error) {
	t, err := tenant.Require(req.Context())
	if err != nil {
		return nil, err
	}
	return c.client(t).Do(req)
}

// For returns tenant t's client, for a library that sends its own
// requests through an *http.Client (the ticket clients take one in
// ticketapi.Options).
func (c *Clients) For(t tenant.ID) *http.Client { return c.client(t) }

func (c *Clients) client(t tenant.ID) *http.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.byTenant[t]; ok {
		return cl
	}
	rt := c.override
	if rt == nil {
		rt = &http.Transport{
			DialContext:         c.policy.DialContext,
			Proxy:               nil,
			ForceAttemptHTTP2:   true,
			MaxIdleConnsPerHost: maxIdlePerHost,
			IdleConnTimeout:     idleConnTimeout,
			TLSHandshakeTimeout: 10 * time.Second,
		}
	}
	cl := &http.Client{
		Timeout:       c.timeout,
		Transport:     rt,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	c.byTenant[t] = cl
	return cl
}

// SetTransport replaces every tenant's transport, so a test can act
// between a receiver's answer and the caller reading it.
func (c *Clients) SetTransport(rt http.RoundTripper) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.override = rt
	clear(c.byTenant)
}
