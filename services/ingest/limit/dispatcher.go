package limit

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alexus-platform/alexus/internal/tenant"
)

// BusyRetryAfter is the wait suggested to a caller refused because the
// replica, or the tenant's share of it, is full. Calls take milliseconds, so
// a second is ample for slots to free up, and short enough for alerts.
const BusyRetryAfter = time.Second

// Dispatcher bounds the calls one replica works on at once, in all and per
// tenant, so a tenant that floods the replica fills its own share and gets
// TENANT_BUSY while the others keep theirs. It never queues: Acquire either takes a slot, or waits at most the
// configured wait for one (each waiter is a call the gRPC server already
// holds, so nothing grows without bound), or refuses. Its methods are safe
// for concurrent use.
type Dispatcher struct {
	maxTotal, maxPerTenant int
	wait                   time.Duration

	mu      sync.Mutex
	total   int
	tenants map[tenant.ID]int
	// freed is closed, and reset to nil, when a slot is released; waiters
	// make it on demand, so the path without waiters allocates nothing.
	freed chan struct{}
}

// NewDispatcher returns a dispatcher with maxTotal slots in all and
// maxPerTenant per tenant; Acquire waits up to wait for a slot (zero: not at
// all). Both maxima must be at least 1.
func NewDispatcher(maxTotal, maxPerTenant int, wait time.Duration) *Dispatcher {
	return &Dispatcher{maxTotal: maxTotal, maxPerTenant: maxPerTenant, wait: wait, tenants: make(map[tenant.ID]int)}
}

// Acquire takes a slot for a call of t. On success it returns the function
// that gives the slot back, which the caller must call when the call ends;
// calling it again does nothing. When no slot is free, after waiting up to
// the dispatcher's wait, it returns a *Refusal: ReasonIngestBusy when the
// replica is full, ReasonTenantBusy when t's share is. It returns ctx's error
// if ctx ends while waiting.
func (d *Dispatcher) Acquire(ctx context.Context, t tenant.ID) (release func(), err error) {
	reason, freed := d.try(t)
	if reason == "" {
		return d.releaser(t), nil
	}
	if d.wait <= 0 {
		return nil, d.refusal(reason)
	}
	timer := time.NewTimer(d.wait)
	defer timer.Stop()
	for {
		select {
		case <-freed:
			// A slot was released; another waiter may still be quicker.
			if reason, freed = d.try(t); reason == "" {
				return d.releaser(t), nil
			}
		case <-timer.C:
			return nil, d.refusal(reason)
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for an ingest slot: %w", ctx.Err())
		}
	}
}

// try takes a slot for t and returns "", or returns why it cannot and, when
// the dispatcher waits, a channel closed at the next release.
func (d *Dispatcher) try(t tenant.ID) (reason string, freed <-chan struct{}) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if reason = d.tryLocked(t); reason == "" || d.wait <= 0 {
		return reason, nil
	}
	if d.freed == nil {
		d.freed = make(chan struct{})
	}
	return reason, d.freed
}

// InFlight returns the calls of t holding a slot, and all calls holding one.
func (d *Dispatcher) InFlight(t tenant.ID) (ofTenant, total int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.tenants[t], d.total
}

// tryLocked takes a slot for t and returns "", or returns the reason it
// cannot. The replica's limit is checked first: when both are full, the
// tenant is not the one to blame.
func (d *Dispatcher) tryLocked(t tenant.ID) string {
	if d.total >= d.maxTotal {
		return ReasonIngestBusy
	}
	if d.tenants[t] >= d.maxPerTenant {
		return ReasonTenantBusy
	}
	d.total++
	d.tenants[t]++
	return ""
}

func (d *Dispatcher) releaser(t tenant.ID) func() {
	var done atomic.Bool
	return func() {
		if !done.CompareAndSwap(false, true) {
			return
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		d.total--
		if n := d.tenants[t] - 1; n > 0 {
			d.tenants[t] = n
		} else {
			// Forget idle tenants, so the map holds only those in flight.
			delete(d.tenants, t)
		}
		if d.freed != nil {
			close(d.freed)
			d.freed = nil
		}
	}
}

func (d *Dispatcher) refusal(reason string) *Refusal {
	r := &Refusal{Reason: reason, RetryAfter: BusyRetryAfter}
	if reason == ReasonIngestBusy {
		r.Detail = fmt.Sprintf("this ingest replica is handling its maximum of %d calls", d.maxTotal)
	} else {
		r.Detail = fmt.Sprintf("this ingest replica is handling the tenant's maximum of %d calls", d.maxPerTenant)
	}
	return r
}
