package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"

	"github.com/jackc/pgx/v5"

	"github.com/alexus-platform/alexus/bench/internal/harness"
)

// benchTenant is the tenant every signal is written for.
const benchTenant = "bench"

// stack is a running Alexus without its orchestrator: the harness's stack
// with the bench tenant and its webhook target, the webhook receiver and
// the action plane. The orchestrator is started separately, once the
// backlog is written. close undoes all of it.
type stack struct {
	*harness.Stack
	actions, orchestrator *harness.Plane

	// sink is the tenant's "default" webhook target; it answers 200 and
	// counts deliveries.
	sink       *httptest.Server
	deliveries atomic.Int64
}

// startStack prepares everything but the orchestrator and returns once the
// action plane serves. On error, whatever was made is undone.
func startStack(ctx context.Context, cfg harness.Config) (_ *stack, err error) {
	cfg.Settings = func(context.Context, *harness.Stack) ([]string, error) {
		// The webhook receiver listens on loopback.
		return []string{"ALEXUS_ACTIONS_WEBHOOK_SECRET=" + harness.RandSecret(), "ALEXUS_ACTIONS_EGRESS_ALLOW=127.0.0.0/8"}, nil
	}
	s := &stack{}
	if s.Stack, err = harness.Start(ctx, cfg); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.close()
		}
	}()

	s.sink = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		s.deliveries.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	// Executes hand a webhook action to the "default" target; with it
	// registered the action plane accepts them and its deliveries succeed.
	if _, err := s.Alexus(ctx, "tenant", "create", benchTenant, "--webhook-url", s.sink.URL+"/remediate"); err != nil {
		return nil, err
	}
	if s.actions, err = s.StartPlane("actions"); err != nil {
		return nil, err
	}
	if err := s.WaitHealthy(ctx, s.actions); err != nil {
		return nil, err
	}
	return s, nil
}

// startOrchestrator starts the orchestrator plane. It does not wait for its
// health check: the consumer starts reading as the plane starts, and the
// benchmark's clock runs from the first stored transition.
func (s *stack) startOrchestrator() error {
	p, err := s.StartPlane("orchestrator")
	if err != nil {
		return err
	}
	s.orchestrator = p
	return nil
}

// stopOrchestrator stops the orchestrator plane, gracefully.
func (s *stack) stopOrchestrator() error {
	p := s.orchestrator
	s.orchestrator = nil
	return p.Stop()
}

// adminConn connects to the bench database as the admin user, who is not
// subject to the tenant tables' row-level security.
func (s *stack) adminConn(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.Connect(ctx, s.DBURL)
	if err != nil {
		return nil, fmt.Errorf("postgres %s: %w", s.DBName, err)
	}
	return conn, nil
}

// close stops the planes (orchestrator first, so no action is asked for
// when the action plane goes) and removes what the harness made, then stops
// the webhook receiver. It is safe to call more than once.
func (s *stack) close() {
	s.Close()
	if s.sink != nil {
		s.sink.Close()
	}
}
