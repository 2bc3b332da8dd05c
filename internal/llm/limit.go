package llm

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/alexus-platform/alexus/internal/tenant"
)

// limiter bounds the calls in flight per tenant. A tenant's semaphore
// exists only while some call holds or waits for one of its slots, so the
// map stays as small as the set of busy tenants.
type limiter struct {
	wait time.Duration

	mu    sync.Mutex
	slots map[tenant.ID]*slot
}

type slot struct {
	sem  chan struct{}
	refs int // holders and waiters
}

func newLimiter(wait time.Duration) *limiter {
	return &limiter{wait: wait, slots: make(map[tenant.ID]*slot)}
}

// acquire takes one of id's n slots, waiting at most l.wait and no longer
// than ctx allows. On success the caller must call the returned release.
func (l *limiter) acquire(ctx context.Context, id tenant.ID, n int) (release func(), err error) {
	l.mu.Lock()
	s := l.slots[id]
	if s == nil {
		s = &slot{sem: make(chan struct{}, n)}
		l.slots[id] = s
	}
	s.refs++
	l.mu.Unlock()

	if err := s.take(ctx, l.wait); err != nil {
		l.unref(id, s)
		return nil, err
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			<-s.sem
			l.unref(id, s)
		})
	}, nil
}

func (s *slot) take(ctx context.Context, wait time.Duration) error {
	if err := context.Cause(ctx); err != nil {
		return err
	}
	select {
	case s.sem <- struct{}{}:
		return nil
	default:
	}
	if wait <= 0 {
		return fmt.Errorf("%w (%d in flight)", ErrBusy, cap(s.sem))
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case s.sem <- struct{}{}:
		return nil
	case <-timer.C:
		return fmt.Errorf("%w (%d in flight, waited %s)", ErrBusy, cap(s.sem), wait)
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (l *limiter) unref(id tenant.ID, s *slot) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s.refs--; s.refs == 0 {
		delete(l.slots, id)
	}
}

// size reports how many tenants have a semaphore, for tests.
func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.slots)
}
