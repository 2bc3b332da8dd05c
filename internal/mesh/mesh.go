// Package mesh starts any set of Alexus planes in one process and wires them
// to each other over real gRPC on real ports. `alexus gateway` (or ingest,
// orchestrator, actions) runs a set of one; `alexus dev` and the end-to-end
// tests run all four. Planes not started here are dialled at their
// configured addresses.
package mesh

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"

	actionsv1 "github.com/alexus-platform/alexus/gen/alexus/actions/v1"
	ingestv1 "github.com/alexus-platform/alexus/gen/alexus/ingest/v1"
	knowledgev1 "github.com/alexus-platform/alexus/gen/alexus/knowledge/v1"
	orchestratorv1 "github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1"
	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
	"github.com/alexus-platform/alexus/internal/rpc"
	"github.com/alexus-platform/alexus/internal/secretbox"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/actions"
	"github.com/alexus-platform/alexus/services/gateway"
	"github.com/alexus-platform/alexus/services/ingest"
	"github.com/alexus-platform/alexus/services/orchestrator"
)

// Plane names a role of the binary.
type Plane string

// The planes.
const (
	Gateway      Plane = "gateway"
	Ingest       Plane = "ingest"
	Orchestrator Plane = "orchestrator"
	Actions      Plane = "actions"
)

// All is every plane, in start order.
var All = []Plane{Actions, Ingest, Orchestrator, Gateway}

// Addrs are the planes' addresses: where a plane started here listens
// (port 0 picks a free one), and where a plane started elsewhere is dialled.
type Addrs struct {
	Gateway      string
	Ingest       string
	Orchestrator string
	Actions      string
	// Reasoning is the ReasoningService the orchestrator's pipeline calls;
	// empty means the orchestrator's own address.
	Reasoning string
}

// Config is everything the planes need.
type Config struct {
	// Planes to start here.
	Planes []Plane
	// Addrs of every plane.
	Addrs Addrs
	// Store reaches Postgres (needed by every plane).
	Store store.Config
	// RedisURL reaches Redis (needed by ingest and orchestrator).
	RedisURL string
	// InternalSecret signs and verifies internal identity tokens.
	InternalSecret []byte
	// SecretKeys opens tenants' sealed secrets (integrations' signing
	// secrets); nil when none is configured.
	SecretKeys *secretbox.Keyring

	Gateway      gateway.Config
	Ingest       ingest.Config
	Orchestrator orchestrator.Config
	Actions      actions.Config
}

func (c Config) runs(p Plane) bool { return slices.Contains(c.Planes, p) }

// applicationName names the Postgres connections of a process running
// planes: "alexus orchestrator", or "alexus gateway+ingest" for several.
func applicationName(planes []Plane) string {
	names := make([]string, len(planes))
	for i, p := range planes {
		names[i] = string(p)
	}
	return "alexus " + strings.Join(names, "+")
}

// Mesh is a running set of planes.
type Mesh struct {
	// Addrs are the bound addresses of the planes started here (and the
	// configured ones of the others).
	Addrs Addrs

	group   *errgroup.Group
	cleanup []func()
}

