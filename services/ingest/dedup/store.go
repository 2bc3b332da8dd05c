package dedup

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/internal/rediskey"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/ingest/autopipe"
)

//go:embed record.lua
var recordSource string

var recordScript = redis.NewScript(recordSource)

// ErrUnavailable wraps every failure to reach or use Redis. Callers answer
// it with UNAVAILABLE: retrying is safe, as an alert already recorded comes
// back as a repeat.
var ErrUnavailable = errors.New("signal store unavailable")

// Outcome is what Record did with one signal.
type Outcome struct {
	// Kind is OPENED for a new signal, REPEATED for a repeat inside the
	// window, RESOLVED for a resolved notification.
	Kind signalv1.EventKind
	// SignalID is the signal the alert was filed under: the new one, or the
	// first occurrence it repeats or resolves. It is empty for a resolved
	// notification whose claim had already expired.
	SignalID string
}

// Store records signals for the tenant in the context.
type Store struct {
	pipe   *autopipe.Pipeliner
	space  rediskey.Space
	window time.Duration
	script *redis.Script
}

// New returns a Store writing under space with claims lasting window
// (rounded down to whole milliseconds, at least one). It sends its commands
// through pipe, so the records of concurrent calls share pipelines.
func New(pipe *autopipe.Pipeliner, space rediskey.Space, window time.Duration) *Store {
	return &Store{pipe: pipe, space: space, window: window, script: recordScript}
}

// Record claims and appends every signal, in order, for the tenant in ctx,
// and returns one outcome per signal. It sets each signal's tenant_id from
// ctx and its id to the signal it was filed under.
//
// The scripts of one call are sent in one pipeline, after the SADD that
// adds the tenant to the stream registry; concurrent calls share the
// pipeline, and one SADD of a tenant serves all of that tenant's calls in
// it. Each signal's script is atomic,
// but the call as a whole is not: when Redis fails part-way, some signals
// may be recorded and the others not, and Record returns an error wrapping
// ErrUnavailable. Retrying the whole call is then safe, because the recorded
// ones come back as REPEATED (or as a second RESOLVED, which the
// orchestrator treats as a no-op).
//
// The registry is written on every call, not once per tenant and process:
// Redis may lose its data (a restart without persistence, a failover to a
// replica that lagged), and a tenant missing from the registry would have
// its new signals appended to a stream nobody consumes. SADD of a present
// member is cheap and changes nothing.
func (s *Store) Record(ctx context.Context, sigs []*signalv1.Signal) ([]Outcome, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return nil, err
	}
	if len(sigs) == 0 {
		return nil, nil
	}
	stream := s.space.Tenant(t, rediskey.SignalStream)
	window := max(s.window.Milliseconds(), 1)

	type call struct {
		keys []string
		args []any
		cmd  *redis.Cmd
	}
	calls := make([]call, len(sigs))
	for i, sig := range sigs {
		sig.TenantId = string(t)
		// The script fills in kind, signal_id and signal.id; see record.lua.
		sig.Id = ""
		event, err := proto.Marshal(&signalv1.SignalEvent{Signal: sig})
		if err != nil {
			return nil, fmt.Errorf("marshal signal event for fingerprint %q: %w", sig.GetFingerprint(), err)
		}
		mode := "firing"
		if sig.GetStatus() == signalv1.Status_STATUS_RESOLVED {
			mode = "resolved"
		}
		calls[i] = call{
			keys: []string{s.space.Tenant(t, rediskey.Dedup, sig.GetFingerprint()), stream},
			args: []any{mode, uuid.NewString(), window, event},
		}
	}

	// The registry is a global key, outside the tenant's hash slot, so it
	// cannot be part of the scripts, and a cluster client sends it to its
	// own node. Its order relative to the appends does not matter: the
	// orchestrator reads a newly registered stream from its start.
	registry := s.space.Global(rediskey.StreamRegistry)
	register := redis.NewIntCmd(ctx, "sadd", registry, string(t))
	cmds := make([]redis.Cmder, len(calls))
	for i := range calls {
		calls[i].cmd = autopipe.NewEvalSha(ctx, s.script.Hash(), calls[i].keys, calls[i].args...)
		cmds[i] = calls[i].cmd
	}
	s.pipe.Do(ctx, &autopipe.Shared{Key: registry + "\x00" + string(t), Cmd: register}, cmds...)
	if err := register.Err(); err != nil {
		// The scripts may have run; a retry records nothing twice and
		// registers the tenant.
		if ctx.Err() != nil {
			return nil, fmt.Errorf("register stream of tenant %s: %w", t, ctx.Err())
		}
		return nil, fmt.Errorf("%w: register stream of tenant %s: %w", ErrUnavailable, t, err)
	}

	out := make([]Outcome, len(sigs))
	for i := range calls {
		c := calls[i].cmd
		// A script Redis has not cached (first use, or after a restart or
		// SCRIPT FLUSH) fails with NOSCRIPT without running, so running it
		// again with the source is safe and cannot record the alert twice.
		if err := c.Err(); err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
			c = s.script.Run(ctx, s.pipe.Client(), calls[i].keys, calls[i].args...)
		}
		o, err := outcome(c)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("record signal %d of %d: %w", i+1, len(sigs), ctx.Err())
			}
			return nil, fmt.Errorf("%w: record signal %d of %d: %w", ErrUnavailable, i+1, len(sigs), err)
		}
		sigs[i].Id = o.SignalID
		out[i] = o
	}
	return out, nil
}

func outcome(c *redis.Cmd) (Outcome, error) {
	vals, err := c.Slice()
	if err != nil {
		return Outcome{}, err
	}
	if len(vals) != 2 {
		return Outcome{}, fmt.Errorf("record script returned %d values, want 2", len(vals))
	}
	kind, ok1 := vals[0].(int64)
	id, ok2 := vals[1].(string)
	if !ok1 || !ok2 {
		return Outcome{}, fmt.Errorf("record script returned %T, %T, want integer, string", vals[0], vals[1])
	}
	return Outcome{Kind: signalv1.EventKind(kind), SignalID: id}, nil
}