// Start binds every selected plane's port, wires the clients, and runs the
// planes until ctx ends. It returns once all of them are listening.
func Start(ctx context.Context, log *zap.Logger, cfg Config) (_ *Mesh, err error) {
	if len(cfg.Planes) == 0 {
		return nil, errors.New("mesh: no planes to start")
	}
	signer, err := tenant.NewSigner(cfg.InternalSecret, 0)
	if err != nil {
		return nil, fmt.Errorf("internal token secret: %w", err)
	}
	verifier, err := tenant.NewVerifier(cfg.InternalSecret)
	if err != nil {
		return nil, fmt.Errorf("internal token secret: %w", err)
	}
	m := &Mesh{Addrs: cfg.Addrs}
	defer func() {
		if err != nil {
			m.close()
		}
	}()

	// Bind first, so planes started here can dial each other's real ports.
	listeners := map[Plane]net.Listener{}
	for _, p := range cfg.Planes {
		addr := m.addr(p)
		lis, err := net.Listen("tcp", *addr)
		if err != nil {
			return nil, fmt.Errorf("%s: listen on %s: %w", p, *addr, err)
		}
		m.cleanup = append(m.cleanup, func() { lis.Close() })
		listeners[p] = lis
		*addr = lis.Addr().String()
	}
	if m.Addrs.Reasoning == "" {
		m.Addrs.Reasoning = m.Addrs.Orchestrator
	}

	var (
		db  *store.DB
		rdb *redis.Client
	)
	if cfg.runs(Gateway) || cfg.runs(Ingest) || cfg.runs(Orchestrator) || cfg.runs(Actions) {
		sc := cfg.Store
		if sc.MaxConns == 0 {
			// A running job holds a connection only while it reads its
			// action and records its result, not while it waits on the
			// receiver: one per worker of every queue, capped at 48, plus
			// headroom for the RPCs, serves them all and keeps a default
			// Postgres (100 connections) within reach when workers are
			// raised. The pipeline's entries each hold one while they
			// store a stage: a quarter of them (at least 8, at most 32)
			// keeps Postgres busy without queueing on the pool or holding
			// idle connections.
			if cfg.runs(Actions) {
				a := cfg.Actions
				sc.MaxConns += int32(min(a.Workers+a.NotifyWorkers+a.RunbookWorkers+2*a.TicketWorkers, 48) + 16)
			}
			if cfg.runs(Orchestrator) {
				// +16 for the RPCs and the River clients of the quality gate
				// and the ticket sync (each a listener and a few workers).
				sc.MaxConns += int32(min(max(cfg.Orchestrator.Concurrency/4, 8), 32)) + 16
			}
		}
		if sc.ApplicationName == "" {
			sc.ApplicationName = applicationName(cfg.Planes)
		}
		if db, err = store.Open(ctx, sc); err != nil {
			return nil, err
		}
		m.cleanup = append(m.cleanup, db.Close)
	}
	if cfg.runs(Ingest) || cfg.runs(Orchestrator) {
		opt, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("parse redis url: %w", err)
		}
		rdb = redis.NewClient(opt)
		m.cleanup = append(m.cleanup, func() { rdb.Close() })
		if err := rdb.Ping(ctx).Err(); err != nil {
			return nil, fmt.Errorf("reach redis at %s: %w", opt.Addr, err)
		}
	}
	dial := func(target string) (*grpc.ClientConn, error) {
		cc, err := rpc.Dial(target, signer)
		if err == nil {
			m.cleanup = append(m.cleanup, func() { cc.Close() })
		}
		return cc, err
	}

	type runner interface {
		Run(context.Context, net.Listener) error
	}
	runners := map[Plane]runner{}
	for _, p := range cfg.Planes {
		plog := log.Named(string(p))
		switch p {
		case Actions:
			// The action plane moves incidents when their Jira or
			// ServiceNow tickets change.
			orch, err := dial(m.Addrs.Orchestrator)
			if err != nil {
				return nil, err
			}
			s, err := actions.New(cfg.Actions, actions.Deps{
				Log: plog, DB: db, Verifier: verifier, Keys: cfg.SecretKeys,
				Orchestrator: orchestratorv1.NewOrchestratorServiceClient(orch),
			})
			if err != nil {
				return nil, err
			}
			runners[p] = s
		case Ingest:
			orch, err := dial(m.Addrs.Orchestrator)
			if err != nil {
				return nil, err
			}
			s, err := ingest.New(cfg.Ingest, ingest.Deps{
				Log: plog, Redis: rdb, Verifier: verifier, DB: db,
				Orchestrator: orchestratorv1.NewOrchestratorServiceClient(orch),
			})
			if err != nil {
				return nil, err
			}
			runners[p] = s
		case Orchestrator:
			// The pipeline calls its own plane's ReasoningService in process;
			// a separate reasoning address is dialled.
			var reasoning reasoningv1.ReasoningServiceClient
			if m.Addrs.Reasoning != m.Addrs.Orchestrator {
				cc, err := dial(m.Addrs.Reasoning)
				if err != nil {
					return nil, err
				}
				reasoning = reasoningv1.NewReasoningServiceClient(cc)
			}
			act, err := dial(m.Addrs.Actions)
			if err != nil {
				return nil, err
			}
			s, err := orchestrator.New(cfg.Orchestrator, orchestrator.Deps{
				Log: plog, DB: db, Redis: rdb, Verifier: verifier, Keys: cfg.SecretKeys,
				Reasoning: reasoning,
				Actions:   actionsv1.NewActionServiceClient(act),
			})
			if err != nil {
				return nil, err
			}
			runners[p] = s
		case Gateway:
			conns := map[string]*grpc.ClientConn{}
			for _, target := range []string{m.Addrs.Ingest, m.Addrs.Orchestrator, m.Addrs.Reasoning, m.Addrs.Actions} {
				if conns[target] == nil {
					if conns[target], err = dial(target); err != nil {
						return nil, err
					}
				}
			}
			s, err := gateway.New(cfg.Gateway, gateway.Deps{
				Log: plog, DB: db, Keys: cfg.SecretKeys,
				Ingest:       ingestv1.NewIngestServiceClient(conns[m.Addrs.Ingest]),
				Sources:      ingestv1.NewSourceServiceClient(conns[m.Addrs.Ingest]),
				Orchestrator: orchestratorv1.NewOrchestratorServiceClient(conns[m.Addrs.Orchestrator]),
				Reasoning:    reasoningv1.NewReasoningServiceClient(conns[m.Addrs.Reasoning]),
				Actions:      actionsv1.NewActionServiceClient(conns[m.Addrs.Actions]),
				Knowledge:    knowledgev1.NewKnowledgeServiceClient(conns[m.Addrs.Orchestrator]),
			})
			if err != nil {
				return nil, err
			}
			runners[p] = s
		default:
			return nil, fmt.Errorf("mesh: unknown plane %q", p)
		}
	}

	g, gctx := errgroup.WithContext(ctx)
	m.group = g
	for _, p := range cfg.Planes {
		r, lis := runners[p], listeners[p]
		g.Go(func() error {
			if err := r.Run(gctx, lis); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			return nil
		})
	}
	return m, nil
}

// Wait blocks until every plane has stopped, closes the stores and
// connections, and returns the first plane's error.
func (m *Mesh) Wait() error {
	err := m.group.Wait()
	m.close()
	return err
}

func (m *Mesh) close() {
	for i := len(m.cleanup) - 1; i >= 0; i-- {
		m.cleanup[i]()
	}
	m.cleanup = nil
}

func (m *Mesh) addr(p Plane) *string {
	switch p {
	case Gateway:
		return &m.Addrs.Gateway
	case Ingest:
		return &m.Addrs.Ingest
	case Orchestrator:
		return &m.Addrs.Orchestrator
	default:
		return &m.Addrs.Actions
	}
}
